// A whole troupe cluster in one actor system on CAF's deterministic scheduler, every node
// behind the seeded sim_network: M master candidates ("master-1".."master-M", standalone
// contenders the harness appoints, one shared in-memory registry), N agents ("agent-1"..)
// with the fake containerizer on a fake host each (tasks "run" for a virtual duration;
// executors outlive an agent restart), the example batch framework ("framework") running T
// copies of a task, and any frameworks the test brings (each on its own node). Tests inject
// faults (below, or a fault_plan) and check the invariants as they go:
//
//   sim::cluster c{sys, seed, spec, "/dev/shm/..."};
//   c.start();
//   auto report = c.run(fixture, sim::fault_plan::parse("2s crash agent-1"), 10min);
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "troupe/messages/proto.hpp"
#include "troupe/runtime/chaos.hpp"
#include "troupe/runtime/sim_network.hpp"
#include "troupe/runtime/store/memory_store.hpp"
#include "troupe/sdk/scheduler_driver.hpp"
#include "troupe/sim/fault_plan.hpp"

namespace troupe::test {
class deterministic_fixture;
class fake_host;
} // namespace troupe::test

namespace troupe::sim {

class sim_zookeeper;

/// A framework the test brings: the SDK's scheduler driver runs it on node `node`, subscribed
/// as `info`, following the leading master.
struct framework_spec {
  std::string node;
  v1::FrameworkInfo info;
  std::function<sdk::framework_actor(caf::actor_system&, sdk::scheduler_driver_actor)> make;
};

struct cluster_spec {
  uint32_t masters = 1;                                    ///< master-1 leads first
  uint32_t agents = 3;
  std::string agent_resources = "cpus:4;mem:4096";
  uint32_t tasks = 20;                                     ///< copies the example framework
                                                           ///< runs (0: no example framework)
  std::string task_resources = "cpus:1;mem:128";
  caf::timespan task_duration = std::chrono::seconds{2};  ///< virtual run time of a task
  int task_exit_code = 0;                                  ///< its exit code (not 0: it fails,
                                                           ///< and copies giving up is the
                                                           ///< expected end)
  uint32_t max_attempts = 3;                               ///< launches per copy
  double failover_timeout_s = 60;                          ///< the example framework's
  runtime::sim_faults faults;                              ///< of every link
  std::vector<framework_spec> frameworks;                  ///< brought by the test
  /// The test's own goal (optional): run() also waits for it, and with `tasks` = 0 (no
  /// example framework) it is the goal. Called with the leader's state after every step.
  std::function<bool(const v1::MasterState&)> goal;
  /// Arms the chaos points (runtime/chaos.hpp) for the run: each one, chosen by the seed, on
  /// (probability 10-50 %) or off.
  bool chaos = false;
  /// Elect through the simulated ZooKeeper (troupe/sim/zookeeper.hpp) instead of the harness's
  /// appoint/depose: a "zk" node, every master contends with a session of `zk_session`, the
  /// registry goes through it (refused while a master cannot reach zk), and a term pauses on a
  /// lost session for a third of it as in production. Its links are TCP-like (no loss, 1-20 ms)
  /// unless the plan cuts, partitions or clogs them.
  bool zookeeper = false;
  caf::timespan zk_session = std::chrono::seconds{2};
};

/// What happened, as the harness saw it.
struct cluster_outcome {
  /// Per task ID of the example framework, the states it received, in arrival order.
  std::map<std::string, std::vector<v1::TaskState>> updates;
  /// Per task ID, which of those updates carried a UUID: the agent's reliable stream
  /// (acknowledged, retried, in order) ...
  std::map<std::string, std::vector<size_t>> stream_at;
  /// ... and which came from the master on its own: reconciliation answers, losses it declared,
  /// what it learnt from a reregistering agent (these may run ahead of the stream).
  std::map<std::string, std::vector<size_t>> master_at;
  /// Per task ID, every update as the framework got it: "TASK_RUNNING from SOURCE_EXECUTOR
  /// (REASON_...) uuid ..." (for troupe-sim --trace and failure reports).
  std::map<std::string, std::vector<std::string>> update_log;
  /// Per task ID, the states its executor reported, in order (what the agent must deliver).
  std::map<std::string, std::vector<v1::TaskState>> reported;
  /// Per leadership epoch, the candidates that served it (more than one is a violation).
  std::map<uint64_t, std::vector<uint32_t>> served;
  /// The candidates serving right now, with their epochs (more than one is a violation: the
  /// harness's election is exclusive and a deposed or crashed term ends at once).
  std::map<uint32_t, uint64_t> serving;
  /// With ZooKeeper: masters whose client is frozen (they may still believe they lead; they
  /// are left out of "one serves at a time") ...
  std::set<uint32_t> frozen;
  /// ... and violations seen the moment a term started serving: another, not frozen, served.
  std::vector<std::string> overlaps;
  bool done = false;    ///< the example framework finished its batch
  bool removed = false; ///< the master removed it (its failover timeout passed while cut off)
  uint32_t finished = 0;
  uint32_t gave_up = 0;
};

/// What cluster::run saw.
struct run_report {
  std::vector<std::string> problems; ///< invariant violations (empty: every one held)
  std::vector<std::string> faults;   ///< "t=1500ms crash agent-1", as injected, and the
                                     ///< chaos points armed ("chaos registry_slow 12 %: 3 hits")
  double virtual_s = 0;
};

class cluster {
public:
  /// Agents keep their work dirs below `work_root` (removed at the end; use tmpfs: every
  /// status update is fdatasync'ed).
  cluster(caf::actor_system& sys, uint64_t seed, cluster_spec spec, std::string work_root);
  ~cluster();

  cluster(const cluster&) = delete;
  cluster& operator=(const cluster&) = delete;

  /// Whether `spec` can run: resources that parse, at least one master and agent, delays and
  /// probabilities in range (errc::invalid_argument saying what is wrong).
  static caf::error check(const cluster_spec& spec);

  /// check(spec), and whether `plan` fits it: every node it names exists, partition groups do
  /// not overlap, only agents stop, only crashed or stopped nodes restart, fail-over names a
  /// master. troupe-sim runs it before the first seed.
  static caf::error check(const cluster_spec& spec, const fault_plan& plan);

  /// Spawns the masters, the agents and the frameworks (throws std::invalid_argument when
  /// check(spec) fails).
  void start();

  /// Advances `f`'s clock second by second (landing exactly on each fault's time), injects
  /// `plan`'s faults, and checks every invariant at each step and at the end, until the goal:
  /// the example framework finished (or, after its node crashed, the master expired it), or
  /// `limit` passed (a problem unless there is no goal).
  run_report run(test::deterministic_fixture& f, const fault_plan& plan, caf::timespan limit);

  runtime::sim_network& net() {
    return *net_;
  }

  /// The leading master candidate itself (state requests go to its term's master); null
  /// while it is crashed or after stop().
  caf::actor master() const {
    return leader_ <= candidates_.size() ? candidates_[leader_ - 1] : caf::actor{};
  }

  /// The leading master's state, or nothing when it does not answer (no serving term).
  std::optional<v1::MasterState> state(test::deterministic_fixture& f);

  static std::string agent_node(uint32_t i) {
    return "agent-" + std::to_string(i);
  }

  static std::string master_node(uint32_t i) {
    return "master-" + std::to_string(i);
  }

  static constexpr const char* framework_node = "framework";

  // -- fault injectors ---------------------------------------------------------------------

  /// Fails the master over: the leader is deposed (its term ends at once) and master `to`
  /// appointed (its term recovers the registry). Then announce_leader() (run() does, a
  /// second later).
  void fail_over(uint32_t to);

  /// Tells agents and frameworks who leads now (what a detector would): with the term's epoch
  /// from the registry, through each node's proxy of the new leader.
  void announce_leader();

  /// Master `i`'s machine crashes: its node goes down and every actor on it dies. With one
  /// master the registry is its disk: writes not synced are lost. A crashed leader stays the
  /// leader (nobody serves) until fail_over() or restart_master().
  void crash_master(uint32_t i);

  /// Master `i` starts again after a crash: a fresh candidate on its node, contending (it
  /// serves at once if it is the leader), recovering from the registry.
  void restart_master(uint32_t i);

  /// Agent `i`'s machine crashes: node down, the agent and every executor on it die.
  void crash_agent(uint32_t i);

  /// Agent `i`'s process stops; its executors keep running (and reconnecting).
  void stop_agent(uint32_t i);

  /// Agent `i` starts again from its work dir (its checkpoints): after stop_agent it adopts
  /// the executors still running, after crash_agent it finds none.
  void restart_agent(uint32_t i);

  /// The example framework's machine crashes: its node goes down, driver and framework die.
  /// The master sees its scheduler go and removes it after its failover timeout.
  void crash_framework();

  /// Applies one fault of a plan (fault_plan::parse checked its syntax); a fault that does
  /// not fit this cluster (agent-9 of 3) is an error.
  caf::error inject(const fault& what);

  uint32_t leader() const {
    return leader_;
  }

  const cluster_outcome& outcome() const {
    return *outcome_;
  }

  bool done() const {
    return outcome_->done;
  }

  // -- invariants --------------------------------------------------------------------------

  /// Violations in a master snapshot: per agent, live offers + non-terminal tasks' resources
  /// fit its total; no offer for an agent that is not registered or a framework the master
  /// does not know.
  static std::vector<std::string> check_state(const v1::MasterState& st);

  /// Violations in what the example framework saw. Per task: the agent's stream brings the
  /// executor's states in the order it reported them (repeats allowed: at-least-once) and
  /// nothing after a terminal state of its own; nothing from the stream follows a terminal
  /// state the master declared and the executor never reported (GONE, LOST, ...). At the end (`at_end`, with the master's state):
  /// every one of them arrived (unless something else ended the task: an agent or machine
  /// lost, the master), and every task is terminal or was answered TASK_UNKNOWN by
  /// reconciliation — or, once the framework finished and tore itself down, the master holds
  /// it terminal (or no longer) and every agent is back.
  std::vector<std::string> check_updates(const v1::MasterState* at_end) const;

  /// Tasks the running agents still hold non-terminal ("agent-2 runs copy-3-1 (TASK_RUNNING)"):
  /// at the goal there must be none (no orphan keeps running after its framework is done,
  /// removed, or replaced it).
  std::vector<std::string> running_on_agents(test::deterministic_fixture& f);

  /// Violations on the agents' side: what each running agent really runs (its non-terminal
  /// tasks) fits its total, whatever the master believes.
  std::vector<std::string> check_agents(test::deterministic_fixture& f);

  /// Violations of "at most one master serves per epoch" (and at a time).
  std::vector<std::string> check_masters() const;

  /// Stops every node (the fixture then drains and cancels the clock).
  void stop();

private:
  struct agent_slot;

  caf::actor spawn_candidate(uint32_t i);
  void spawn_agent(uint32_t i);
  void spawn_frameworks();
  runtime::transport& transport_of(const std::string& node);
  bool expired(const v1::MasterState& st) const;
  std::vector<std::string> stuck_report(test::deterministic_fixture& f); ///< at the limit
  std::vector<std::string> end_checks(const v1::MasterState* last) const;
  std::set<std::string> down_agent_nodes() const; ///< agents crashed or stopped right now
  std::map<uint32_t, std::vector<v1::Task>> agent_tasks(test::deterministic_fixture& f);

  caf::actor_system& sys_;
  uint64_t seed_;
  cluster_spec spec_;
  std::string root_;
  std::unique_ptr<runtime::sim_network> net_;
  std::map<std::string, std::unique_ptr<runtime::transport>> transports_; ///< by node
  std::shared_ptr<cluster_outcome> outcome_;
  std::shared_ptr<runtime::memory_store> registry_;
  std::vector<caf::actor> candidates_;
  std::vector<caf::actor> contenders_;   ///< per candidate, once it started contending
  std::vector<bool> contending_;         ///< per candidate
  std::vector<v1::MasterInfo> infos_;    ///< per candidate
  uint32_t leader_ = 1;
  std::vector<agent_slot> agents_;
  std::vector<std::pair<std::string, caf::actor>> drivers_; ///< (node, scheduler driver)
  caf::actor observer_;
  bool framework_crashed_ = false;
  runtime::chaos::probabilities chaos_{}; ///< armed at start() when the spec asks
  std::unique_ptr<sim_zookeeper> zk_;     ///< with spec.zookeeper
  uint64_t announced_epoch_ = 0;          ///< with ZooKeeper: the leader last announced
  /// With ZooKeeper: registry writes of a term older than the newest begun (must stay empty).
  std::shared_ptr<std::vector<std::string>> registry_violations_ =
    std::make_shared<std::vector<std::string>>();
};

} // namespace troupe::sim
