// Seeded randomness. Every actor that needs randomness owns a seeded_random derived from the
// cluster seed and a stable stream name (its role and node), so a run is reproducible from the
// one seed that the node logs at start. The arithmetic is our own (no std distributions, whose
// results differ between standard libraries), so a seed replays bit for bit everywhere.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include <caf/timespan.hpp>

namespace troupe::runtime {

/// Mixes a cluster seed and a stream name into the seed of one generator (splitmix64 of
/// seed ^ FNV-1a(name)).
uint64_t derive_seed(uint64_t cluster_seed, std::string_view stream);

/// `configured` when non-zero, else a fresh seed from the OS (which the caller must log).
uint64_t choose_cluster_seed(uint64_t configured);

/// A deterministic generator for one actor.
class seeded_random {
public:
  seeded_random(uint64_t cluster_seed, std::string_view stream);

  /// The derived seed of this generator.
  uint64_t seed() const {
    return seed_;
  }

  /// 64 uniformly distributed bits.
  uint64_t next();

  /// A uniform integer in [0, n); n must be > 0.
  uint64_t below(uint64_t n);

  /// 16 random bytes: the uuid of a status update.
  std::string uuid();

  /// A uniform double in [0, 1).
  double uniform();

  /// True with probability p.
  bool chance(double p);

  /// A uniform duration in [lo, hi].
  caf::timespan between(caf::timespan lo, caf::timespan hi);

  /// The engine, for algorithms that need a UniformRandomBitGenerator (e.g. std::shuffle is
  /// NOT portable; prefer shuffle() below).
  std::mt19937_64& engine() {
    return engine_;
  }

  /// Fisher–Yates shuffle with this generator; portable across standard libraries.
  template <class RandomIt>
  void shuffle(RandomIt first, RandomIt last) {
    auto n = static_cast<uint64_t>(last - first);
    for (uint64_t i = n; i > 1; --i) {
      auto j = below(i);
      using std::swap;
      swap(first[i - 1], first[j]);
    }
  }

private:
  uint64_t seed_;
  std::mt19937_64 engine_;
};

} // namespace troupe::runtime
