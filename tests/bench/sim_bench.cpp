// Simulation benchmark: how fast whole simulated clusters run (tests/support/sim's sim::cluster
// on the deterministic scheduler, every message through the seeded sim_network).
//   small  the sim test's cluster (3 agents, 20 tasks of 2 s, 1-30 ms delays, 2 % loss):
//          seeds per second over --seeds runs
//   large  1,000 agents (cpus:8;mem:8192) and 10,000 tasks (cpus:0.5;mem:128, 10 s each) with
//          1-30 ms delays, 1 % duplicates and 0.5 % loss: real time until the batch is done
//          (--runs, median), virtual time it covered, messages routed
//   faults the small cluster with two masters under a fault plan (agent crash and restart,
//          fail-over, agent stop and restart), chaos armed, every invariant checked after
//          every step (sim::run_one, as troupe-sim and the sweeps run): seeds per second
//   sim-bench [--seeds 200] [--runs 3] [--quick]
// A benchmark, not a test: it never asserts timings (it does report unfinished runs).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "troupe/test/deterministic_fixture.hpp"
#include "troupe/sim/cluster.hpp"
#include "troupe/sim/run.hpp"

using namespace std::chrono_literals;
using namespace troupe;
using steady = std::chrono::steady_clock;

namespace {

struct run_result {
  double seconds = 0;        ///< real time
  double virtual_s = 0;      ///< simulated time until done
  uint64_t messages = 0;     ///< routed (delivered + dropped)
  bool done = false;
};

run_result run_one(uint64_t seed, const sim::cluster_spec& spec, caf::timespan limit) {
  run_result out;
  test::deterministic_fixture f;
  auto t0 = steady::now();
  {
    sim::cluster c{f.sys, seed, spec,
                        "/dev/shm/troupe-sim-bench-" + std::to_string(getpid()) + "-"
                          + std::to_string(seed)};
    c.start();
    auto start = f.now();
    while (!c.done() && f.now() - start < limit)
      f.advance(1s);
    out.done = c.done();
    out.virtual_s = std::chrono::duration<double>(f.now() - start).count();
    out.messages = c.net().stats().delivered + c.net().stats().dropped;
    c.stop();
    f.run();
    f.sched.clock().cancel_all();
    f.run();
  }
  out.seconds = std::chrono::duration<double>(steady::now() - t0).count();
  return out;
}

double median(std::vector<double> xs) {
  std::sort(xs.begin(), xs.end());
  return xs[xs.size() / 2];
}

} // namespace

int main(int argc, char** argv) {
  int seeds = 200, runs = 3;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seeds") == 0 && i + 1 < argc)
      seeds = std::max(1, std::atoi(argv[++i]));
    else if (std::strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
      runs = std::max(1, std::atoi(argv[++i]));
    else if (std::strcmp(argv[i], "--quick") == 0)
      quick = true;
    else {
      std::fprintf(stderr, "usage: sim-bench [--seeds N] [--runs N] [--quick]\n");
      return 2;
    }
  }
  if (quick) {
    seeds = 20;
    runs = 1;
  }
  sim::cluster_spec small;
  small.faults.min_delay = 1ms;
  small.faults.max_delay = 30ms;
  small.faults.drop = 0.02;
  auto t0 = steady::now();
  int unfinished = 0;
  for (int s = 0; s < seeds; ++s)
    unfinished += run_one(1000 + s, small, 30min).done ? 0 : 1;
  double took = std::chrono::duration<double>(steady::now() - t0).count();
  std::printf("small: %d seeds (3 agents, 20 tasks, 2 %% loss) in %.1f s: %.0f seeds/s%s\n",
              seeds, took, seeds / took,
              unfinished > 0 ? (" — " + std::to_string(unfinished) + " did not finish").c_str()
                             : "");
  sim::cluster_spec faulty = small;
  faulty.masters = 2;
  faulty.chaos = true;
  auto plan = sim::fault_plan::of(R"(
    1s crash agent-1
    2s fail-over master-2
    3s stop agent-2
    6s restart agent-2
    9s restart agent-1)");
  t0 = steady::now();
  int failed = 0;
  for (int s = 0; s < seeds; ++s)
    failed += sim::run_one(2000 + s, faulty, plan).report.problems.empty() ? 0 : 1;
  took = std::chrono::duration<double>(steady::now() - t0).count();
  std::printf("faults: %d seeds (2 masters, crash/fail-over/stop/restart, chaos, invariants "
              "every step) in %.1f s: %.0f seeds/s%s\n",
              seeds, took, seeds / took,
              failed > 0 ? (" — " + std::to_string(failed) + " broke an invariant").c_str() : "");
  sim::cluster_spec large;
  large.agents = quick ? 100 : 1000;
  large.tasks = quick ? 1000 : 10000;
  large.agent_resources = "cpus:8;mem:8192";
  large.task_resources = "cpus:0.5;mem:128";
  large.task_duration = 10s;
  large.faults.min_delay = 1ms;
  large.faults.max_delay = 30ms;
  large.faults.duplicate = 0.01;
  large.faults.drop = 0.005;
  std::vector<double> secs, virt, msgs;
  for (int r = 0; r < runs; ++r) {
    auto res = run_one(42 + r, large, 30min);
    secs.push_back(res.seconds);
    virt.push_back(res.virtual_s);
    msgs.push_back(static_cast<double>(res.messages));
    if (!res.done)
      std::printf("large run %d did not finish within 30 virtual minutes\n", r);
  }
  std::printf("large: %u agents, %u tasks (0.5 %% loss, 1 %% duplicates): %.1f s real (median "
              "of %d), %.0f s virtual, %.0f messages routed\n",
              large.agents, large.tasks, median(secs), runs, median(virt), median(msgs));
}
