// The agent node's main actor: registers with the master (retrying with backoff), answers its
// pings, launches each task's executor in a container through the containerizer, relays
// executor updates through the status update manager (checkpointed, retried until
// acknowledged) and kills tasks on request.
//
// The wire side is protocols::agent_actor (messages/include/troupe/protocols/agent.hpp); this
// header adds what only actors of the agent node send it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "troupe/isolation/containerizer.hpp"
#include "troupe/messages/proto.hpp"
#include "troupe/protocols/agent.hpp"
#include "troupe/protocols/master.hpp"
#include "troupe/runtime/backoff.hpp"
#include "troupe/runtime/election/election.hpp"
#include "troupe/runtime/supervision/supervisor.hpp"

namespace troupe::agent {

/// Names the snapshot request (tests, tools, the HTTP edge).
using agent_state_atom = caf::atom_constant<caf::atom("agstate")>;

/// Names the helpers request (tests, tools).
using helpers_atom = caf::atom_constant<caf::atom("aghelpers")>;

/// Names the executor endpoint update.
using executor_endpoint_atom = caf::atom_constant<caf::atom("execep")>;

using agent_node_actor = protocols::agent_actor::extend<
  /// Status update manager -> agent: send this update to the master (first time or retry).
  caf::reacts_to<v1::StatusUpdate>,
  /// Containerizer -> agent: a container's main process ended.
  caf::reacts_to<isolation::container_exited>,
  /// Anyone on the node -> agent: its ID (empty before registration) and its tasks.
  caf::replies_to<agent_state_atom>::with<v1::AgentID, std::vector<v1::Task>>,
  /// Node main -> agent: executors connect to this host:port (known once the agent actor is
  /// published, when it was published on port 0).
  caf::reacts_to<executor_endpoint_atom, std::string>,
  /// Tests, tools -> agent: its current status update manager and containerizer (an invalid
  /// handle while one waits for its restart).
  caf::replies_to<helpers_atom>::with<caf::actor, caf::actor>,
  /// Leader connector -> agent: `master` (described by the MasterInfo) leads now; the agent
  /// (re)registers with it. Ignored when its epoch is older than one the agent has seen.
  caf::reacts_to<runtime::election::leader_atom, caf::actor, v1::MasterInfo>>;

/// Makes the agent's containerizer; the agent passes itself as the watcher.
using containerizer_factory = std::function<isolation::containerizer_actor(
  caf::actor_system&, isolation::container_watcher_actor)>;

struct agent_config {
  v1::AgentInfo info;              ///< hostname, actor port (executors connect there), resources
  std::string work_dir;            ///< sandboxes and checkpoints live below it (required)
  /// This process's token in RegisterAgent: unique per process (troupe-agent draws one at
  /// start; the simulator derives one per restart). Empty: drawn from the agent's seeded
  /// random stream, which repeats for a restart with the same seed, host and port.
  std::string incarnation;
  std::string executor_path;       ///< the command executor binary (troupe-executor)
  std::string executor_endpoint;   ///< host:port executors connect to (the agent's actors);
                                   ///< empty: wait for executor_endpoint_atom to register
  runtime::exponential_backoff registration{std::chrono::seconds{1}, std::chrono::seconds{30},
                                            2.0}; ///< retry of (re)registration
  /// Status update retry: 10 s doubling to at most 1 min (Mesos: 10 min). The cap bounds how
  /// long a healed cluster takes to deliver what the network lost: a pending update goes out
  /// at least once a minute.
  runtime::exponential_backoff update_retry{std::chrono::seconds{10}, std::chrono::minutes{1},
                                            2.0};
  caf::timespan executor_register_timeout = std::chrono::minutes{1}; ///< subscribe in time
  caf::timespan executor_recovery_timeout = std::chrono::minutes{15}; ///< executors wait this
                                   ///< long for a restarted agent before they end their tasks
  caf::timespan default_grace = std::chrono::seconds{3};  ///< kill grace without a policy
  double executor_overhead_cpus = 0.1;   ///< added to the tasks' cpus for troupe's executors
  double executor_overhead_mem_mb = 32;  ///< added to the tasks' mem for troupe's executors
  double master_silence_pings = 5.0; ///< reregister after this many ping intervals of silence
                                     ///< (the master's default max_missed_pings)
  bool detached_updates = false;     ///< run the status update manager on its own thread
  /// How the agent restarts its status update manager and containerizer when one crashes
  /// (see spawn_agent); the strategy is one_for_one.
  runtime::supervisor_config helpers = default_helper_supervision();
  uint64_t seed = 1;                 ///< cluster seed (update uuids)
  std::string node = "agent";        ///< logger name

  /// 1 s doubling to 30 s, at most 5 restarts within 5 minutes.
  static runtime::supervisor_config default_helper_supervision();
};

/// Spawns the agent; it registers with `master` at once (an invalid `master`: once a leader
/// connector names one).
///
/// Supervision (`troupe-agent --print-supervision`): the agent supervises its status update
/// manager and its containerizer, both linked to it, one_for_one with `cfg.helpers`:
///   status update manager crashes -> restarted after backoff; it reloads every checkpointed
///       stream and resends their heads. Updates reported meanwhile wait in the agent; an
///       acknowledgement relayed meanwhile is dropped (the update is resent). Updates that
///       were in its mailbox, not yet checkpointed, are not resent as such: the agent
///       reregisters after the restart, reporting each task's latest state to the master.
///   containerizer crashes -> its containers end with it (it kills what it launched on exit);
///       their tasks fail at once (REASON_AGENT_RESTARTED); launches wait for the new one.
///   either one more than `max_restarts` times within `window` -> the agent ends with
///       errc::supervisor_gave_up, and with it the process (troupe-agent exits 1): a process
///       supervisor (systemd) starts it again and it recovers from its checkpoints.
///   the agent crashes -> both helpers end with it (the link); the same as above.
agent_node_actor spawn_agent(caf::actor_system& sys, agent_config cfg,
                             protocols::master_actor master, containerizer_factory containerizer);

/// The agent node's supervision tree as text (troupe-agent --print-supervision).
std::string agent_supervision_tree();

} // namespace troupe::agent
