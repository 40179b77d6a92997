// The command executor: runs each task's command (CommandInfo, shell or exec) as a child
// process leading its own process group in the sandbox, reports TASK_RUNNING, then
// TASK_FINISHED (exit 0), TASK_FAILED (with exit_status and "exited with status N" or the
// signal) or TASK_KILLED. Kill: TASK_KILLING, SIGTERM to the task's group, SIGKILL after the
// grace period. Serves Launch and LaunchGroup alike, so it is also the default executor of
// task groups. Once every task has ended and every terminal update is acknowledged, it ends
// (and the troupe-executor process with it).
#pragma once

#include <chrono>

#include <caf/fwd.hpp>

#include "troupe/protocols/executor.hpp"
#include "troupe/sdk/executor_driver.hpp"

namespace troupe::executors {

struct command_executor_config {
  caf::timespan reap_interval = std::chrono::milliseconds{20}; ///< how often children are polled
  caf::timespan default_grace = std::chrono::seconds{3};       ///< kill grace without a policy
  std::string sandbox = ".";                                   ///< where tasks run
  uint64_t seed = 1;              ///< cluster seed: terminal update uuids come from a seeded
  std::string container_id;       ///< generator per container (replayable in simulation)
};

/// Spawns the command executor (detached: it makes blocking system calls) for `driver`.
protocols::executor_actor spawn_command_executor(caf::actor_system& sys,
                                                 sdk::executor_driver_actor driver,
                                                 command_executor_config cfg);

} // namespace troupe::executors
