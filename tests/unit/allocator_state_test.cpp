// The pure allocator: DRF across frameworks, filters in (caller-supplied) time, suppress and
// revive, reservations, minimum sizes, determinism per seed, and the no-double-allocation
// invariant under random operations.
#include <boost/test/unit_test.hpp>

#include <map>

#include "troupe/allocator/allocator_state.hpp"
#include "troupe/messages/builders.hpp"
#include "troupe/messages/errc.hpp"
#include "troupe/test/deterministic_fixture.hpp"

using namespace std::chrono_literals;
using namespace troupe;
using allocator::allocator_config;
using allocator::allocator_state;
using allocator::offer_decision;
using allocator::time_point;

namespace {

resources r(const std::string& text) {
  return resources::parse(text).value();
}

const time_point t0{};

allocator_state make(uint64_t seed = 1) {
  allocator_config cfg;
  cfg.seed = seed;
  return allocator_state{cfg};
}

const v1::AgentID a1 = make_agent_id("a1");
const v1::FrameworkID f1 = make_framework_id("f1");

// The smallest cluster: agent a1 (cpus:2;mem:1024) and framework f1 in role "*".
std::pair<v1::AgentID, v1::FrameworkID> one_agent_one_framework(allocator_state& a) {
  (void) a.add_agent(a1, r("cpus:2;mem:1024"));
  (void) a.add_framework(f1, {});
  return {a1, f1};
}

// Offers per framework ID.
std::map<std::string, std::vector<offer_decision>> by_framework(const std::vector<offer_decision>& xs) {
  std::map<std::string, std::vector<offer_decision>> result;
  for (const auto& x : xs)
    result[x.framework.value()].push_back(x);
  return result;
}

} // namespace

BOOST_AUTO_TEST_SUITE(allocator_state_test)

BOOST_AUTO_TEST_CASE(one_framework_gets_every_agent_whole) {
  auto a = make();
  BOOST_REQUIRE(!a.add_agent(make_agent_id("a1"), r("cpus:2;mem:1024;ports:[31000-32000]")));
  BOOST_REQUIRE(!a.add_agent(make_agent_id("a2"), r("cpus:4;mem:2048")));
  BOOST_REQUIRE(!a.add_framework(make_framework_id("f1"), {}));
  auto offers = a.allocate(t0);
  BOOST_REQUIRE_EQUAL(offers.size(), 2u);
  for (const auto& o : offers) {
    BOOST_CHECK_EQUAL(o.framework.value(), "f1");
    BOOST_CHECK_EQUAL(o.role, "*");
    BOOST_CHECK(a.available(o.agent).empty());
  }
  // Nothing left: the next pass offers nothing.
  BOOST_CHECK(a.allocate(t0 + 1s).empty());
  BOOST_CHECK(is(a.add_agent(make_agent_id("a1"), r("cpus:1")), errc::already_exists));
  BOOST_CHECK(is(a.add_framework(make_framework_id("f1"), {}), errc::already_exists));
}

BOOST_AUTO_TEST_CASE(drf_spreads_agents_evenly_over_equal_frameworks) {
  auto a = make();
  for (int i = 0; i < 10; ++i)
    (void) a.add_agent(make_agent_id("a" + std::to_string(i)), r("cpus:2;mem:1024"));
  (void) a.add_framework(make_framework_id("f1"), {});
  (void) a.add_framework(make_framework_id("f2"), {});
  auto offers = by_framework(a.allocate(t0));
  BOOST_CHECK_EQUAL(offers["f1"].size(), 5u);
  BOOST_CHECK_EQUAL(offers["f2"].size(), 5u);
}

BOOST_AUTO_TEST_CASE(the_framework_with_the_lower_share_goes_first) {
  auto a = make();
  (void) a.add_agent(make_agent_id("big"), r("cpus:8;mem:8192"));
  (void) a.add_agent(make_agent_id("small"), r("cpus:1;mem:512"));
  (void) a.add_framework(make_framework_id("rich"), {});
  (void) a.add_framework(make_framework_id("poor"), {});
  BOOST_REQUIRE(!a.add_allocation(make_framework_id("rich"), make_agent_id("big"), "*",
                                  r("cpus:4;mem:4096")));
  auto offers = by_framework(a.allocate(t0));
  // rich holds 4 of 9 cpus (share 0.44). poor starts at 0 and, even after taking the first
  // agent of the pass, stays below rich (1/9 or 4/9 - not above), so it gets both.
  BOOST_CHECK_EQUAL(offers["poor"].size(), 2u);
  BOOST_CHECK_EQUAL(offers["rich"].size(), 0u);
  BOOST_CHECK(is(a.add_allocation(make_framework_id("rich"), make_agent_id("small"), "*",
                                  r("cpus:100")),
                 errc::invalid_resources));
}

BOOST_AUTO_TEST_CASE(decline_filters_hold_until_they_expire) {
  auto a = make();
  auto [agent, fw] = one_agent_one_framework(a);
  auto offers = a.allocate(t0);
  BOOST_REQUIRE_EQUAL(offers.size(), 1u);
  auto back = a.recover(fw, agent, "*", offers[0].res, 5s, t0);
  BOOST_CHECK(back == offers[0].res);
  BOOST_CHECK(a.allocate(t0 + 1s).empty());
  BOOST_CHECK(a.allocate(t0 + 4999ms).empty());
  BOOST_CHECK(*a.next_filter_expiry(t0) == t0 + 5s);
  BOOST_CHECK_EQUAL(a.allocate(t0 + 5s).size(), 1u);
}

BOOST_AUTO_TEST_CASE(a_filter_yields_to_bigger_offers_and_other_frameworks) {
  auto a = make();
  auto agent = make_agent_id("a1");
  (void) a.add_agent(agent, r("cpus:2;mem:1024"));
  (void) a.add_framework(make_framework_id("f1"), {});
  auto first = a.allocate(t0);
  BOOST_REQUIRE_EQUAL(first.size(), 1u);
  // f1 declines half and keeps half: the filter covers only what it declined.
  (void) a.recover(make_framework_id("f1"), agent, "*", r("cpus:1;mem:512"), 60s, t0);
  BOOST_CHECK(a.allocate(t0 + 1s).empty());
  // Another framework is not affected by f1's filter.
  (void) a.add_framework(make_framework_id("f2"), {});
  auto offers = a.allocate(t0 + 2s);
  BOOST_REQUIRE_EQUAL(offers.size(), 1u);
  BOOST_CHECK_EQUAL(offers[0].framework.value(), "f2");
}

BOOST_AUTO_TEST_CASE(a_filter_refuses_only_offers_that_fit_inside_the_declined_part) {
  auto a = make();
  auto [agent, fw] = one_agent_one_framework(a);
  auto offers = a.allocate(t0);
  BOOST_REQUIRE_EQUAL(offers.size(), 1u);
  // Decline half with a long filter; the other half is "used".
  (void) a.recover(fw, agent, "*", r("cpus:1;mem:512"), 1h, t0);
  BOOST_CHECK(a.allocate(t0 + 1s).empty()); // the same half again: refused
  // The used half comes back: the candidate is now bigger than what was declined.
  (void) a.recover(fw, agent, "*", r("cpus:1;mem:512"), std::nullopt, t0 + 2s);
  auto bigger = a.allocate(t0 + 3s);
  BOOST_REQUIRE_EQUAL(bigger.size(), 1u);
  BOOST_CHECK(bigger[0].res == r("cpus:2;mem:1024"));
}

BOOST_AUTO_TEST_CASE(a_second_decline_does_not_shorten_the_first_filter) {
  auto a = make();
  auto [agent, fw] = one_agent_one_framework(a);
  auto offers = a.allocate(t0);
  (void) a.recover(fw, agent, "*", offers.at(0).res, 1h, t0);
  // A later, shorter filter on part of it (e.g. the unused part of an accept) adds to it.
  (void) a.add_allocation(fw, agent, "*", r("cpus:1"));
  (void) a.recover(fw, agent, "*", r("cpus:1"), 5s, t0 + 1s);
  BOOST_CHECK(a.allocate(t0 + 10s).empty()); // the 1 h filter still holds
}

BOOST_AUTO_TEST_CASE(allocations_of_frameworks_that_subscribe_later_count_then) {
  auto a = make();
  auto late = make_framework_id("late");
  BOOST_REQUIRE(!a.add_agent(make_agent_id("a1"), r("cpus:4;mem:4096"),
                             {{late, "*", r("cpus:3;mem:3072")}}));
  BOOST_CHECK(a.available(make_agent_id("a1")) == r("cpus:1;mem:1024"));
  BOOST_CHECK(is(a.add_agent(make_agent_id("a2"), r("cpus:1"), {{late, "*", r("cpus:2")}}),
                 errc::invalid_resources));
  BOOST_CHECK(a.available(make_agent_id("a2")).empty()); // refused: not added
  (void) a.add_framework(late, {});
  (void) a.add_framework(make_framework_id("early"), {});
  BOOST_CHECK_CLOSE(a.role_share("*"), 0.75, 1e-9); // late's 3 of 4 cpus count now
  auto offers = by_framework(a.allocate(t0));
  BOOST_CHECK_EQUAL(offers["early"].size(), 1u); // lower share goes first
}

BOOST_AUTO_TEST_CASE(suppressed_frameworks_get_nothing_until_revive) {
  auto a = make();
  auto fw = make_framework_id("f1");
  (void) a.add_agent(make_agent_id("a1"), r("cpus:2;mem:1024"));
  (void) a.add_framework(fw, {});
  a.suppress(fw, {});
  BOOST_CHECK(a.allocate(t0).empty());
  a.revive(fw, {});
  BOOST_CHECK_EQUAL(a.allocate(t0).size(), 1u);
}

BOOST_AUTO_TEST_CASE(revive_clears_decline_filters) {
  auto a = make();
  auto [agent, fw] = one_agent_one_framework(a);
  auto offers = a.allocate(t0);
  (void) a.recover(fw, agent, "*", offers.at(0).res, 1h, t0);
  BOOST_CHECK(a.allocate(t0 + 1s).empty());
  a.revive(fw, {});
  BOOST_CHECK_EQUAL(a.allocate(t0 + 2s).size(), 1u);
}

BOOST_AUTO_TEST_CASE(inactive_agents_and_frameworks_get_no_offers) {
  auto a = make();
  auto [agent, fw] = one_agent_one_framework(a);
  a.set_agent_active(agent, false);
  BOOST_CHECK(a.allocate(t0).empty());
  a.set_agent_active(agent, true);
  a.set_framework_active(fw, false);
  BOOST_CHECK(a.allocate(t0).empty());
  a.set_framework_active(fw, true);
  BOOST_CHECK_EQUAL(a.allocate(t0).size(), 1u);
}

BOOST_AUTO_TEST_CASE(reserved_resources_go_only_to_their_role) {
  auto a = make();
  auto agent = make_agent_id("a1");
  (void) a.add_agent(agent, r("cpus:4;mem:1024;cpus(web):2;mem(web):512"));
  (void) a.add_framework(make_framework_id("db"), {"db"});
  (void) a.add_framework(make_framework_id("web"), {"web"});
  auto offers = by_framework(a.allocate(t0));
  BOOST_REQUIRE_EQUAL(offers["db"].size() + offers["web"].size(), 2u);
  for (const auto& o : offers["db"])
    BOOST_CHECK(o.res.reserved().empty());
  resources web_got;
  for (const auto& o : offers["web"])
    web_got += o.res;
  BOOST_CHECK_EQUAL(web_got.reserved("web").scalar("cpus"), 2.0);
  BOOST_CHECK(a.available(agent).empty());
}

BOOST_AUTO_TEST_CASE(offers_below_the_minimum_are_not_made) {
  auto a = make();
  (void) a.add_agent(make_agent_id("tiny"), r("cpus:0.005;mem:16"));
  (void) a.add_framework(make_framework_id("f1"), {});
  BOOST_CHECK(a.allocate(t0).empty());
}

BOOST_AUTO_TEST_CASE(recover_never_returns_more_than_was_allocated) {
  auto a = make();
  auto [agent, fw] = one_agent_one_framework(a);
  auto offers = a.allocate(t0);
  auto first = a.recover(fw, agent, "*", offers.at(0).res, std::nullopt, t0);
  auto again = a.recover(fw, agent, "*", offers.at(0).res, std::nullopt, t0); // duplicate
  BOOST_CHECK(first == r("cpus:2;mem:1024"));
  BOOST_CHECK(again.empty());
  BOOST_CHECK(a.available(agent) == r("cpus:2;mem:1024"));
  BOOST_CHECK(a.recover(fw, make_agent_id("nope"), "*", r("cpus:1"), std::nullopt, t0).empty());
}

BOOST_AUTO_TEST_CASE(the_same_seed_gives_the_same_offers) {
  auto run = [](uint64_t seed) {
    auto a = make(seed);
    for (int i = 0; i < 20; ++i)
      (void) a.add_agent(make_agent_id("a" + std::to_string(i)), r("cpus:2;mem:1024"));
    for (int i = 0; i < 3; ++i)
      (void) a.add_framework(make_framework_id("f" + std::to_string(i)), {});
    std::vector<std::string> trace;
    for (const auto& o : a.allocate(t0))
      trace.push_back(o.agent.value() + "->" + o.framework.value());
    return trace;
  };
  BOOST_CHECK(run(7) == run(7));
  BOOST_CHECK(run(7) != run(8));
}

BOOST_AUTO_TEST_CASE(random_operations_never_double_allocate) {
  auto seed = test::test_seed();
  runtime::seeded_random rng{seed, "allocator_invariant"};
  allocator_config cfg;
  cfg.seed = seed;
  allocator_state a{cfg};
  std::map<std::string, resources> totals;
  std::vector<offer_decision> live;
  auto now = t0;
  for (int step = 0; step < 3000; ++step) {
    now += std::chrono::milliseconds{rng.below(2000)};
    switch (rng.below(6)) {
      case 0: {
        auto id = "a" + std::to_string(rng.below(8));
        auto total = r("cpus:" + std::to_string(1 + rng.below(8)) + ";mem:" + std::to_string(256 * (1 + rng.below(8))));
        if (!a.add_agent(make_agent_id(id), total))
          totals[id] = total;
        break;
      }
      case 1: {
        auto id = "a" + std::to_string(rng.below(8));
        a.remove_agent(make_agent_id(id));
        totals.erase(id);
        live.erase(std::remove_if(live.begin(), live.end(),
                                  [&](const offer_decision& o) { return o.agent.value() == id; }),
                   live.end());
        break;
      }
      case 2:
        (void) a.add_framework(make_framework_id("f" + std::to_string(rng.below(4))), {});
        break;
      case 3:
        if (!live.empty()) {
          auto k = rng.below(live.size());
          (void) a.recover(live[k].framework, live[k].agent, live[k].role, live[k].res,
                           rng.chance(0.5) ? std::optional<caf::timespan>{5s} : std::nullopt, now);
          live.erase(live.begin() + static_cast<long>(k));
        }
        break;
      default:
        for (auto& o : a.allocate(now))
          live.push_back(o);
    }
    // Invariants: per agent, live allocations never exceed the total, and what the allocator
    // considers available is exactly the total minus them (nothing lost, nothing doubled).
    std::map<std::string, resources> held;
    for (const auto& o : live)
      held[o.agent.value()] += o.res;
    for (const auto& [agent, total] : totals) {
      BOOST_REQUIRE_MESSAGE(total.contains(held[agent]),
                            "seed " << seed << " step " << step << ": agent " << agent << " has "
                                    << total.to_string() << " but " << held[agent].to_string()
                                    << " is allocated");
      BOOST_REQUIRE_MESSAGE(a.available(make_agent_id(agent)) == total - held[agent],
                            "seed " << seed << " step " << step << ": agent " << agent
                                    << " available " << a.available(make_agent_id(agent)).to_string()
                                    << " != " << (total - held[agent]).to_string());
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
