// Allocator benchmark, the shape of Mesos' HierarchicalAllocator DeclineOffers benchmark: every
// agent cpus:2;mem:1024;disk:4096;ports:[31000-32000]; every framework declines everything
// without a lasting filter, so each pass considers and offers every agent's free resources.
// Prints the median time of a full pass over `passes` passes, per (agents, frameworks).
//   allocator-bench [passes=5] [agents,frameworks ...]   e.g. allocator-bench 5 1000,100 10000,1000
// A benchmark, not a test: it never asserts timings.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "troupe/allocator/allocator_state.hpp"
#include "troupe/messages/builders.hpp"

using namespace troupe;

namespace {

struct shape {
  int agents;
  int frameworks;
};

double median(std::vector<double> xs) {
  std::sort(xs.begin(), xs.end());
  return xs[xs.size() / 2];
}

void run(shape s, int passes) {
  allocator::allocator_config cfg;
  cfg.seed = 42;
  allocator::allocator_state state{cfg};
  auto total = resources::parse("cpus:2;mem:1024;disk:4096;ports:[31000-32000]").value();
  for (int i = 0; i < s.agents; ++i)
    (void) state.add_agent(make_agent_id("agent-" + std::to_string(i)), total);
  for (int i = 0; i < s.frameworks; ++i)
    (void) state.add_framework(make_framework_id("framework-" + std::to_string(i)), {});
  std::vector<double> ms;
  allocator::time_point now{};
  size_t offers = 0;
  for (int p = 0; p < passes; ++p) {
    auto t0 = std::chrono::steady_clock::now();
    auto decisions = state.allocate(now);
    auto t1 = std::chrono::steady_clock::now();
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    offers = decisions.size();
    for (const auto& d : decisions) // decline everything, no lasting filter
      (void) state.recover(d.framework, d.agent, d.role, d.res, std::nullopt, now);
    now += std::chrono::seconds{1};
  }
  std::printf("%8d %10d %14.1f %10zu\n", s.agents, s.frameworks, median(ms), offers);
}

} // namespace

int main(int argc, char** argv) {
  int passes = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
  std::vector<shape> shapes;
  for (int i = 2; i < argc; ++i) {
    shape s{};
    if (std::sscanf(argv[i], "%d,%d", &s.agents, &s.frameworks) == 2 && s.agents > 0
        && s.frameworks > 0)
      shapes.push_back(s);
    else
      std::fprintf(stderr, "ignoring '%s' (want agents,frameworks)\n", argv[i]);
  }
  if (shapes.empty())
    shapes = {{1000, 100}, {1000, 1000}, {5000, 1000}, {10000, 1000}};
  std::printf("allocation pass, DeclineOffers shape, median of %d passes\n", passes);
  std::printf("%8s %10s %14s %10s\n", "agents", "frameworks", "pass (ms)", "offers");
  for (auto s : shapes)
    run(s, passes);
  std::printf("reference: Mesos 1.8 needed ~1060 ms for 10000 x 1000 (published figure)\n");
}
