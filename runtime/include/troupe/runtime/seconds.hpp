// Seconds as the wire carries them (double) <-> CAF time spans. One place for the conversion,
// so every knob and message rounds the same way.
#pragma once

#include <chrono>

#include <caf/timespan.hpp>

namespace troupe::runtime {

/// `s` seconds as a time span (negative values become 0).
inline caf::timespan from_seconds(double s) {
  if (!(s > 0))
    return caf::timespan{0};
  return std::chrono::duration_cast<caf::timespan>(std::chrono::duration<double>(s));
}

/// A time span in seconds.
inline double to_seconds(caf::timespan t) {
  return std::chrono::duration<double>(t).count();
}

} // namespace troupe::runtime
