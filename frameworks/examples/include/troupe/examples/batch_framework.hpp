// The example framework: runs N copies of a command to completion. A copy that fails (or is
// lost with its agent) is relaunched as a new task after an exponential backoff, up to
// max_attempts (losses of the machine do not count, unless lost_attempts_are_free is off); after every (re)subscription it reconciles, so updates missed while
// disconnected arrive again; every check_interval it also reconciles launched copies
// explicitly and revives while copies wait, so a lost message cannot strand a copy. When every copy has finished or given up it tears itself down
// and reports to its observer. `troupe run` is this framework with N = 1 and one attempt.
#pragma once

#include <chrono>
#include <string>

#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "troupe/messages/proto.hpp"
#include "troupe/messages/resources.hpp"
#include "troupe/runtime/backoff.hpp"
#include "troupe/sdk/scheduler_driver.hpp"

namespace troupe::examples {

using batch_done_atom = caf::atom_constant<caf::atom("batchdone")>;
using batch_subscribed_atom = caf::atom_constant<caf::atom("batchsub")>;

/// Who hears how the batch goes (a CLI printing updates, a test).
using batch_observer_actor = caf::typed_actor<
  /// The framework is subscribed (again after a master failover), with this ID.
  caf::reacts_to<batch_subscribed_atom, v1::FrameworkID>,
  /// Every status update of every task, as the framework received it.
  caf::reacts_to<v1::TaskStatus>,
  /// The master removed the framework (e.g. it was cut off beyond its failover timeout): the
  /// batch ends now, the copies not finished given up (batch_done follows).
  caf::reacts_to<v1::scheduler::Error>,
  /// The batch ended: copies finished, copies that gave up, and the last copy's exit status
  /// (-1 when unknown). The framework has torn itself down (or was removed).
  caf::reacts_to<batch_done_atom, uint32_t, uint32_t, int32_t>>;

struct batch_config {
  std::string name = "batch";      ///< task ID prefix
  uint32_t copies = 1;             ///< N
  v1::CommandInfo command;         ///< what each copy runs
  resources per_task;              ///< resources of each copy (e.g. cpus:0.1;mem:32)
  uint32_t max_attempts = 3;       ///< launches per copy before giving up
  /// Copies lost with their machine (unreachable, gone, an agent restarted without them) are
  /// relaunched without counting an attempt: the command did not fail. false: they count
  /// (`troupe run`: a command that may still be running somewhere is not started twice).
  bool lost_attempts_are_free = true;
  runtime::exponential_backoff relaunch{std::chrono::milliseconds{500},
                                        std::chrono::seconds{30}, 2.0};
  /// Every this often: reconcile copies launched at least this long ago without a final
  /// answer (a lost accept comes back as TASK_UNKNOWN and is relaunched; keep it above the
  /// master's offer timeout so a late accept cannot launch after that answer) and revive again
  /// while copies wait for offers (a lost revive would strand them).
  caf::timespan check_interval = std::chrono::seconds{40};
};

/// Spawns the framework for `driver` (use inside spawn_scheduler_driver's factory).
sdk::framework_actor spawn_batch_framework(caf::actor_system& sys,
                                           sdk::scheduler_driver_actor driver, batch_config cfg,
                                           batch_observer_actor observer);

} // namespace troupe::examples
