#include "troupe/sim/run.hpp"

#include <unistd.h>

#include "troupe/test/deterministic_fixture.hpp"

namespace troupe::sim {

run_result run_one(uint64_t seed, const cluster_spec& spec, const fault_plan& plan,
                   const run_options& options) {
  run_result r;
  test::deterministic_fixture f;
  auto root = !options.work_root.empty()
                ? options.work_root
                : "/dev/shm/troupe-sim-" + std::to_string(getpid()) + "-" + std::to_string(seed);
  {
    cluster c{f.sys, seed, spec, root};
    c.net().set_tracing(options.trace);
    c.start();
    r.report = c.run(f, plan, options.limit);
    r.trace_hash = c.net().trace_hash();
    r.stats = c.net().stats();
    r.finished = c.outcome().finished;
    r.gave_up = c.outcome().gave_up;
    if (options.trace) {
      r.trace = c.net().trace();
      r.updates = c.outcome().update_log;
    }
    c.stop();
    f.run();
    f.sched.clock().cancel_all();
    f.run();
  }
  return r;
}

sweep_result sweep(const cluster_spec& spec, const fault_plan& plan, uint64_t first,
                   uint64_t count, const run_options& options) {
  sweep_result out;
  for (uint64_t i = 0; i < count; ++i) {
    ++out.runs;
    auto r = run_one(first + i, spec, plan, options);
    if (!r.report.problems.empty()) {
      out.ok = false;
      out.failed_seed = first + i;
      out.failure = std::move(r);
      break;
    }
  }
  return out;
}

} // namespace troupe::sim
