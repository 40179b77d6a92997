#include "troupe/runtime/backoff.hpp"

#include <cmath>

namespace troupe::runtime {

caf::timespan exponential_backoff::delay(size_t attempt) const {
  // Compute in double and compare before converting: large attempts must not overflow.
  auto factor = std::pow(multiplier, static_cast<double>(attempt));
  auto ns = static_cast<double>(initial.count()) * factor;
  if (!std::isfinite(ns) || ns >= static_cast<double>(max.count()))
    return max;
  return caf::timespan{static_cast<caf::timespan::rep>(ns)};
}

} // namespace troupe::runtime
