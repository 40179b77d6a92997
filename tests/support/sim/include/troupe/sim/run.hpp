// One simulated scenario, start to finish, on its own deterministic actor system: what
// troupe-sim runs per seed, and the shortest way for a framework author to run theirs.
//
//   auto r = sim::run_one(seed, spec, sim::fault_plan::of("3s crash agent-1"));
//   BOOST_CHECK_MESSAGE(r.report.problems.empty(), "seed " << seed << ...);
//   auto s = sim::sweep(spec, plan, 1, 100);   // the first failing seed, if any
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "troupe/runtime/sim_network.hpp"
#include "troupe/sim/cluster.hpp"
#include "troupe/sim/fault_plan.hpp"

namespace troupe::sim {

struct run_options {
  caf::timespan limit = std::chrono::minutes{30}; ///< virtual time before a run counts as stuck
  bool trace = false;                              ///< keep the network's routing decisions
  std::string work_root;                           ///< agents' dirs (default: /dev/shm/...)
};

struct run_result {
  run_report report;
  uint64_t trace_hash = 0;         ///< equal hashes: equal runs
  runtime::sim_stats stats;        ///< messages delivered, dropped, duplicated
  uint32_t finished = 0;           ///< copies the example framework finished
  uint32_t gave_up = 0;            ///< and gave up on
  std::vector<std::string> trace;  ///< with run_options::trace
  /// With run_options::trace: per task, every update the example framework got.
  std::map<std::string, std::vector<std::string>> updates;
};

/// Builds the cluster for `seed`, runs `plan` on it (cluster::run), stops it, drains every
/// message and timer and removes its work dirs.
run_result run_one(uint64_t seed, const cluster_spec& spec, const fault_plan& plan,
                   const run_options& options = {});

struct sweep_result {
  uint64_t runs = 0;          ///< seeds run (up to and including the first failure)
  uint64_t failed_seed = 0;   ///< valid when !ok
  bool ok = true;
  run_result failure;         ///< the first failing seed's result
};

/// run_one for `count` seeds from `first`, stopping at the first seed that breaks an
/// invariant (replay it with run_one; troupe-sim --seed replays specs it can express: the
/// example framework, no test frameworks or goal).
sweep_result sweep(const cluster_spec& spec, const fault_plan& plan, uint64_t first,
                   uint64_t count, const run_options& options = {});

} // namespace troupe::sim
