// The pure allocator's role features: hierarchical DRF over the role tree, weights, quota
// limits (offers trimmed to fit, never exceeded, minimum sizes still respected), reservations
// (static and dynamic via convert) that never leak to other roles, decline filters in virtual
// time, and per-role suppress/revive.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "troupe/allocator/allocator_state.hpp"
#include "troupe/messages/builders.hpp"
#include "troupe/messages/errc.hpp"

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

v1::AgentID agent(int i) {
  return make_agent_id("a" + std::to_string(i));
}

void add_agents(allocator_state& a, int n, const std::string& total) {
  for (int i = 0; i < n; ++i)
    BOOST_REQUIRE(!a.add_agent(agent(i), r(total)));
}

double cpus_of(const allocator_state& a, const std::string& role) {
  return a.role_allocation(role).scalar("cpus");
}

double mem_of(const allocator_state& a, const std::string& role) {
  return a.role_allocation(role).scalar("mem");
}

// Gives every offer in `live` back with probability 1/`one_in` (seeded), optionally with a
// random short filter; returns what stays held.
std::vector<offer_decision> recover_some(allocator_state& a, std::vector<offer_decision> live,
                                         std::mt19937& rng, unsigned one_in, time_point now,
                                         bool with_filters) {
  std::vector<offer_decision> kept;
  for (auto& o : live) {
    if (rng() % one_in != 0) {
      kept.push_back(std::move(o));
      continue;
    }
    std::optional<caf::timespan> refuse;
    if (with_filters && rng() % 2 == 0)
      refuse = std::chrono::seconds{1 + rng() % 3};
    auto back = a.recover(o.framework, o.agent, o.role, o.res, refuse, now);
    BOOST_REQUIRE_MESSAGE(back == o.res, "recovered " << back.to_string() << " of offer "
                                                      << o.res.to_string());
  }
  return kept;
}

} // namespace

BOOST_AUTO_TEST_SUITE(allocator_roles_test)

// 1. Hierarchical DRF: fairness first between top-level roles, then inside each subtree.
BOOST_AUTO_TEST_CASE(hierarchical_drf_splits_level_by_level) {
  auto a = make();
  add_agents(a, 12, "cpus:1;mem:1024");
  BOOST_REQUIRE(!a.add_framework(make_framework_id("web"), {"eng/web"}));
  BOOST_REQUIRE(!a.add_framework(make_framework_id("db"), {"eng/db"}));
  BOOST_REQUIRE(!a.add_framework(make_framework_id("ops"), {"ops"}));
  auto offers = a.allocate(t0);
  BOOST_CHECK_EQUAL(offers.size(), 12u);
  std::map<std::string, std::string> role_of = {
    {"web", "eng/web"}, {"db", "eng/db"}, {"ops", "ops"}};
  for (const auto& o : offers)
    BOOST_CHECK_EQUAL(o.role, role_of[o.framework.value()]);
  // Flat DRF over three frameworks would give 4/4/4; hierarchical DRF gives eng and ops half
  // each, and splits eng's half between web and db.
  BOOST_CHECK_EQUAL(cpus_of(a, "eng"), 6.0);
  BOOST_CHECK_EQUAL(cpus_of(a, "ops"), 6.0);
  BOOST_CHECK_EQUAL(cpus_of(a, "eng/web"), 3.0);
  BOOST_CHECK_EQUAL(cpus_of(a, "eng/db"), 3.0);
  BOOST_CHECK_EQUAL(mem_of(a, "eng"), 6.0 * 1024);
}

// 2. Weights hold over many passes with random recoveries.
BOOST_AUTO_TEST_CASE(weights_are_respected_over_many_passes) {
  auto a = make(11);
  BOOST_REQUIRE(!a.set_weight("a", 3.0));
  BOOST_REQUIRE(!a.set_weight("b", 1.0));
  add_agents(a, 100, "cpus:1;mem:128");
  BOOST_REQUIRE(!a.add_framework(make_framework_id("fa"), {"a"}));
  BOOST_REQUIRE(!a.add_framework(make_framework_id("fb"), {"b"}));
  std::mt19937 rng{20240601};
  std::vector<offer_decision> live;
  auto now = t0;
  for (int round = 0; round < 200; ++round) {
    now += 1s;
    live = recover_some(a, std::move(live), rng, 5, now, false); // ~20 % back
    for (auto& o : a.allocate(now))
      live.push_back(std::move(o));
  }
  auto ca = cpus_of(a, "a");
  auto cb = cpus_of(a, "b");
  BOOST_TEST_MESSAGE("a holds " << ca << " cpus, b holds " << cb);
  BOOST_REQUIRE_CLOSE(ca + cb, 100.0, 1e-9); // every agent is handed out after a pass
  BOOST_CHECK_CLOSE(ca / (ca + cb), 0.75, 5.0);
  BOOST_CHECK_CLOSE(cb / (ca + cb), 0.25, 5.0);
}

// 3. Quota limits: never exceeded, offers trimmed to fit; set_quota validation.
BOOST_AUTO_TEST_CASE(quota_limits_are_never_exceeded) {
  auto a = make(3);
  BOOST_REQUIRE(!a.set_quota("q", r("cpus:5;mem:5000")));
  add_agents(a, 10, "cpus:2;mem:2048");
  auto fq = make_framework_id("fq");
  auto fs = make_framework_id("fs");
  BOOST_REQUIRE(!a.add_framework(fq, {"q"}));
  BOOST_REQUIRE(!a.add_framework(fs, {"*"}));
  std::mt19937 rng{7};
  std::vector<offer_decision> live;
  auto now = t0;
  bool trimmed = false;
  double max_cpus = 0;
  for (int round = 0; round < 300; ++round) {
    now += 1s;
    live = recover_some(a, std::move(live), rng, 3, now, true);
    for (auto& o : a.allocate(now)) {
      if (o.framework == fq) {
        BOOST_CHECK_EQUAL(o.role, "q");
        if (o.res.scalar("cpus") < 2.0)
          trimmed = true;
      }
      live.push_back(std::move(o));
    }
    BOOST_REQUIRE_MESSAGE(cpus_of(a, "q") <= 5.0 && mem_of(a, "q") <= 5000.0,
                          "round " << round << ": q holds " << a.role_allocation("q").to_string());
    max_cpus = std::max(max_cpus, cpus_of(a, "q"));
  }
  BOOST_CHECK(trimmed);            // offers to q were cut down to the headroom
  BOOST_CHECK_EQUAL(max_cpus, 5.0); // ... and q reached its limit, not merely stayed below
  // Once every filter has expired, a pass hands out all cpus: "*" (not limited) takes what q
  // may not, so it ends up with at least the 15 cpus above q's limit.
  for (auto& o : a.allocate(now + 10s))
    live.push_back(std::move(o));
  BOOST_CHECK_LE(cpus_of(a, "q"), 5.0);
  BOOST_CHECK_EQUAL(cpus_of(a, "q") + cpus_of(a, "*"), 20.0);
  BOOST_CHECK_GE(cpus_of(a, "*"), 15.0);

  // quotas() reports what was set; an empty bag removes the limit.
  auto qs = a.quotas();
  BOOST_REQUIRE_EQUAL(qs.size(), 1u);
  BOOST_CHECK(qs["q"] == r("cpus:5;mem:5000"));
  BOOST_REQUIRE(!a.set_quota("other", r("cpus:1")));
  BOOST_CHECK_EQUAL(a.quotas().size(), 2u);
  BOOST_REQUIRE(!a.set_quota("other", resources{}));
  qs = a.quotas();
  BOOST_CHECK_EQUAL(qs.size(), 1u);
  BOOST_CHECK(qs.count("other") == 0);
  // Reserved, non-scalar limits and malformed roles are refused, and change nothing.
  BOOST_CHECK(is(a.set_quota("q", r("cpus(web):1")), errc::invalid_argument));
  BOOST_CHECK(is(a.set_quota("q", r("ports:[1-2]")), errc::invalid_argument));
  BOOST_CHECK(is(a.set_quota("a//b", r("cpus:1")), errc::invalid_argument));
  BOOST_CHECK(is(a.set_quota("", r("cpus:1")), errc::invalid_argument));
  qs = a.quotas();
  BOOST_CHECK_EQUAL(qs.size(), 1u);
  BOOST_CHECK(qs["q"] == r("cpus:5;mem:5000"));
}

// 4. Reserved resources go only to their role and its descendants.
BOOST_AUTO_TEST_CASE(reservations_never_leak_to_other_roles) {
  auto a = make(5);
  add_agents(a, 8, "cpus:1;cpus(web):2;mem:512;mem(web):512");
  std::map<std::string, std::string> role_of = {
    {"fweb", "web"}, {"fapi", "web/api"}, {"fother", "other"}};
  for (const auto& [fw, role] : role_of)
    BOOST_REQUIRE(!a.add_framework(make_framework_id(fw), {role}));
  std::mt19937 rng{99};
  std::vector<offer_decision> live;
  auto now = t0;
  std::set<std::string> got_reserved; // frameworks that were offered reserved resources
  for (int round = 0; round < 300; ++round) {
    now += 1s;
    live = recover_some(a, std::move(live), rng, 3, now, true);
    for (auto& o : a.allocate(now)) {
      auto fw = o.framework.value();
      BOOST_REQUIRE(role_of.count(fw) == 1);
      BOOST_CHECK_EQUAL(o.role, role_of[fw]);
      if (fw == "fother")
        BOOST_REQUIRE_MESSAGE(o.res.reserved().empty(),
                              "round " << round << ": role other was offered "
                                       << o.res.to_string());
      else // web and web/api: at most web's reservations
        BOOST_CHECK(o.res.reserved() == o.res.reserved("web"));
      if (!o.res.reserved().empty())
        got_reserved.insert(fw);
      live.push_back(std::move(o));
    }
  }
  BOOST_CHECK(got_reserved.count("fweb") == 1);
  BOOST_CHECK(got_reserved.count("fapi") == 1); // a child role uses its parent's reservations
  BOOST_CHECK(got_reserved.count("fother") == 0);
}

// 5. Decline filters expire exactly at their virtual time.
BOOST_AUTO_TEST_CASE(filters_expire_at_the_right_virtual_time) {
  auto a = make();
  auto fw = make_framework_id("f1");
  BOOST_REQUIRE(!a.add_agent(agent(1), r("cpus:2;mem:1024")));
  BOOST_REQUIRE(!a.add_agent(agent(2), r("cpus:2;mem:1024")));
  BOOST_REQUIRE(!a.add_framework(fw, {"r"}));
  auto offers = a.allocate(t0);
  BOOST_REQUIRE_EQUAL(offers.size(), 2u);
  BOOST_CHECK(!a.next_filter_expiry(t0));
  // Decline a1 for 5 s; give a2 back without a filter.
  BOOST_CHECK(a.recover(fw, agent(1), "r", r("cpus:2;mem:1024"), 5s, t0) == r("cpus:2;mem:1024"));
  (void) a.recover(fw, agent(2), "r", r("cpus:2;mem:1024"), std::nullopt, t0);
  BOOST_REQUIRE(a.next_filter_expiry(t0).has_value());
  BOOST_CHECK(*a.next_filter_expiry(t0) == t0 + 5s);
  auto early = a.allocate(t0 + 4999ms);
  BOOST_REQUIRE_EQUAL(early.size(), 1u); // a2 only
  BOOST_CHECK_EQUAL(early[0].agent.value(), "a2");
  BOOST_CHECK(a.available(agent(1)) == r("cpus:2;mem:1024"));
  BOOST_CHECK(a.allocate(t0 + 4999ms).empty());
  auto later = a.allocate(t0 + 5s);
  BOOST_REQUIRE_EQUAL(later.size(), 1u);
  BOOST_CHECK_EQUAL(later[0].agent.value(), "a1");
  BOOST_CHECK_EQUAL(later[0].role, "r");
  BOOST_CHECK(later[0].res == r("cpus:2;mem:1024"));
  BOOST_CHECK(!a.next_filter_expiry(t0 + 5s));
}

// 6. Suppression is per role.
BOOST_AUTO_TEST_CASE(suppressed_roles_get_nothing_until_revived) {
  auto a = make();
  auto fw = make_framework_id("f1");
  add_agents(a, 4, "cpus:1;mem:256");
  BOOST_REQUIRE(!a.add_framework(fw, {"a", "b"}));
  a.suppress(fw, {"a"});
  auto now = t0;
  for (int round = 0; round < 3; ++round) {
    now += 1s;
    auto offers = a.allocate(now);
    BOOST_CHECK_EQUAL(offers.size(), 4u);
    for (const auto& o : offers) {
      BOOST_CHECK_EQUAL(o.role, "b");
      BOOST_CHECK(a.recover(fw, o.agent, o.role, o.res, std::nullopt, now) == o.res);
    }
  }
  BOOST_CHECK_EQUAL(cpus_of(a, "a"), 0.0);
  a.revive(fw, {"a"});
  auto offers = a.allocate(now + 1s);
  BOOST_CHECK_EQUAL(offers.size(), 4u);
  std::map<std::string, int> per_role;
  for (const auto& o : offers)
    ++per_role[o.role];
  BOOST_CHECK_EQUAL(per_role["a"], 2); // both roles at share 0: they alternate
  BOOST_CHECK_EQUAL(per_role["b"], 2);
}

// 7. set_weight validation, weights(), and weights of roles that appear later.
BOOST_AUTO_TEST_CASE(weights_are_validated_and_apply_to_later_roles) {
  auto a = make();
  BOOST_CHECK(is(a.set_weight("x", 0.0), errc::invalid_argument));
  BOOST_CHECK(is(a.set_weight("x", -1.0), errc::invalid_argument));
  BOOST_CHECK(is(a.set_weight("x", std::numeric_limits<double>::quiet_NaN()),
                 errc::invalid_argument));
  BOOST_CHECK(is(a.set_weight("x", std::numeric_limits<double>::infinity()),
                 errc::invalid_argument));
  BOOST_CHECK(is(a.set_weight("a//b", 2.0), errc::invalid_argument));
  BOOST_CHECK(is(a.set_weight("", 2.0), errc::invalid_argument));
  BOOST_CHECK(is(a.set_weight("-x", 2.0), errc::invalid_argument));
  BOOST_CHECK(a.weights().empty());
  // Set before any framework uses the role.
  BOOST_REQUIRE(!a.set_weight("heavy", 2.0));
  BOOST_REQUIRE(!a.set_weight("eng/web", 0.5));
  auto ws = a.weights();
  BOOST_REQUIRE_EQUAL(ws.size(), 2u);
  BOOST_CHECK_EQUAL(ws["heavy"], 2.0);
  BOOST_CHECK_EQUAL(ws["eng/web"], 0.5);
  add_agents(a, 9, "cpus:1;mem:1024");
  BOOST_REQUIRE(!a.add_framework(make_framework_id("fh"), {"heavy"}));
  BOOST_REQUIRE(!a.add_framework(make_framework_id("fl"), {"light"}));
  auto offers = a.allocate(t0);
  BOOST_CHECK_EQUAL(offers.size(), 9u);
  BOOST_CHECK_EQUAL(cpus_of(a, "heavy"), 6.0);
  BOOST_CHECK_EQUAL(cpus_of(a, "light"), 3.0);
}

// 8. Dynamic reservations through convert.
BOOST_AUTO_TEST_CASE(convert_reserves_and_unreserves_dynamically) {
  auto a = make();
  auto ag = agent(1);
  auto fw = make_framework_id("fweb");
  auto other = make_framework_id("fother");
  BOOST_REQUIRE(!a.add_agent(ag, r("cpus:4;mem:1024")));
  BOOST_REQUIRE(!a.add_framework(fw, {"web"}));
  auto offers = a.allocate(t0);
  BOOST_REQUIRE_EQUAL(offers.size(), 1u);
  BOOST_REQUIRE(offers[0].res == r("cpus:4;mem:1024"));

  resources reserved_cpus;
  reserved_cpus.add(resource_key{"cpus", {reservation{v1::ReservationInfo::DYNAMIC, "web",
                                                      "alice", {}}}},
                    resource_value{resource_kind::scalar, 2000, {}, {}});
  BOOST_REQUIRE_EQUAL(reserved_cpus.reserved("web").scalar("cpus"), 2.0);

  // Errors change nothing.
  BOOST_CHECK(is(a.convert(fw, ag, "web", r("cpus:1"), reserved_cpus), errc::invalid_resources));
  BOOST_CHECK(is(a.convert(fw, ag, "web", r("cpus:10"), r("cpus:10")), errc::invalid_resources));
  BOOST_CHECK(is(a.convert(fw, ag, "web", r("cpus:2;mem:1"), reserved_cpus),
                 errc::invalid_resources));
  BOOST_CHECK(is(a.convert(fw, ag, "other", r("cpus:2"), reserved_cpus), errc::invalid_resources));
  BOOST_CHECK(is(a.convert(other, ag, "web", r("cpus:2"), reserved_cpus), errc::invalid_resources));
  BOOST_CHECK(is(a.convert(fw, agent(9), "web", r("cpus:2"), reserved_cpus), errc::not_found));
  BOOST_CHECK(a.allocation(fw, ag, "web") == r("cpus:4;mem:1024"));
  BOOST_CHECK(a.available(ag).empty());
  BOOST_CHECK_EQUAL(cpus_of(a, "web"), 4.0);

  // RESERVE: 2 of the held cpus become web's.
  BOOST_REQUIRE(!a.convert(fw, ag, "web", r("cpus:2"), reserved_cpus));
  auto held = a.allocation(fw, ag, "web");
  BOOST_CHECK(held == r("cpus:2;mem:1024") + reserved_cpus);
  BOOST_CHECK_EQUAL(held.reserved("web").scalar("cpus"), 2.0);
  BOOST_CHECK_EQUAL(held.unreserved().scalar("cpus"), 2.0);
  BOOST_CHECK_EQUAL(cpus_of(a, "web"), 4.0); // amounts unchanged
  BOOST_CHECK(a.available(ag).empty());

  // Everything back; web suppressed: another role gets only the unreserved part.
  BOOST_CHECK(a.recover(fw, ag, "web", held, std::nullopt, t0) == held);
  BOOST_CHECK(a.available(ag) == held);
  a.suppress(fw, {});
  BOOST_REQUIRE(!a.add_framework(other, {"other"}));
  offers = a.allocate(t0 + 1s);
  BOOST_REQUIRE_EQUAL(offers.size(), 1u);
  BOOST_CHECK_EQUAL(offers[0].framework.value(), "fother");
  BOOST_CHECK(offers[0].res == r("cpus:2;mem:1024"));
  BOOST_CHECK(offers[0].res.reserved().empty());
  BOOST_CHECK(a.available(ag) == reserved_cpus);
  // The reserved part waits for web.
  BOOST_CHECK(a.allocate(t0 + 2s).empty());
  a.revive(fw, {});
  offers = a.allocate(t0 + 3s);
  BOOST_REQUIRE_EQUAL(offers.size(), 1u);
  BOOST_CHECK_EQUAL(offers[0].framework.value(), "fweb");
  BOOST_CHECK_EQUAL(offers[0].role, "web");
  BOOST_CHECK(offers[0].res == reserved_cpus);
  BOOST_CHECK(a.available(ag).empty());

  // UNRESERVE: the cpus become anyone's again.
  BOOST_REQUIRE(!a.convert(fw, ag, "web", reserved_cpus, r("cpus:2")));
  BOOST_CHECK(a.allocation(fw, ag, "web") == r("cpus:2"));
  BOOST_CHECK(a.recover(fw, ag, "web", r("cpus:2"), std::nullopt, t0 + 4s) == r("cpus:2"));
  BOOST_CHECK(a.recover(other, ag, "other", r("cpus:2;mem:1024"), std::nullopt, t0 + 4s)
              == r("cpus:2;mem:1024"));
  BOOST_CHECK(a.available(ag) == r("cpus:4;mem:1024"));
  a.suppress(fw, {});
  offers = a.allocate(t0 + 5s);
  BOOST_REQUIRE_EQUAL(offers.size(), 1u);
  BOOST_CHECK_EQUAL(offers[0].framework.value(), "fother");
  BOOST_CHECK(offers[0].res == r("cpus:4;mem:1024"));
}

// 9. A quota-trimmed offer below the minimum allocatable size is not made.
BOOST_AUTO_TEST_CASE(quota_trimming_respects_the_minimum_allocatable_size) {
  {
    // q may hold cpus:0.005 and mem:16: below both default alternatives (cpus:0.01 | mem:32).
    auto a = make();
    BOOST_REQUIRE(!a.set_quota("q", r("cpus:0.005;mem:16")));
    BOOST_REQUIRE(!a.add_agent(agent(1), r("cpus:1;mem:1024")));
    BOOST_REQUIRE(!a.add_framework(make_framework_id("fq"), {"q"}));
    BOOST_CHECK(a.allocate(t0).empty());
    BOOST_CHECK(a.role_allocation("q").empty());
    BOOST_CHECK(a.available(agent(1)) == r("cpus:1;mem:1024"));
    // Someone else still gets the agent.
    BOOST_REQUIRE(!a.add_framework(make_framework_id("fs"), {"*"}));
    auto offers = a.allocate(t0 + 1s);
    BOOST_REQUIRE_EQUAL(offers.size(), 1u);
    BOOST_CHECK_EQUAL(offers[0].framework.value(), "fs");
    BOOST_CHECK(offers[0].res == r("cpus:1;mem:1024"));
  }
  {
    // At exactly the minimum (cpus:0.01), the trimmed offer is made.
    auto a = make();
    BOOST_REQUIRE(!a.set_quota("q", r("cpus:0.01;mem:16")));
    BOOST_REQUIRE(!a.add_agent(agent(1), r("cpus:1;mem:1024")));
    BOOST_REQUIRE(!a.add_framework(make_framework_id("fq"), {"q"}));
    auto offers = a.allocate(t0);
    BOOST_REQUIRE_EQUAL(offers.size(), 1u);
    BOOST_CHECK(offers[0].res == r("cpus:0.01;mem:16"));
    BOOST_CHECK(a.available(agent(1)) == r("cpus:0.99;mem:1008"));
  }
}

// 10. A resubscription may change the roles: offers follow the new ones; what the framework
// holds in a role it left stays allocated there until given back.
BOOST_AUTO_TEST_CASE(changing_roles_moves_offers_to_the_new_roles) {
  auto a = make();
  add_agents(a, 2, "cpus:1;mem:256");
  auto f = make_framework_id("f");
  BOOST_REQUIRE(!a.add_framework(f, {"old"}));
  a.suppress(f, {"old"});
  auto first = a.allocate(t0);
  BOOST_CHECK(first.empty());
  a.revive(f, {"old"});
  first = a.allocate(t0);
  BOOST_REQUIRE_EQUAL(first.size(), 2u);
  // Give one agent back, keep the other; then switch roles.
  BOOST_REQUIRE(a.recover(f, first[0].agent, "old", first[0].res, std::nullopt, t0)
                == first[0].res);
  BOOST_REQUIRE(!a.update_framework(f, {"new", "other"}));
  BOOST_CHECK_EQUAL(cpus_of(a, "old"), 1.0); // still held there
  auto next = a.allocate(t0 + 1s);
  BOOST_REQUIRE_EQUAL(next.size(), 1u);
  BOOST_CHECK(next[0].role == "new" || next[0].role == "other");
  BOOST_CHECK(next[0].agent == first[0].agent);
  // The old role's allocation can still be recovered, and then the role is gone.
  BOOST_CHECK(a.recover(f, first[1].agent, "old", first[1].res, std::nullopt, t0) == first[1].res);
  BOOST_CHECK_EQUAL(cpus_of(a, "old"), 0.0);
  BOOST_CHECK(a.update_framework(f, {"a//b"}));                         // malformed: refused
  BOOST_CHECK(a.update_framework(make_framework_id("nobody"), {"x"})); // unknown
  BOOST_CHECK(!a.update_framework(f, {"new", "other"}));                // same roles: no-op
  auto last = a.allocate(t0 + 2s);
  BOOST_REQUIRE_EQUAL(last.size(), 1u);
  BOOST_CHECK(last[0].role == "new" || last[0].role == "other");
  // Successive changes keep one membership per role: with the framework alone in "zzz", a
  // doubled membership would show as offers for the same role twice on one agent.
  BOOST_REQUIRE(!a.update_framework(f, {"other", "zzz"}));
  BOOST_REQUIRE(!a.update_framework(f, {"new", "other", "zzz"}));
  BOOST_REQUIRE(!a.update_framework(f, {"zzz"}));
  for (const auto* held : {&next, &last})
    for (const auto& o : *held)
      BOOST_REQUIRE(a.recover(f, o.agent, o.role, o.res, std::nullopt, t0) == o.res);
  auto only = a.allocate(t0 + 3s);
  BOOST_REQUIRE_EQUAL(only.size(), 2u); // both agents, once each, for "zzz"
  for (const auto& o : only)
    BOOST_CHECK_EQUAL(o.role, "zzz");
  BOOST_CHECK_EQUAL(cpus_of(a, "new"), 0.0);
  BOOST_CHECK_EQUAL(cpus_of(a, "zzz"), 2.0);
  BOOST_CHECK_CLOSE(a.role_share("zzz"), 1.0, 1e-9);
}

BOOST_AUTO_TEST_SUITE_END()
