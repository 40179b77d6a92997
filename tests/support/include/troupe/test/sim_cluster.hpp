// A whole troupe cluster in one actor system on CAF's deterministic scheduler, every node
// behind the seeded sim_network: M master candidates ("master-1".."master-M", standalone
// contenders the harness appoints, one shared in-memory registry), N agents ("agent-1"..)
// with the fake containerizer (tasks "run" for a virtual duration), and the example batch
// framework ("framework") running T copies of a task. Tests drive it with the fixture's
// virtual clock, inject faults through net(), and check the invariants as they go.
//
//   sim_cluster c{sys, seed, spec, "/dev/shm/..."};
//   c.start();
//   while (!c.done() && elapsed < limit) { advance(1s); c.check(state()); }
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "troupe/messages/proto.hpp"
#include "troupe/runtime/sim_network.hpp"
#include "troupe/runtime/store/store.hpp"

namespace troupe::test {

struct sim_cluster_spec {
  uint32_t masters = 1;                                    ///< master-1 leads first
  uint32_t agents = 3;
  std::string agent_resources = "cpus:4;mem:4096";
  uint32_t tasks = 20;                                     ///< copies the framework runs
  std::string task_resources = "cpus:1;mem:128";
  caf::timespan task_duration = std::chrono::seconds{2};  ///< virtual run time of a task
  uint32_t max_attempts = 3;                               ///< launches per copy
  double failover_timeout_s = 60;                          ///< the framework's (survives a
                                                           ///< master failover)
  runtime::sim_faults faults;                              ///< of every link
};

/// What the framework saw, and what it reported at the end.
struct sim_outcome {
  std::map<std::string, std::vector<v1::TaskState>> updates; ///< per task ID, in arrival order
  bool done = false;
  uint32_t finished = 0;
  uint32_t gave_up = 0;
};

class sim_cluster {
public:
  /// Agents keep their work dirs below `work_root` (removed at the end; use tmpfs: every
  /// status update is fdatasync'ed).
  sim_cluster(caf::actor_system& sys, uint64_t seed, sim_cluster_spec spec,
              std::string work_root);
  ~sim_cluster();

  sim_cluster(const sim_cluster&) = delete;
  sim_cluster& operator=(const sim_cluster&) = delete;

  /// Spawns the master, the agents and the framework.
  void start();

  runtime::sim_network& net() {
    return *net_;
  }

  /// The leading master candidate itself (state requests go to its term's master).
  const caf::actor& master() const {
    return candidates_[leader_ - 1];
  }

  static std::string agent_node(uint32_t i) {
    return "agent-" + std::to_string(i);
  }

  static std::string master_node(uint32_t i) {
    return "master-" + std::to_string(i);
  }

  /// Fails the master over: the leader is deposed (its term ends at once) and master `to`
  /// appointed (its term recovers the registry). Advance time, then announce_leader().
  void fail_over(uint32_t to);

  /// Tells agents and the framework who leads now (what a detector would): with the term's
  /// epoch from the registry, through each node's proxy of the new leader.
  void announce_leader();

  uint32_t leader() const {
    return leader_;
  }

  const sim_outcome& outcome() const {
    return *outcome_;
  }

  bool done() const {
    return outcome_->done;
  }

  /// Invariant violations in a master snapshot: per agent, live offers + non-terminal tasks'
  /// resources fit its total; no offer for an agent that is not registered.
  static std::vector<std::string> check_state(const v1::MasterState& st);

  /// Invariant violations in what the framework saw: per task, nothing after a terminal state
  /// or TASK_UNKNOWN but repeats of it (updates are at-least-once); at the end every task is
  /// terminal or was answered TASK_UNKNOWN by reconciliation (never launched).
  std::vector<std::string> check_updates(bool at_end) const;

  /// Stops every node (the fixture then drains and cancels the clock).
  void stop();

private:
  caf::actor_system& sys_;
  uint64_t seed_;
  sim_cluster_spec spec_;
  std::string root_;
  std::unique_ptr<runtime::sim_network> net_;
  std::vector<std::unique_ptr<runtime::transport>> transports_;
  std::shared_ptr<sim_outcome> outcome_;
  std::shared_ptr<runtime::store> registry_;
  std::vector<caf::actor> candidates_;
  std::vector<caf::actor> contenders_;   ///< per candidate, once it started contending
  std::vector<bool> contending_;         ///< per candidate
  std::vector<v1::MasterInfo> infos_;    ///< per candidate
  uint32_t leader_ = 1;
  std::vector<caf::actor> agents_;
  caf::actor driver_;
  caf::actor observer_;
};

} // namespace troupe::test
