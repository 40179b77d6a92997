// Chaos points: rare paths that code takes on purpose when the simulator asks, so that seeded
// runs exercise them (FoundationDB's "buggify"). Each point names one rare but legal behaviour;
// the code at that point asks hit() and, when told so, behaves that way:
//
//   if (chaos::hit(chaos::point::registry_unavailable))
//     err = make_error(errc::unavailable, "chaos: the registry is unavailable");
//
// Outside a simulation nothing is armed and hit() is one relaxed atomic load returning false.
// The simulator arms chaos for one run with probabilities drawn from its seed; draws come from
// one generator seeded from it, and the deterministic scheduler asks in a fixed order, so a
// seed replays bit for bit. Armed chaos is process-wide: only one simulated run at a time.
// (A deliberate deviation from "per-actor generators" (DESIGN.md §5): the points sit deep in
// actors that have no simulation knobs, and the simulator is single-threaded; a per-node chaos
// value in each actor's config would scale better once many points exist.)
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace troupe::runtime::chaos {

enum class point : uint8_t {
  registry_slow,        ///< the registrar defers writes and their answers by its retry delay
  registry_unavailable, ///< a registry write fails with a retryable error (and is retried)
  small_offer_batches,  ///< the master sends each offer in an Offers event of its own
  registry_sync_late,   ///< the registrar writes but syncs later (a crash loses the writes)
};

inline constexpr size_t point_count = static_cast<size_t>(point::registry_sync_late) + 1;

using probabilities = std::array<double, point_count>;
using counts = std::array<uint64_t, point_count>;

/// "registry_slow", ...
const char* name(point p);

/// Whether the code at `p` takes its rare path now: false unless chaos is armed.
bool hit(point p);

/// Arms every point with its probability (0 = never), drawing from `seed`; resets the counts.
void arm(uint64_t seed, const probabilities& p);

/// Nothing fires any more (the counts stay readable).
void disarm();

/// How often each point fired since arm().
counts hits();

} // namespace troupe::runtime::chaos
