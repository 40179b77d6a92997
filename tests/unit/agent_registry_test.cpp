#include <boost/test/unit_test.hpp>

#include "troupe/master/agent_registry.hpp"
#include "troupe/messages/builders.hpp"
#include "troupe/messages/errc.hpp"

using namespace troupe;
using master::agent_registry;
using master::agent_status;

namespace {

v1::AgentInfo info(const std::string& host, uint32_t port = 5065) {
  return make_agent_info(host, port, resources::parse("cpus:1").value());
}

resources total() {
  return resources::parse("cpus:1").value();
}

// Answers every ping of a round except those to `silent`.
void answer(agent_registry& reg, const master::ping_round& round, const std::string& silent = {}) {
  for (const auto& [agent, seq] : round.pings)
    if (agent.value() != silent)
      BOOST_CHECK(reg.on_pong(agent, seq));
}

} // namespace

BOOST_AUTO_TEST_SUITE(agent_registry_test)

BOOST_AUTO_TEST_CASE(admission_assigns_fresh_ids) {
  agent_registry reg{"m1", 3};
  auto a = reg.admit(info("h1"), total());
  auto b = reg.admit(info("h2"), total());
  BOOST_CHECK_EQUAL(a.id.value(), "m1-S0");
  BOOST_CHECK_EQUAL(b.id.value(), "m1-S1");
  BOOST_CHECK(!a.replaced);
  BOOST_REQUIRE(reg.find(a.id));
  BOOST_CHECK_EQUAL(reg.find(a.id)->info.id().value(), "m1-S0");
  BOOST_CHECK(reg.find(a.id)->status == agent_status::registered);
}

BOOST_AUTO_TEST_CASE(a_restarted_agent_without_its_id_replaces_the_old_one) {
  agent_registry reg{"m1", 3};
  auto old = reg.admit(info("h1"), total());
  auto fresh = reg.admit(info("h1"), total());
  BOOST_REQUIRE(fresh.replaced);
  BOOST_CHECK(*fresh.replaced == old.id);
  BOOST_CHECK(reg.find(old.id)->status == agent_status::gone);
  BOOST_CHECK(fresh.id != old.id);
  // Another port on the same host is another agent.
  BOOST_CHECK(!reg.admit(info("h1", 5066), total()).replaced);
}

// A term recovers an old ID (S2) and a newer one (S5) at the same address: the agent lost its
// state and registered again under a term whose "S2 is gone" never reached the registry. When
// S5 reregisters, S2 can never come back: it is gone, and its tasks with it.
BOOST_AUTO_TEST_CASE(reregistering_at_an_address_retires_older_ids_there) {
  agent_registry reg{"m2", 3};
  auto old_info = info("h1");
  old_info.mutable_id()->set_value("m1-S2");
  reg.recover(old_info, total(), agent_status::recovered);
  auto unreachable = info("h1", 5066); // another port: another agent, left alone
  unreachable.mutable_id()->set_value("m1-S3");
  reg.recover(unreachable, total(), agent_status::unreachable);
  auto now_info = info("h1");
  now_info.mutable_id()->set_value("m1-S5");
  auto back = reg.readmit(now_info, total());
  BOOST_REQUIRE(back);
  BOOST_REQUIRE_EQUAL(back->replaced.size(), 1u);
  BOOST_CHECK_EQUAL(back->replaced[0].value(), "m1-S2");
  BOOST_CHECK(reg.find(old_info.id())->status == agent_status::gone);
  BOOST_CHECK(reg.find(unreachable.id())->status == agent_status::unreachable);
  BOOST_CHECK(!reg.readmit(old_info, total())); // the old ID may not come back
  // Reregistering again replaces nothing more.
  BOOST_CHECK(reg.readmit(now_info, total())->replaced.empty());
}

BOOST_AUTO_TEST_CASE(missed_pings_make_an_agent_unreachable) {
  agent_registry reg{"m1", 3};
  auto a = reg.admit(info("h1"), total()).id;
  auto b = reg.admit(info("h2"), total()).id;
  auto r1 = reg.next_ping_round();
  BOOST_CHECK_EQUAL(r1.pings.size(), 2u);
  answer(reg, r1, a.value()); // a stays silent from now on
  for (int i = 0; i < 2; ++i) { // misses 1 and 2 are tolerated
    auto r = reg.next_ping_round();
    BOOST_CHECK(r.unreachable.empty());
    answer(reg, r, a.value());
  }
  auto r4 = reg.next_ping_round(); // the third unanswered ping
  BOOST_REQUIRE_EQUAL(r4.unreachable.size(), 1u);
  BOOST_CHECK(r4.unreachable[0] == a);
  BOOST_CHECK_EQUAL(r4.pings.size(), 1u); // only b is pinged
  BOOST_CHECK(reg.find(a)->status == agent_status::unreachable);
  BOOST_CHECK(reg.find(b)->status == agent_status::registered);
  BOOST_CHECK((reg.with_status(agent_status::unreachable) == std::vector<v1::AgentID>{a}));
  // A late pong from the unreachable agent does not revive it: it must reregister.
  BOOST_CHECK(!reg.on_pong(a, r1.pings[0].second));
}

BOOST_AUTO_TEST_CASE(late_pongs_count_and_duplicates_do_not) {
  agent_registry reg{"m1", 2};
  auto a = reg.admit(info("h1"), total()).id;
  auto r1 = reg.next_ping_round();
  auto r2 = reg.next_ping_round(); // miss 1 (tolerated)
  BOOST_CHECK(r2.unreachable.empty());
  // A slow link answers the first ping after the second was sent: still alive.
  BOOST_CHECK(reg.on_pong(a, r1.pings[0].second));
  BOOST_CHECK(!reg.on_pong(a, r1.pings[0].second)); // duplicate
  auto r3 = reg.next_ping_round(); // r2 unanswered: miss 1 again, not 2
  BOOST_CHECK(r3.unreachable.empty());
  BOOST_CHECK(reg.on_pong(a, r3.pings[0].second));
  BOOST_CHECK(!reg.on_pong(a, r2.pings[0].second)); // older than one already answered
  BOOST_CHECK(!reg.on_pong(a, r3.pings[0].second + 100)); // never sent
  BOOST_CHECK(reg.next_ping_round().unreachable.empty());
  BOOST_CHECK(!reg.on_pong(make_agent_id("nobody"), 1));
}

BOOST_AUTO_TEST_CASE(admitted_ids_skip_ids_taken_by_readmitted_agents) {
  agent_registry reg{"m1", 3};
  auto survivor = info("h1");
  *survivor.mutable_id() = make_agent_id("m1-S0"); // from before a failover, same master id
  BOOST_REQUIRE(reg.readmit(survivor, total()));
  auto fresh = reg.admit(info("h2"), total());
  BOOST_CHECK_EQUAL(fresh.id.value(), "m1-S1");
}

BOOST_AUTO_TEST_CASE(reregistration_brings_unreachable_agents_back_but_not_gone_ones) {
  agent_registry reg{"m1", 0};
  auto a = reg.admit(info("h1"), total()).id;
  reg.next_ping_round();
  BOOST_REQUIRE_EQUAL(reg.next_ping_round().unreachable.size(), 1u);
  auto back = info("h1");
  *back.mutable_id() = a;
  auto r = reg.readmit(back, total());
  BOOST_REQUIRE(r);
  BOOST_CHECK(r->was_unreachable);
  BOOST_CHECK(reg.find(a)->status == agent_status::registered);
  // An agent this master never saw (it failed over) is admitted under its own ID.
  auto stranger = info("h9");
  *stranger.mutable_id() = make_agent_id("m0-S7");
  auto s = reg.readmit(stranger, total());
  BOOST_REQUIRE(s);
  BOOST_CHECK(s->was_unknown);
  reg.mark_gone(a);
  auto refused = reg.readmit(back, total());
  BOOST_REQUIRE(!refused);
  BOOST_CHECK(is(refused.error(), errc::not_found));
}

BOOST_AUTO_TEST_SUITE_END()
