// Property tests: random bags and random operations, checked against algebraic laws. The seed
// is $TROUPE_SEED or fresh, and every failure message carries it.
#include <boost/test/unit_test.hpp>

#include "troupe/messages/resources.hpp"
#include "troupe/runtime/random.hpp"
#include "troupe/test/deterministic_fixture.hpp"

using troupe::resources;
using troupe::value_ranges;

namespace {

constexpr int rounds = 2000;

const char* roles[] = {"*", "web", "eng", "eng/web"};
const char* scalars[] = {"cpus", "mem", "disk", "gpus"};

resources random_bag(troupe::runtime::seeded_random& rng) {
  resources r;
  auto entries = rng.below(6);
  for (uint64_t i = 0; i < entries; ++i) {
    auto role_index = rng.below(4);
    std::string role = roles[role_index];
    if (rng.chance(0.7)) {
      std::string name = scalars[rng.below(4)];
      double amount = name == "gpus" ? static_cast<double>(rng.below(8))
                                     : static_cast<double>(rng.below(100000)) / 1000.0;
      r.add_scalar(name, amount, role);
    } else {
      std::vector<troupe::value_range> rs;
      for (uint64_t k = rng.below(4); k > 0; --k) {
        // Each role gets its own port zone: one port cannot be in two reservations.
        auto begin = role_index * 10000 + rng.below(2000);
        rs.push_back({begin, begin + rng.below(50)});
      }
      r.add_ranges("ports", value_ranges::merged(rs), role);
    }
  }
  return r;
}

} // namespace

BOOST_AUTO_TEST_SUITE(resources_property_test)

BOOST_AUTO_TEST_CASE(algebraic_laws_hold_for_random_bags) {
  auto seed = troupe::test::test_seed();
  troupe::runtime::seeded_random rng{seed, "resources_property"};
  for (int i = 0; i < rounds; ++i) {
    auto a = random_bag(rng);
    auto b = random_bag(rng);
    auto c = random_bag(rng);
    auto ctx = [&] {
      return "seed " + std::to_string(seed) + " round " + std::to_string(i) + ": a=" + a.to_string()
             + " b=" + b.to_string();
    };
    BOOST_REQUIRE_MESSAGE(a + b == b + a, ctx() << " + not commutative");
    BOOST_REQUIRE_MESSAGE((a + b) + c == a + (b + c), ctx() << " + not associative");
    // a + b - b == a for every a and every b that shares no port with a (scalars always;
    // ports are a set, so shared ports would be removed).
    auto b_disjoint = b;
    {
      resources ports_of_a;
      for (const auto& [key, value] : a.entries())
        if (value.kind == troupe::resource_kind::ranges)
          ports_of_a.add(key, value);
      b_disjoint -= ports_of_a;
    }
    BOOST_REQUIRE_MESSAGE((a + b_disjoint) - b_disjoint == a, ctx() << " (a + b') - b' != a");
    BOOST_REQUIRE_MESSAGE((a + b).contains(a) && (a + b).contains(b), ctx() << " sum lacks a part");
    BOOST_REQUIRE_MESSAGE(a.contains(a - b), ctx() << " a - b not within a");
    // Containment is consistent with subtraction.
    if (a.contains(b))
      BOOST_REQUIRE_MESSAGE((a - b) + b == a, ctx() << " contains but (a - b) + b != a");
    BOOST_REQUIRE_MESSAGE(a.contains(b) == ((a - b) + b == a), ctx() << " contains inconsistent");
    BOOST_REQUIRE_MESSAGE((b <= a) == a.contains(b), ctx());
    // Round trips.
    auto parsed = resources::parse(a.to_string());
    BOOST_REQUIRE_MESSAGE(parsed && *parsed == a, ctx() << " to_string");
    auto converted = resources::from_proto(a.to_proto());
    BOOST_REQUIRE_MESSAGE(converted && *converted == a, ctx() << " proto");
    auto json = resources::parse_json(a.to_json());
    BOOST_REQUIRE_MESSAGE(json && *json == a, ctx() << " json");
    // Views partition the bag.
    BOOST_REQUIRE_MESSAGE(a.unreserved() + a.reserved() == a, ctx() << " views");
    BOOST_REQUIRE_MESSAGE(a.flatten().scalar("cpus") == a.scalar("cpus"), ctx() << " flatten");
  }
}

BOOST_AUTO_TEST_SUITE_END()
