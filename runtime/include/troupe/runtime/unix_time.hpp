// Wall-clock timestamps without reading the wall clock in actor code (DESIGN.md §5): status
// updates and registry records carry "seconds since the Unix epoch", and they must replay bit
// for bit in simulation. This seam derives them from the actor clock.
#pragma once

#include <caf/actor_clock.hpp>

namespace troupe::runtime {

/// The Unix epoch second that virtual time 0 maps to under CAF's deterministic scheduler
/// (2024-01-01T00:00:00Z), so simulated timestamps look like real ones.
inline constexpr double simulated_epoch = 1704067200.0;

/// Seconds since the Unix epoch for the time point `t` of `clock`. On real nodes: the wall
/// clock sampled once per process plus the steady time elapsed since (so timestamps never jump
/// backwards with NTP). Under the deterministic scheduler: simulated_epoch + virtual time.
double unix_seconds(const caf::actor_clock& clock, caf::actor_clock::time_point t);

/// unix_seconds for the clock's current time.
double unix_seconds(const caf::actor_clock& clock);

} // namespace troupe::runtime
