#include "troupe/runtime/random.hpp"

#include <limits>

namespace troupe::runtime {

namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

} // namespace

uint64_t derive_seed(uint64_t cluster_seed, std::string_view stream) {
  return splitmix64(cluster_seed ^ fnv1a(stream));
}

uint64_t choose_cluster_seed(uint64_t configured) {
  if (configured != 0)
    return configured;
  std::random_device dev;
  uint64_t seed = 0;
  while (seed == 0)
    seed = (static_cast<uint64_t>(dev()) << 32) ^ dev();
  return seed;
}

seeded_random::seeded_random(uint64_t cluster_seed, std::string_view stream)
  : seed_(derive_seed(cluster_seed, stream)), engine_(seed_) {
  // nop
}

uint64_t seeded_random::next() {
  return engine_();
}

uint64_t seeded_random::below(uint64_t n) {
  // Rejection sampling: unbiased and identical on every platform.
  auto limit = std::numeric_limits<uint64_t>::max() - std::numeric_limits<uint64_t>::max() % n;
  uint64_t x;
  do {
    x = next();
  } while (x >= limit);
  return x % n;
}

double seeded_random::uniform() {
  return static_cast<double>(next() >> 11) * 0x1.0p-53;
}

bool seeded_random::chance(double p) {
  return uniform() < p;
}

caf::timespan seeded_random::between(caf::timespan lo, caf::timespan hi) {
  if (hi <= lo)
    return lo;
  auto span = static_cast<uint64_t>((hi - lo).count());
  auto offset = span == std::numeric_limits<uint64_t>::max() ? next() : below(span + 1);
  return lo + caf::timespan{static_cast<caf::timespan::rep>(offset)};
}

std::string seeded_random::uuid() {
  std::string out(16, '\0');
  auto a = next();
  auto b = next();
  for (int i = 0; i < 8; ++i) {
    out[i] = static_cast<char>((a >> (8 * i)) & 0xff);
    out[8 + i] = static_cast<char>((b >> (8 * i)) & 0xff);
  }
  return out;
}

} // namespace troupe::runtime
