#include "troupe/runtime/chaos.hpp"

#include <atomic>
#include <optional>

#include "troupe/runtime/random.hpp"

namespace troupe::runtime::chaos {

namespace {

struct armed_state {
  std::atomic<bool> armed{false};
  std::optional<seeded_random> rng; // touched only while armed (one simulated run at a time)
  probabilities p{};
  counts n{};
};

armed_state& state() {
  static armed_state s;
  return s;
}

} // namespace

const char* name(point p) {
  switch (p) {
    case point::registry_slow:
      return "registry_slow";
    case point::registry_unavailable:
      return "registry_unavailable";
    case point::small_offer_batches:
      return "small_offer_batches";
    case point::registry_sync_late:
      return "registry_sync_late";
  }
  return "?";
}

bool hit(point p) {
  auto& s = state();
  if (!s.armed.load(std::memory_order_relaxed))
    return false;
  auto i = static_cast<size_t>(p);
  if (s.p[i] <= 0 || !s.rng->chance(s.p[i]))
    return false;
  ++s.n[i];
  return true;
}

void arm(uint64_t seed, const probabilities& p) {
  auto& s = state();
  s.rng.emplace(seed, "chaos");
  s.p = p;
  s.n = {};
  s.armed.store(true, std::memory_order_relaxed);
}

void disarm() {
  state().armed.store(false, std::memory_order_relaxed);
}

counts hits() {
  return state().n;
}

} // namespace troupe::runtime::chaos
