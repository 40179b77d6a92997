// Offer actors in virtual time: each ends exactly one way, and on every end but "accepted" the
// resources return to the allocator exactly once.
#include <boost/test/unit_test.hpp>

#include <memory>
#include <vector>

#include <caf/scoped_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "troupe/master/offer_actor.hpp"
#include "troupe/messages/builders.hpp"
#include "troupe/messages/errc.hpp"
#include "troupe/runtime/supervision/supervisor.hpp"
#include "troupe/test/deterministic_fixture.hpp"

using namespace std::chrono_literals;
using namespace troupe;
using namespace troupe::master;

namespace {

struct recorded {
  std::vector<allocator::recovered_resources> returned;
  std::vector<v1::OfferID> expired;
};

struct offer_fixture : test::deterministic_fixture {
  std::shared_ptr<recorded> rec = std::make_shared<recorded>();
  resource_sink_actor alloc;
  offer_owner_actor owner;
  resources res = resources::parse("cpus:2;mem:1024").value();

  offer_fixture() {
    auto r = rec;
    alloc = sys.spawn([r](resource_sink_actor::pointer) -> resource_sink_actor::behavior_type {
      return {[r](const allocator::recovered_resources& x) { r->returned.push_back(x); }};
    });
    owner = sys.spawn([r](offer_owner_actor::pointer) -> offer_owner_actor::behavior_type {
      return {[r](offer_expired_atom, const v1::OfferID& id) { r->expired.push_back(id); }};
    });
    run();
  }

  ~offer_fixture() override {
    caf::anon_send_exit(alloc, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(owner, caf::exit_reason::user_shutdown);
  }

  offer_actor make_offer(const std::string& id, caf::actor supervisor = {}) {
    auto offer = troupe::make_offer(make_offer_id(id), make_framework_id("fw"), make_agent_id("a1"),
                                    "host1", res, "*");
    offer_config cfg;
    cfg.timeout = 30s;
    cfg.supervisor = std::move(supervisor);
    auto hdl = spawn_offer(sys, offer, "*", res, alloc, owner, cfg);
    run();
    return hdl;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(offer_actor_test, offer_fixture)

BOOST_AUTO_TEST_CASE(accepting_hands_the_resources_to_the_master) {
  auto offer = make_offer("o1");
  auto exit = watch(caf::actor_cast<caf::actor>(offer));
  caf::scoped_actor self{sys};
  self->send(offer, accept_atom::value);
  run();
  bool got = false;
  self->receive([&](const v1::Offer& o) { got = o.id().value() == "o1"; },
                caf::after(std::chrono::seconds{0}) >> [] {});
  BOOST_CHECK(got);
  BOOST_CHECK(exit->down);
  advance(1min); // no expiry after an accept, and nothing returned
  BOOST_CHECK(rec->returned.empty());
  BOOST_CHECK(rec->expired.empty());
}

BOOST_AUTO_TEST_CASE(declining_returns_the_resources_once_with_the_filter) {
  auto offer = make_offer("o1");
  auto exit = watch(caf::actor_cast<caf::actor>(offer));
  caf::anon_send(offer, decline_atom::value, caf::timespan{5s});
  caf::anon_send(offer, decline_atom::value, caf::timespan{5s}); // a duplicate finds no one
  run();
  BOOST_CHECK(exit->down);
  BOOST_REQUIRE_EQUAL(rec->returned.size(), 1u);
  BOOST_CHECK(rec->returned[0].res == res);
  BOOST_CHECK(rec->returned[0].refuse && *rec->returned[0].refuse == 5s);
  BOOST_CHECK_EQUAL(rec->returned[0].framework.value(), "fw");
  BOOST_CHECK_EQUAL(rec->returned[0].agent.value(), "a1");
  advance(1min);
  BOOST_CHECK_EQUAL(rec->returned.size(), 1u);
}

BOOST_AUTO_TEST_CASE(rescinding_returns_the_resources_without_a_filter) {
  auto offer = make_offer("o1");
  auto exit = watch(caf::actor_cast<caf::actor>(offer));
  caf::anon_send(offer, rescind_atom::value, std::string{"agent lost"});
  run();
  BOOST_CHECK(exit->down);
  BOOST_REQUIRE_EQUAL(rec->returned.size(), 1u);
  BOOST_CHECK(!rec->returned[0].refuse);
  advance(1min); // past the offer timeout: nothing more
  BOOST_CHECK_EQUAL(rec->returned.size(), 1u);
  BOOST_CHECK(rec->expired.empty()); // the master rescinded: it already knows
}

BOOST_AUTO_TEST_CASE(an_unanswered_offer_expires_after_the_timeout) {
  auto offer = make_offer("o1");
  auto exit = watch(caf::actor_cast<caf::actor>(offer));
  advance(29999ms);
  BOOST_CHECK(rec->returned.empty());
  BOOST_CHECK(!exit->down);
  advance(1ms);
  BOOST_REQUIRE_EQUAL(rec->returned.size(), 1u);
  BOOST_REQUIRE_EQUAL(rec->expired.size(), 1u);
  BOOST_CHECK_EQUAL(rec->expired[0].value(), "o1");
  BOOST_CHECK(exit->down);
  // Accepting an expired offer fails: the master turns that into TASK_DROPPED.
  caf::scoped_actor self{sys};
  bool failed = false;
  self->request(offer, 1s, accept_atom::value)
    .receive([&](const v1::Offer&) {}, [&](const caf::error&) { failed = true; });
  BOOST_CHECK(failed);
  BOOST_CHECK_EQUAL(rec->returned.size(), 1u);
}

BOOST_AUTO_TEST_CASE(a_killed_offer_still_returns_its_resources_once) {
  auto offer = make_offer("o1");
  caf::anon_send_exit(offer, caf::exit_reason::kill);
  run();
  BOOST_REQUIRE_EQUAL(rec->returned.size(), 1u);
  BOOST_CHECK(rec->returned[0].res == res);
  advance(1min);
  BOOST_CHECK_EQUAL(rec->returned.size(), 1u);
  BOOST_CHECK(rec->expired.empty());
}

// The term's offers supervisor (leader_term.hpp) owns every offer as a temporary child: an offer
// ending on its own changes nothing, and the supervisor's end ends every offer still open —
// here with an accept on its way — each returning its resources exactly once, the accepted
// one never.
BOOST_AUTO_TEST_CASE(the_offers_supervisor_ends_every_offer_and_each_returns_once) {
  runtime::supervisor_config scfg;
  scfg.name = "offers";
  scfg.temporary_children = true;
  auto sup = caf::actor_cast<caf::actor>(runtime::spawn_supervisor(sys, scfg, {}));
  run();
  auto sup_exit = watch(sup);
  std::vector<offer_actor> offers;
  std::vector<std::shared_ptr<test::exit_record>> exits;
  for (int i = 0; i < 5; ++i) {
    offers.push_back(make_offer("o" + std::to_string(i), sup));
    exits.push_back(watch(caf::actor_cast<caf::actor>(offers.back())));
  }
  // Temporary children: one declined, one crashed — the supervisor carries on, restarts nothing.
  caf::anon_send(offers[0], decline_atom::value, caf::timespan{0});
  // (Not exit_reason::kill: CAF 0.17 makes a kill fatal to every linked actor too.)
  caf::anon_send_exit(offers[1], caf::exit_reason::user_shutdown);
  run();
  BOOST_CHECK(!sup_exit->down);
  BOOST_CHECK_EQUAL(rec->returned.size(), 2u);
  // Mid-accept: the accept of o2 is queued, the supervisor is killed before it runs.
  caf::scoped_actor self{sys};
  auto reply = self->request(offers[2], caf::infinite, accept_atom::value);
  caf::anon_send_exit(sup, caf::exit_reason::kill);
  run();
  BOOST_CHECK(sup_exit->down);
  for (auto& e : exits)
    BOOST_CHECK(e->down);
  // Whichever ran first, o2's resources went one way only: to the accepting master, or back.
  bool accepted = false;
  reply.receive([&](const v1::Offer&) { accepted = true; }, [&](const caf::error&) {});
  BOOST_CHECK_EQUAL(rec->returned.size(), accepted ? 4u : 5u);
  advance(1min); // no expiry later, nothing returned twice
  BOOST_CHECK_EQUAL(rec->returned.size(), accepted ? 4u : 5u);
  BOOST_CHECK(rec->expired.empty());
}

// An offer made after its supervisor ended (a term ending while an allocation was on its way)
// ends at once and returns its resources.
BOOST_AUTO_TEST_CASE(an_offer_of_an_ended_supervisor_ends_at_once) {
  runtime::supervisor_config scfg;
  scfg.temporary_children = true;
  auto sup = caf::actor_cast<caf::actor>(runtime::spawn_supervisor(sys, scfg, {}));
  run();
  auto sup_exit = watch(sup);
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
  run();
  BOOST_REQUIRE(sup_exit->down);
  auto offer = make_offer("late", sup);
  auto exit = watch(caf::actor_cast<caf::actor>(offer));
  run();
  BOOST_CHECK(exit->down);
  BOOST_CHECK_EQUAL(rec->returned.size(), 1u);
}

BOOST_AUTO_TEST_SUITE_END()
