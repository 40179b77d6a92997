#include "troupe/runtime/unix_time.hpp"

#include <chrono>

#include <caf/detail/test_actor_clock.hpp>

namespace troupe::runtime {

namespace {

struct anchor {
  std::chrono::steady_clock::time_point steady = std::chrono::steady_clock::now();
  std::chrono::system_clock::time_point wall = std::chrono::system_clock::now();
};

const anchor& process_anchor() {
  static const anchor a;
  return a;
}

double seconds(std::chrono::nanoseconds d) {
  return std::chrono::duration<double>(d).count();
}

} // namespace

double unix_seconds(const caf::actor_clock& clock, caf::actor_clock::time_point t) {
  if (dynamic_cast<const caf::detail::test_actor_clock*>(&clock) != nullptr)
    return simulated_epoch + seconds(t.time_since_epoch());
  const auto& a = process_anchor();
  return seconds(a.wall.time_since_epoch()) + seconds(t - a.steady);
}

double unix_seconds(const caf::actor_clock& clock) {
  return unix_seconds(clock, clock.now());
}

} // namespace troupe::runtime
