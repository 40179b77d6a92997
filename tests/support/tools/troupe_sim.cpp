// troupe-sim: runs one simulated cluster scenario (tests/support sim_cluster on the
// deterministic scheduler, every message through the seeded sim_network) per seed and prints
// the seed, the faults injected and the invariant results.
//
//   troupe-sim --seed 7 [--spec scenario.toml] [--trace] [--replay]
//   troupe-sim --seeds 1..1000 --drop 0.02 --agents 5 --tasks 50
//
// A spec file holds the same keys as the flags (INI/TOML, e.g. `drop = 0.02`). --replay runs
// each seed twice and checks the two runs are the same bit for bit (equal trace hashes);
// --trace prints every routing decision. Exit status: 0 when every invariant held for every
// seed, 1 otherwise (the failing seeds are listed with the command that replays them).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <caf/scoped_actor.hpp>

#include "troupe/master/master_actor.hpp"
#include "troupe/test/deterministic_fixture.hpp"
#include "troupe/test/sim_cluster.hpp"

using namespace std::chrono_literals;
using namespace troupe;

namespace {

struct options {
  uint64_t seed = 1;
  std::string seeds;           // "A..B"
  test::sim_cluster_spec spec;
  double min_delay_ms = 1, max_delay_ms = 30;
  double duration_s = 2;
  uint32_t partition_agent = 0; // 0 = none
  double partition_at_s = 1.5, partition_for_s = 20;
  double limit_s = 1800;
  bool trace = false;
  bool replay = false;
};

struct result {
  std::vector<std::string> problems;
  std::vector<std::string> faults;
  uint64_t hash = 0;
  runtime::sim_stats stats;
  double virtual_s = 0;
  uint32_t finished = 0, gave_up = 0;
};

v1::MasterState state_of(test::deterministic_fixture& f, const caf::actor& master) {
  caf::scoped_actor self{f.sys};
  self->send(master, master::state_atom::value);
  f.run();
  v1::MasterState out;
  self->receive([&](v1::MasterState& st) { out = std::move(st); }, caf::after(0s) >> [] {});
  return out;
}

result run_seed(uint64_t seed, const options& o) {
  result r;
  test::deterministic_fixture f;
  auto spec = o.spec;
  spec.faults.min_delay = std::chrono::duration_cast<caf::timespan>(
    std::chrono::duration<double, std::milli>(o.min_delay_ms));
  spec.faults.max_delay = std::chrono::duration_cast<caf::timespan>(
    std::chrono::duration<double, std::milli>(o.max_delay_ms));
  spec.task_duration = std::chrono::duration_cast<caf::timespan>(
    std::chrono::duration<double>(o.duration_s));
  {
    test::sim_cluster c{f.sys, seed, spec,
                        "/dev/shm/troupe-sim-" + std::to_string(getpid()) + "-"
                          + std::to_string(seed)};
    c.net().set_tracing(o.trace);
    c.start();
    auto start = f.now();
    auto limit = std::chrono::duration_cast<caf::timespan>(std::chrono::duration<double>(o.limit_s));
    auto part_at = std::chrono::duration_cast<caf::timespan>(
      std::chrono::duration<double>(o.partition_at_s));
    auto part_end = part_at + std::chrono::duration_cast<caf::timespan>(
                                std::chrono::duration<double>(o.partition_for_s));
    bool cut = false, healed = false;
    while (!c.done() && f.now() - start < limit && r.problems.empty()) {
      auto t = f.now() - start;
      if (o.partition_agent > 0 && !cut && t >= part_at) {
        c.net().partition({test::sim_cluster::agent_node(o.partition_agent)},
                          {test::sim_cluster::master_node(1), "framework"});
        r.faults.push_back("t=" + std::to_string(t.count() / 1000000) + "ms partition "
                           + test::sim_cluster::agent_node(o.partition_agent)
                           + " | master-1, framework");
        cut = true;
      }
      if (cut && !healed && t >= part_end) {
        c.net().heal();
        r.faults.push_back("t=" + std::to_string(t.count() / 1000000) + "ms heal");
        healed = true;
      }
      caf::timespan step = 1s; // but land exactly on the fault times
      if (o.partition_agent > 0 && !cut && part_at - t < step)
        step = part_at - t;
      else if (cut && !healed && part_end - t < step)
        step = part_end - t;
      f.advance(std::max(step, caf::timespan{std::chrono::milliseconds{1}}));
      r.problems = test::sim_cluster::check_state(state_of(f, c.master()));
      for (auto& p : c.check_updates(false))
        r.problems.push_back(std::move(p));
    }
    if (r.problems.empty() && !c.done())
      r.problems.push_back("the framework did not finish within the limit");
    for (auto& p : c.check_updates(true))
      r.problems.push_back(std::move(p));
    r.virtual_s = std::chrono::duration<double>(f.now() - start).count();
    r.hash = c.net().trace_hash();
    r.stats = c.net().stats();
    r.finished = c.outcome().finished;
    r.gave_up = c.outcome().gave_up;
    if (r.gave_up > 0)
      r.problems.push_back(std::to_string(r.gave_up) + " copies gave up");
    if (o.trace)
      for (const auto& line : c.net().trace())
        std::cout << "  " << line << '\n';
    c.stop();
    f.run();
    f.sched.clock().cancel_all();
    f.run();
  }
  return r;
}

bool parse_range(const std::string& text, uint64_t& from, uint64_t& to) {
  auto dots = text.find("..");
  if (dots == std::string::npos)
    return false;
  try {
    from = std::stoull(text.substr(0, dots));
    to = std::stoull(text.substr(dots + 2));
  } catch (const std::exception&) {
    return false;
  }
  return from <= to;
}

} // namespace

int main(int argc, char** argv) {
  options o;
  o.spec.faults.drop = 0.0;
  CLI::App app{"troupe-sim: simulated cluster scenarios with seeded faults and invariants"};
  app.set_config("--spec", "", "scenario file (INI/TOML with the keys of these flags)");
  app.add_option("--seed", o.seed, "the seed of one run")->capture_default_str();
  app.add_option("--seeds", o.seeds, "a sweep: A..B (inclusive)");
  app.add_option("--agents", o.spec.agents, "simulated agents")->capture_default_str()
    ->check(CLI::Range(1u, 100000u));
  app.add_option("--tasks", o.spec.tasks, "copies the example framework runs")
    ->capture_default_str()->check(CLI::Range(1u, 1000000u));
  app.add_option("--agent-resources", o.spec.agent_resources)->capture_default_str();
  app.add_option("--task-resources", o.spec.task_resources)->capture_default_str();
  app.add_option("--task-duration", o.duration_s, "seconds a task runs")->capture_default_str()
    ->check(CLI::Range(0.0, 86400.0));
  app.add_option("--drop", o.spec.faults.drop, "probability a message is lost")
    ->capture_default_str()->check(CLI::Range(0.0, 0.5));
  app.add_option("--duplicate", o.spec.faults.duplicate, "probability it arrives twice")
    ->capture_default_str()->check(CLI::Range(0.0, 0.5));
  app.add_option("--min-delay-ms", o.min_delay_ms)->capture_default_str()
    ->check(CLI::Range(0.0, 60000.0));
  app.add_option("--max-delay-ms", o.max_delay_ms)->capture_default_str()
    ->check(CLI::Range(0.0, 60000.0));
  app.add_option("--partition-agent", o.partition_agent,
                 "cut this agent (1-based) off from master and framework (0: none)")
    ->capture_default_str();
  app.add_option("--partition-at", o.partition_at_s, "seconds after start")->capture_default_str();
  app.add_option("--partition-for", o.partition_for_s, "seconds until healed")
    ->capture_default_str();
  app.add_option("--limit", o.limit_s, "virtual seconds before a run counts as stuck")
    ->capture_default_str();
  app.add_flag("--trace", o.trace, "print every routing decision");
  app.add_flag("--replay", o.replay, "run each seed twice and compare the runs");
  CLI11_PARSE(app, argc, argv);
  if (o.min_delay_ms > o.max_delay_ms) {
    std::cerr << "--min-delay-ms must not exceed --max-delay-ms\n";
    return 2;
  }
  if (o.partition_agent > o.spec.agents) {
    std::cerr << "--partition-agent " << o.partition_agent << ": there are only "
              << o.spec.agents << " agents\n";
    return 2;
  }
  uint64_t from = o.seed, to = o.seed;
  if (!o.seeds.empty() && !parse_range(o.seeds, from, to)) {
    std::cerr << "--seeds " << o.seeds << ": want A..B with A <= B\n";
    return 2;
  }
  std::vector<uint64_t> failed;
  for (uint64_t seed = from; seed <= to; ++seed) {
    auto r = run_seed(seed, o);
    if (o.replay) {
      auto again = run_seed(seed, o);
      if (again.hash != r.hash)
        r.problems.push_back("not deterministic: trace hash " + std::to_string(r.hash)
                             + " then " + std::to_string(again.hash));
    }
    std::printf("seed %llu: %s — %u finished, %u gave up, %.0f s virtual; %llu delivered, "
                "%llu dropped, %llu duplicated; trace %016llx\n",
                static_cast<unsigned long long>(seed), r.problems.empty() ? "ok" : "FAILED",
                r.finished, r.gave_up, r.virtual_s,
                static_cast<unsigned long long>(r.stats.delivered),
                static_cast<unsigned long long>(r.stats.dropped),
                static_cast<unsigned long long>(r.stats.duplicated),
                static_cast<unsigned long long>(r.hash));
    for (const auto& f : r.faults)
      std::printf("  fault: %s\n", f.c_str());
    for (const auto& p : r.problems)
      std::printf("  invariant: %s\n", p.c_str());
    if (!r.problems.empty())
      failed.push_back(seed);
    if (seed == UINT64_MAX)
      break;
  }
  if (!failed.empty()) {
    std::printf("%zu of %llu seeds failed; replay one: %s --seed %llu", failed.size(),
                static_cast<unsigned long long>(to - from + 1), argv[0],
                static_cast<unsigned long long>(failed.front()));
    for (int i = 1; i < argc; ++i)
      if (std::string{argv[i]} != "--seeds" && (i == 1 || std::string{argv[i - 1]} != "--seeds")
          && std::string{argv[i]} != "--seed" && (i == 1 || std::string{argv[i - 1]} != "--seed"))
        std::printf(" %s", argv[i]);
    std::printf(" --trace\n");
    return 1;
  }
  return 0;
}
