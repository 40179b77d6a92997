// troupe-sim: runs one simulated cluster scenario (tests/support/sim's sim::cluster on the
// deterministic scheduler, every message through the seeded sim_network) per seed and prints
// the seed, the faults injected and the invariant results.
//
//   troupe-sim --seed 7 [--spec scenario.toml] [--trace] [--replay]
//   troupe-sim --seeds 1..1000 --drop 0.02 --agents 5 --tasks 50
//   troupe-sim --seeds 1..100 --fault "3s stop agent-1" --fault "6s restart agent-1"
//
// A spec file holds the same keys as the flags (INI/TOML, e.g. `drop = 0.02`, and the fault
// plan as `fault = ["3s crash agent-1", "33s restart agent-1"]`). --replay runs
// each seed twice and checks the two runs are the same bit for bit (equal trace hashes);
// --trace prints every routing decision. Exit status: 0 when every invariant held for every
// seed, 1 otherwise (the failing seeds are listed with the command that replays them).

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "troupe/messages/errc.hpp"
#include "troupe/sim/run.hpp"

using namespace std::chrono_literals;
using namespace troupe;

namespace {

struct options {
  uint64_t seed = 1;
  std::string seeds;           // "A..B"
  sim::cluster_spec spec;
  double min_delay_ms = 1, max_delay_ms = 30;
  double duration_s = 2;
  std::vector<std::string> faults; // fault plan lines
  double limit_s = 1800;
  double zk_session_s = 2;
  bool trace = false;
  bool replay = false;
};

caf::timespan seconds(double s) {
  return std::chrono::duration_cast<caf::timespan>(std::chrono::duration<double>(s));
}

sim::cluster_spec spec_of(const options& o) {
  auto spec = o.spec;
  spec.faults.min_delay = seconds(o.min_delay_ms / 1000);
  spec.faults.max_delay = seconds(o.max_delay_ms / 1000);
  spec.task_duration = seconds(o.duration_s);
  spec.zk_session = seconds(o.zk_session_s);
  return spec;
}

sim::run_result run_seed(uint64_t seed, const options& o, const sim::fault_plan& plan,
                         bool print_trace) {
  sim::run_options ro;
  ro.limit = seconds(o.limit_s);
  ro.trace = o.trace && print_trace;
  auto r = sim::run_one(seed, spec_of(o), plan, ro);
  for (const auto& line : r.trace)
    std::cout << "  " << line << '\n';
  for (const auto& [task, lines] : r.updates)
    for (const auto& line : lines)
      std::cout << "  update " << task << ": " << line << '\n';
  return r;
}

// A whole decimal number, nothing else ("12"; not "-1", "1x" or "").
bool parse_seed(const std::string& text, uint64_t& out) {
  if (text.empty() || text.size() > 20
      || text.find_first_not_of("0123456789") != std::string::npos)
    return false;
  try {
    out = std::stoull(text);
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

// "A..B" (inclusive, A <= B) or one seed "N".
bool parse_range(const std::string& text, uint64_t& from, uint64_t& to) {
  auto dots = text.find("..");
  if (dots == std::string::npos)
    return parse_seed(text, from) && parse_seed(text, to);
  return parse_seed(text.substr(0, dots), from) && parse_seed(text.substr(dots + 2), to)
         && from <= to;
}

// A shell word: quoted unless it is plainly safe.
std::string shell_word(const std::string& arg) {
  if (!arg.empty()
      && arg.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                               "_./:=,+-")
           == std::string::npos)
    return arg;
  std::string out = "'";
  for (char c : arg)
    out += c == '\'' ? std::string{"'\\''"} : std::string(1, c);
  return out + "'";
}

// The command that replays one seed: every argument but the seed selection, then that seed
// (as --seeds N..N, which also overrides a spec file's seeds) and --trace.
std::string replay_command(int argc, char** argv, uint64_t seed) {
  std::string out = shell_word(argv[0]);
  bool trace = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--seed" || arg == "--seeds") {
      ++i; // and its value
      continue;
    }
    if (arg.rfind("--seed=", 0) == 0 || arg.rfind("--seeds=", 0) == 0)
      continue;
    trace = trace || arg == "--trace";
    out += " " + shell_word(arg);
  }
  out += " --seeds " + std::to_string(seed) + ".." + std::to_string(seed);
  return trace ? out : out + " --trace";
}

} // namespace

int main(int argc, char** argv) {
  options o;
  std::string log_level = "warn";
  CLI::App app{"troupe-sim: simulated cluster scenarios with seeded faults and invariants"};
  app.set_config("--spec", "", "scenario file (INI/TOML with the keys of these flags)");
  app.allow_config_extras(CLI::config_extras_mode::error);
  app.add_option("--seed", o.seed, "the seed of one run")->capture_default_str();
  app.add_option("--seeds", o.seeds, "a sweep: A..B (inclusive), or one seed N; wins over --seed");
  app.add_option("--agents", o.spec.agents, "simulated agents")->capture_default_str()
    ->check(CLI::Range(1u, 100000u));
  app.add_option("--tasks", o.spec.tasks, "copies the example framework runs")
    ->capture_default_str()->check(CLI::Range(1u, 1000000u));
  app.add_option("--agent-resources", o.spec.agent_resources)->capture_default_str();
  app.add_option("--task-resources", o.spec.task_resources)->capture_default_str();
  app.add_option("--task-duration", o.duration_s, "seconds a task runs")->capture_default_str()
    ->check(CLI::Range(0.0, 86400.0));
  app.add_option("--task-exit-code", o.spec.task_exit_code,
                 "exit code of every task (not 0: tasks fail and copies give up)")
    ->capture_default_str();
  app.add_option("--reorder", o.spec.faults.reorder,
                 "probability a message may overtake earlier ones between two actors")
    ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  app.add_option("--drop", o.spec.faults.drop, "probability a message is lost")
    ->capture_default_str()->check(CLI::Range(0.0, 0.5));
  app.add_option("--duplicate", o.spec.faults.duplicate, "probability it arrives twice")
    ->capture_default_str()->check(CLI::Range(0.0, 0.5));
  app.add_option("--min-delay-ms", o.min_delay_ms)->capture_default_str()
    ->check(CLI::Range(0.0, 60000.0));
  app.add_option("--max-delay-ms", o.max_delay_ms)->capture_default_str()
    ->check(CLI::Range(0.0, 60000.0));
  app.add_option("--masters", o.spec.masters, "master candidates (master-1 leads first)")
    ->capture_default_str()->check(CLI::Range(1u, 9u));
  app.add_option("--failover-timeout", o.spec.failover_timeout_s,
                 "the example framework's failover timeout, seconds")->capture_default_str()
    ->check(CLI::Range(0.0, 86400.0));
  app.add_option("--fault", o.faults,
                 "one fault of the plan, e.g. \"3s crash agent-1\" (repeat it; in a spec file: "
                 "fault = [\"...\", ...]; the language: tests/support/sim/README.md)");
  app.add_option("--limit", o.limit_s, "virtual seconds before a run counts as stuck")
    ->capture_default_str()->check(CLI::PositiveNumber);
  app.add_flag("--chaos", o.spec.chaos,
               "arm the chaos points (which ones, and how often, chosen by the seed)");
  app.add_flag("--zookeeper", o.spec.zookeeper,
               "elect and keep the registry through a simulated ZooKeeper (node \"zk\"; plans "
               "gain expire, freeze and thaw)");
  app.add_option("--zk-session", o.zk_session_s, "ZooKeeper session timeout, seconds")
    ->capture_default_str()->check(CLI::Range(0.1, 600.0));
  app.add_flag("--trace", o.trace, "print every routing decision and every update");
  app.add_flag("--replay", o.replay, "run each seed twice and compare the runs");
  app.add_option("--log-level", log_level, "the nodes' log (trace, debug, info, warn, error, off)")
    ->capture_default_str()
    ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    auto rc = app.exit(e);
    return rc == 0 ? 0 : 2; // --help is fine; everything else is bad input
  }
  spdlog::set_level(spdlog::level::from_str(log_level));
  if (o.min_delay_ms > o.max_delay_ms) {
    std::cerr << "--min-delay-ms must not exceed --max-delay-ms\n";
    return 2;
  }
  auto plan = sim::fault_plan::parse(o.faults);
  if (!plan) {
    std::cerr << error_message(plan.error()) << '\n';
    return 2;
  }
  if (auto err = sim::cluster::check(spec_of(o), *plan)) {
    std::cerr << error_message(err) << '\n';
    return 2;
  }
  uint64_t from = o.seed, to = o.seed;
  if (!o.seeds.empty() && !parse_range(o.seeds, from, to)) {
    std::cerr << "--seeds " << o.seeds << ": want A..B with A <= B, or one seed N\n";
    return 2;
  }
  if (!plan->empty()) {
    std::printf("plan:\n");
    for (const auto& f : plan->faults())
      std::printf("  %s\n", sim::describe(f).c_str());
  }
  std::vector<uint64_t> failed;
  uint64_t runs = 0;
  for (uint64_t seed = from; seed <= to; ++seed) {
    ++runs;
    auto r = run_seed(seed, o, *plan, true);
    auto& problems = r.report.problems;
    if (o.replay) {
      auto again = run_seed(seed, o, *plan, false); // the trace was printed once
      char line[128];
      std::snprintf(line, sizeof line, "not deterministic: trace hash %016llx, then %016llx",
                    static_cast<unsigned long long>(r.trace_hash),
                    static_cast<unsigned long long>(again.trace_hash));
      if (again.trace_hash != r.trace_hash)
        problems.push_back(line);
    }
    std::printf("seed %llu: %s — %u finished, %u gave up, %.0f s virtual; %llu delivered, "
                "%llu dropped, %llu duplicated; trace %016llx%s\n",
                static_cast<unsigned long long>(seed), problems.empty() ? "ok" : "FAILED",
                r.finished, r.gave_up, r.report.virtual_s,
                static_cast<unsigned long long>(r.stats.delivered),
                static_cast<unsigned long long>(r.stats.dropped),
                static_cast<unsigned long long>(r.stats.duplicated),
                static_cast<unsigned long long>(r.trace_hash),
                o.replay && problems.empty() ? " (replayed: same trace)" : "");
    for (const auto& f : r.report.faults) // the chaos armed, with its hits
      if (f.rfind("chaos ", 0) == 0)
        std::printf("  %s\n", f.c_str());
    for (const auto& p : problems)
      std::printf("  %s %s\n", p.rfind("  ", 0) == 0 ? "      " : "invariant:", p.c_str());
    if (!problems.empty())
      failed.push_back(seed);
    if (seed == UINT64_MAX)
      break;
  }
  if (!failed.empty()) {
    std::printf("%zu of %llu seeds failed; replay one: %s\n", failed.size(),
                static_cast<unsigned long long>(runs),
                replay_command(argc, argv, failed.front()).c_str());
    return 1;
  }
  std::printf("%llu of %llu seeds ok\n", static_cast<unsigned long long>(runs),
              static_cast<unsigned long long>(runs));
  return 0;
}
