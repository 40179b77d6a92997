#include <boost/test/unit_test.hpp>

#include <limits>

#include "troupe/messages/value_ranges.hpp"

using troupe::value_range;
using troupe::value_ranges;

BOOST_AUTO_TEST_SUITE(value_ranges_test)

BOOST_AUTO_TEST_CASE(merging_sorts_and_joins_overlapping_and_adjacent_ranges) {
  auto r = value_ranges::merged({{10, 20}, {1, 3}, {4, 5}, {15, 25}, {30, 30}});
  BOOST_CHECK_EQUAL(r.to_string(), "[1-5,10-25,30-30]");
  BOOST_CHECK_EQUAL(r.count(), 5u + 16u + 1u);
}

BOOST_AUTO_TEST_CASE(subtraction_splits_ranges) {
  auto r = value_ranges::merged({{1, 100}});
  r.subtract(value_ranges::merged({{10, 19}, {50, 50}, {90, 200}}));
  BOOST_CHECK_EQUAL(r.to_string(), "[1-9,20-49,51-89]");
  r.subtract(value_ranges::merged({{0, 1000}}));
  BOOST_CHECK(r.empty());
}

BOOST_AUTO_TEST_CASE(containment) {
  auto r = value_ranges::merged({{1, 10}, {20, 30}});
  BOOST_CHECK(r.contains(value_ranges::merged({{2, 3}, {20, 30}})));
  BOOST_CHECK(!r.contains(value_ranges::merged({{9, 21}})));
  BOOST_CHECK(r.contains(value_ranges{}));
  BOOST_CHECK(r.contains(uint64_t{25}));
  BOOST_CHECK(!r.contains(uint64_t{15}));
}

BOOST_AUTO_TEST_CASE(extremes_do_not_overflow) {
  constexpr auto max = std::numeric_limits<uint64_t>::max();
  auto r = value_ranges::merged({{0, max}});
  BOOST_CHECK_EQUAL(r.count(), max);
  r.subtract(value_ranges::merged({{max, max}}));
  BOOST_CHECK_EQUAL(r.to_string(), "[0-" + std::to_string(max - 1) + "]");
  r.add(value_range{max, max});
  BOOST_CHECK_EQUAL(r.ranges().size(), 1u);
}

BOOST_AUTO_TEST_SUITE_END()
