// The agent's status update manager: takes the updates executors report, checkpoints them,
// and forwards them towards the master one at a time per task, in order, retrying each with
// exponential backoff (default 10 s doubling to 10 min) until its acknowledgement arrives.
// Started with the work dir of a previous run, it recovers every unacknowledged stream from
// the checkpoints and resends their heads.
//
// Checkpoint layout: <checkpoint_dir>/<framework_id>/<task_id>.updates (status_update_log;
// long IDs are hashed). A stream whose terminal update was acknowledged stays as a tombstone, in
// memory and on disk, so late duplicates are recognised; both are dropped when the framework is
// shut down on the agent (Spine issue).
#pragma once

#include <chrono>
#include <string>

#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "troupe/messages/proto.hpp"
#include "troupe/runtime/backoff.hpp"

namespace troupe::agent {

/// Names the `pending` request.
using pending_atom = caf::atom_constant<caf::atom("pending")>;

/// Names the resend-now message.
using flush_atom = caf::atom_constant<caf::atom("suflush")>;

/// Where updates go (the agent, which relays them to the master).
using update_sink_actor = caf::typed_actor<
  /// Manager -> agent: forward this update to the master (again, on a retry).
  caf::reacts_to<v1::StatusUpdate>>;

using status_update_manager_actor = caf::typed_actor<
  /// Agent -> manager: an executor reported this update. Invalid, duplicate (same uuid) or
  /// illegal (per task_transitions) updates are dropped and logged. Idempotent per uuid.
  caf::reacts_to<v1::StatusUpdate>,
  /// Agent -> manager: the master relayed the framework's acknowledgement. Acknowledgements of
  /// anything but the update in flight are ignored. Idempotent.
  caf::reacts_to<v1::StatusUpdateAcknowledgement>,
  /// Anyone -> manager: updates not yet acknowledged, over all tasks. Idempotent.
  caf::replies_to<pending_atom>::with<uint64_t>,
  /// Agent -> manager: the agent (re)registered with a master (after a failover, the updates
  /// in flight went to a dead one): resend every stream's head now and restart its backoff.
  caf::reacts_to<flush_atom>>;

struct status_update_manager_config {
  std::string checkpoint_dir;  ///< where streams are checkpointed (required)
  runtime::exponential_backoff retry{std::chrono::seconds{10}, std::chrono::minutes{1}, 2.0};
  std::string node = "agent"; ///< logger name
  bool detached = false;      ///< own thread: its fdatasyncs never block the shared scheduler
                              ///< (daemons: yes; tests and in-process benchmarks: no)
};

/// Spawns the manager; it recovers `cfg.checkpoint_dir` first.
status_update_manager_actor spawn_status_update_manager(caf::actor_system& sys,
                                                        status_update_manager_config cfg,
                                                        update_sink_actor sink);

} // namespace troupe::agent
