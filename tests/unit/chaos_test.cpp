// Chaos points: never fire unless armed; armed, they fire at their probability from the seed
// (the same seed, the same hits), count their hits, and stop when disarmed.
#include <boost/test/unit_test.hpp>

#include <vector>

#include "troupe/runtime/chaos.hpp"

using namespace troupe::runtime;

namespace {

std::vector<bool> draws(chaos::point p, int n) {
  std::vector<bool> out;
  for (int i = 0; i < n; ++i)
    out.push_back(chaos::hit(p));
  return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(chaos_test)

BOOST_AUTO_TEST_CASE(unarmed_points_never_fire) {
  chaos::disarm();
  for (auto hit : draws(chaos::point::registry_unavailable, 1000))
    BOOST_CHECK(!hit);
}

BOOST_AUTO_TEST_CASE(armed_points_fire_at_their_probability_and_replay_by_seed) {
  chaos::arm(7, {0.25, 0.0, 1.0, 0.0});
  auto first = draws(chaos::point::registry_slow, 4000);
  auto fired = std::count(first.begin(), first.end(), true);
  BOOST_CHECK_GT(fired, 850); // 1000 expected
  BOOST_CHECK_LT(fired, 1150);
  BOOST_CHECK(!chaos::hit(chaos::point::registry_unavailable)); // probability 0
  BOOST_CHECK(chaos::hit(chaos::point::small_offer_batches));   // probability 1
  auto n = chaos::hits();
  BOOST_CHECK_EQUAL(n[0], static_cast<uint64_t>(fired));
  BOOST_CHECK_EQUAL(n[1], 0u);
  BOOST_CHECK_EQUAL(n[2], 1u);
  chaos::arm(7, {0.25, 0.0, 1.0, 0.0});
  BOOST_CHECK(draws(chaos::point::registry_slow, 4000) == first);
  chaos::arm(8, {0.25, 0.0, 1.0, 0.0});
  BOOST_CHECK(draws(chaos::point::registry_slow, 4000) != first);
  chaos::disarm();
  BOOST_CHECK(!chaos::hit(chaos::point::small_offer_batches));
  BOOST_CHECK_EQUAL(std::string{chaos::name(chaos::point::registry_slow)}, "registry_slow");
}

BOOST_AUTO_TEST_SUITE_END()
