// What the sim sweeps share: how many seeds ($TROUPE_SIM_SEEDS, default 1,000), from where
// (seed 1, or $TROUPE_SEED), the hostile network, and a failure message naming the replay.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <boost/test/unit_test.hpp>

#include "troupe/sim/run.hpp"
#include "troupe/test/deterministic_fixture.hpp"

namespace troupe::test {

inline uint64_t sweep_seeds() {
  if (const char* env = std::getenv("TROUPE_SIM_SEEDS"); env != nullptr && *env != '\0')
    return std::stoull(env);
  return 1000;
}

/// The hostile envelope on every link of `spec`: 10 % lost, 10 % duplicated, 30 % free to
/// overtake, 1-400 ms; chaos points armed.
inline void make_hostile(sim::cluster_spec& spec) {
  using namespace std::chrono_literals;
  spec.faults.drop = 0.1;
  spec.faults.duplicate = 0.1;
  spec.faults.reorder = 0.3;
  spec.faults.min_delay = 1ms;
  spec.faults.max_delay = 400ms;
  spec.chaos = true;
}

/// Sweeps `spec` under `plan`: seeds 1..N unless TROUPE_SEED names another start, so CI runs
/// the same seeds every time. A failing seed fails the test case `suite/name`, with its
/// problems and the command that replays it.
inline void check_sweep(const std::string& suite, const std::string& name,
                        const sim::cluster_spec& spec, const char* plan) {
  uint64_t first = std::getenv("TROUPE_SEED") != nullptr ? test_seed() : 1;
  auto result = sim::sweep(spec, sim::fault_plan::of(plan), first, sweep_seeds());
  std::string problems;
  for (const auto& p : result.failure.report.problems)
    problems += "\n  " + p;
  BOOST_CHECK_MESSAGE(result.ok, name << ": seed " << result.failed_seed << " broke an invariant "
                                      << "(replay: TROUPE_SEED=" << result.failed_seed
                                      << " TROUPE_SIM_SEEDS=1 sim_tests --run_test=" << suite
                                      << "/" << name << "):" << problems);
  BOOST_TEST_MESSAGE(name << ": " << result.runs << " seeds from " << first);
}

} // namespace troupe::test
