// A containerizer without processes, for actor tests, simulation and benchmarks: each
// "container" is an in-process executor - the SDK's executor driver connected straight to the
// agent actor, driving a fake executor that pretends to run each task.
//
//   agent::spawn_agent(sys, acfg, master, test::fake_containerizer_factory({}));
//
// The fake executor answers Launch/LaunchGroup with TASK_RUNNING at once and, after the task's
// duration, TASK_FINISHED (exit code 0) or TASK_FAILED (any other code), exit_status set. A
// task chooses both through its labels:
//   fake.duration_ms  milliseconds until it ends (default: fake_containerizer_config)
//   fake.exit_code    its exit code (default: fake_containerizer_config)
// Kill (and Shutdown, for every task): TASK_KILLING then TASK_KILLED at once. Once it runs no
// task and the agent acknowledged its terminal updates, the executor ends and the container
// exits (wait status of exit 0). destroy ends the executor at once, whatever the grace, and
// the exit says destroyed = true (wait status of SIGKILL). All timing uses delayed_send, so it
// runs on CAF's deterministic test scheduler (virtual time) as well as on the threaded one.
// With a fake_host, executors survive an agent restart and are adopted by the next agent.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <caf/timespan.hpp>

#include "troupe/agent/agent_actor.hpp"

namespace troupe::test {

/// Label keys a task uses to tell the fake executor what to do.
inline constexpr const char* fake_duration_label = "fake.duration_ms";
inline constexpr const char* fake_exit_code_label = "fake.exit_code";

/// One simulated machine, whose executors outlive the agent that started them (as processes
/// outlive a restarting agent): they find "the agent" through the host, reconnect to the next
/// agent started with the same host, and that agent's containerizer adopts the ones its
/// checkpoints know on recovery (the rest are destroyed as orphans). reboot() is the machine
/// crashing: every executor ends at once. Without a host, executors die with their
/// containerizer.
class fake_host {
public:
  explicit fake_host(caf::actor_system& sys);
  ~fake_host();

  fake_host(const fake_host&) = delete;
  fake_host& operator=(const fake_host&) = delete;

  /// The agent is gone (crashed or stopped): executors wait, reconnecting, for the next one.
  void agent_gone();

  /// The machine crashed: every executor ends at once (and the agent is gone).
  void reboot();

  /// Executors alive on this host.
  size_t executors() const;

  struct impl;
  std::shared_ptr<impl> impl_;
};

struct fake_containerizer_config {
  caf::timespan default_duration = caf::timespan{0}; ///< tasks without fake.duration_ms
  int default_exit_code = 0;                         ///< tasks without fake.exit_code
  std::shared_ptr<fake_host> host;                   ///< executors survive agent restarts
  /// Called with every update an executor reports, as it reports it (the simulation checks
  /// that the framework receives them).
  std::function<void(const v1::TaskStatus&)> on_report;
};

/// A factory for agent::spawn_agent: each agent gets its own fake containerizer, reporting to
/// the agent it is given. launch replies container_launched{id, pid = 0} once the executor is
/// spawned (it subscribes with the agent by itself); errors as the POSIX containerizer's:
/// errc::invalid_argument (empty id or sandbox, or a TROUPE_* variable missing from the
/// environment), errc::already_exists (the id is live).
agent::containerizer_factory fake_containerizer_factory(fake_containerizer_config cfg = {});

} // namespace troupe::test
