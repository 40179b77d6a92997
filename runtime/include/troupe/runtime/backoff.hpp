// Exponential backoff: initial × multiplier^attempt, capped. Used by the supervisor here and by
// the agent's status update retries later (start 10 s, cap 10 min).
#pragma once

#include <chrono>
#include <cstddef>

#include <caf/timespan.hpp>

namespace troupe::runtime {

struct exponential_backoff {
  caf::timespan initial = std::chrono::milliseconds{100}; ///< delay before the first retry
  caf::timespan max = std::chrono::seconds{10};           ///< no delay is longer than this
  double multiplier = 2.0;                                ///< growth per retry (>= 1)

  /// The delay before retry number `attempt` (0 = the first retry).
  caf::timespan delay(size_t attempt) const;
};

} // namespace troupe::runtime
