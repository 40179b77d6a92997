// Container benchmark (Isolation issue): launch N containers (each `sleep 1000`) on one
// containerizer, time until every launch was answered (all running), then destroy them all and
// time until every exit was reported (all destroyed and cleaned up). Rows: cgroups (cpu, memory,
// pids, freezer; as root) and the POSIX baseline, measured in the same run. Mesos 1.7 took ≈30 s
// to launch and ≈22 s to destroy 1,000 containers.
//   container-bench [containers=1000] [runs=3]
// A benchmark, not a test: it never asserts timings.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include "troupe/isolation/cgroups_isolator.hpp"
#include "troupe/isolation/containerizer.hpp"
#include "troupe/isolation/posix_isolator.hpp"
#include "troupe/messages/builders.hpp"
#include "troupe/messages/errc.hpp"
#include "troupe/runtime/logging.hpp"
#include "troupe/runtime/node_config.hpp"

using namespace std::chrono_literals;
using namespace troupe;

namespace {

using clock_type = std::chrono::steady_clock;

double median(std::vector<double> xs) {
  std::sort(xs.begin(), xs.end());
  return xs[xs.size() / 2];
}

struct result {
  double launch_s = 0;
  double destroy_s = 0;
  int failed = 0;
};

result run_once(caf::actor_system& sys, std::shared_ptr<isolation::isolator> iso, int n,
                const std::string& dir) {
  result out;
  caf::scoped_actor self{sys};
  isolation::containerizer_config cfg;
  cfg.node = "bench";
  cfg.reap_interval = 5ms;
  auto cz = isolation::spawn_containerizer(
    sys, cfg, {std::move(iso)}, caf::actor_cast<isolation::container_watcher_actor>(self));
  auto t0 = clock_type::now();
  for (int i = 0; i < n; ++i) {
    isolation::launch_request req;
    req.container_id = make_container_id("c" + std::to_string(i));
    req.command = make_exec_command("/bin/sleep", {"sleep", "1000"});
    req.sandbox = dir + "/c" + std::to_string(i);
    req.limits.cpus = 0.1;
    req.limits.mem_bytes = 32ull << 20;
    self->send(cz, isolation::launch_atom::value, std::move(req));
  }
  for (int i = 0; i < n; ++i)
    self->receive([](const isolation::container_launched&) {},
                  [&](const caf::error&) { ++out.failed; });
  out.launch_s = std::chrono::duration<double>(clock_type::now() - t0).count();
  auto t1 = clock_type::now();
  for (int i = 0; i < n; ++i)
    self->send(cz, isolation::destroy_atom::value, make_container_id("c" + std::to_string(i)),
               caf::timespan{0});
  for (int i = 0; i < n - out.failed; ++i)
    self->receive([](const isolation::container_exited&) {});
  out.destroy_s = std::chrono::duration<double>(clock_type::now() - t1).count();
  caf::anon_send_exit(cz, caf::exit_reason::user_shutdown);
  self->wait_for(cz);
  return out;
}

} // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 1000;
  int runs = argc > 2 ? std::atoi(argv[2]) : 3;
  runtime::make_node_logger("bench", "warn");
  runtime::node_options opts;
  runtime::node_config cfg{opts};
  caf::actor_system sys{cfg};
  auto dir = std::filesystem::temp_directory_path().string() + "/troupe-container-bench-"
             + std::to_string(getpid());
  std::printf("container-bench: %d containers (sleep 1000), medians of %d runs, nproc %ld\n", n,
              runs, sysconf(_SC_NPROCESSORS_ONLN));
  std::printf("%-10s %12s %12s %8s\n", "isolation", "launch s", "destroy s", "failed");
  isolation::cgroups_isolator_config icfg;
  icfg.root = "troupe-bench-" + std::to_string(getpid());
  std::vector<std::string> rows{"posix"};
  if (auto probe = isolation::cgroups_isolator::make(icfg); probe)
    rows.emplace_back("cgroups");
  else
    std::printf("(cgroups row skipped: %s)\n", error_message(probe.error()).c_str());
  auto make = [&](const std::string& name) -> std::shared_ptr<isolation::isolator> {
    if (name == "posix")
      return std::make_shared<isolation::posix_isolator>();
    return std::shared_ptr<isolation::isolator>{std::move(*isolation::cgroups_isolator::make(icfg))};
  };
  for (const auto& name : rows) {
    std::vector<double> launch, destroy;
    int failed = 0;
    for (int r = 0; r < runs; ++r) {
      auto res = run_once(sys, make(name), n, dir);
      launch.push_back(res.launch_s);
      destroy.push_back(res.destroy_s);
      failed += res.failed;
    }
    std::printf("%-10s %12.3f %12.3f %8d\n", name.c_str(), median(launch), median(destroy),
                failed);
  }
  std::printf("reference: Mesos 1.7 ≈30 s launch, ≈22 s destroy for 1,000; target ≤ 3 s each\n");
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}
