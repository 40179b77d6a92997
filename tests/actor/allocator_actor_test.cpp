// The allocator actor in virtual time: changes are batched into passes every allocation
// interval, a revive runs a pass at once, and a decline filter holds for refuse_seconds.
#include <boost/test/unit_test.hpp>

#include <memory>
#include <vector>

#include <caf/typed_event_based_actor.hpp>

#include "troupe/allocator/allocator_actor.hpp"
#include "troupe/messages/builders.hpp"
#include "troupe/test/deterministic_fixture.hpp"
#include "troupe/test/recorder.hpp"

using namespace std::chrono_literals;
using namespace troupe;
using namespace troupe::allocator;

namespace {

resources r(const std::string& text) {
  return resources::parse(text).value();
}

struct allocator_fixture : test::deterministic_fixture {
  // Stands in for the master: every batch with the virtual time it arrived.
  std::shared_ptr<test::recording<offer_batch>> got =
    std::make_shared<test::recording<offer_batch>>();
  offer_sink_actor sink;
  allocator_actor alloc;

  allocator_fixture() {
    sink = test::spawn_recorder<offer_sink_actor>(sys, got, now());
    allocator_config cfg;
    cfg.seed = seed;
    alloc = spawn_allocator(sys, cfg, sink);
    run();
  }

  ~allocator_fixture() override {
    caf::anon_send_exit(alloc, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
  }

  size_t offers_received() const {
    size_t n = 0;
    for (const auto& [at, batch] : got->items)
      n += batch.offers.size();
    return n;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(allocator_actor_test, allocator_fixture)

BOOST_AUTO_TEST_CASE(changes_are_batched_into_the_next_pass) {
  for (int i = 0; i < 3; ++i)
    caf::anon_send(alloc, agent_added{make_agent_id("a" + std::to_string(i)),
                                      r("cpus:2;mem:1024"), {}});
  caf::anon_send(alloc, add_framework_atom::value, make_framework_id("f1"),
                 std::vector<std::string>{});
  run();
  BOOST_CHECK(got->items.empty()); // nothing before the interval ends
  advance(999ms);
  BOOST_CHECK(got->items.empty());
  advance(1ms);
  BOOST_REQUIRE_EQUAL(got->items.size(), 1u); // one batch for all three agents
  BOOST_CHECK(got->items[0].first == 1s);
  BOOST_CHECK_EQUAL(got->items[0].second.offers.size(), 3u);
  advance(10s); // nothing changed: no further batches
  BOOST_CHECK_EQUAL(got->items.size(), 1u);
}

BOOST_AUTO_TEST_CASE(revive_allocates_at_once) {
  auto fw = make_framework_id("f1");
  caf::anon_send(alloc, agent_added{make_agent_id("a1"), r("cpus:2;mem:1024"), {}});
  caf::anon_send(alloc, add_framework_atom::value, fw, std::vector<std::string>{});
  caf::anon_send(alloc, suppress_atom::value, fw, std::vector<std::string>{});
  advance(1s);
  BOOST_CHECK(got->items.empty()); // suppressed
  advance(500ms);
  caf::anon_send(alloc, revive_atom::value, fw, std::vector<std::string>{});
  run();
  BOOST_REQUIRE_EQUAL(got->items.size(), 1u);
  BOOST_CHECK(got->items[0].first == 1500ms); // not at the next tick
}

BOOST_AUTO_TEST_CASE(a_decline_filter_holds_for_refuse_seconds) {
  auto fw = make_framework_id("f1");
  auto agent = make_agent_id("a1");
  caf::anon_send(alloc, agent_added{agent, r("cpus:2;mem:1024"), {}});
  caf::anon_send(alloc, add_framework_atom::value, fw, std::vector<std::string>{});
  advance(1s);
  BOOST_REQUIRE_EQUAL(offers_received(), 1u);
  auto offered = got->items[0].second.offers[0].res;
  caf::anon_send(alloc, recovered_resources{fw, agent, "*", offered, caf::timespan{5s}});
  run();
  advance(4s); // ticks at 2, 3, 4, 5 s: filtered
  BOOST_CHECK_EQUAL(offers_received(), 1u);
  advance(1s); // tick at 6 s: the filter (declined at 1 s) expired
  BOOST_REQUIRE_EQUAL(offers_received(), 2u);
  BOOST_CHECK(got->items.back().first == 6s);
}

BOOST_AUTO_TEST_CASE(recovered_resources_are_offered_to_the_next_framework) {
  auto agent = make_agent_id("a1");
  caf::anon_send(alloc, agent_added{agent, r("cpus:2;mem:1024"), {}});
  caf::anon_send(alloc, add_framework_atom::value, make_framework_id("f1"),
                 std::vector<std::string>{});
  advance(1s);
  BOOST_REQUIRE_EQUAL(offers_received(), 1u);
  auto first = got->items[0].second.offers[0];
  caf::anon_send(alloc, add_framework_atom::value, make_framework_id("f2"),
                 std::vector<std::string>{});
  caf::anon_send(alloc, recovered_resources{first.framework, agent, "*", first.res,
                                            caf::timespan{5s}});
  advance(1s);
  BOOST_REQUIRE_EQUAL(offers_received(), 2u);
  BOOST_CHECK_EQUAL(got->items.back().second.offers[0].framework.value(), "f2");
}

BOOST_AUTO_TEST_CASE(tasks_of_a_joining_agent_are_never_offered) {
  // The agent and what its tasks use arrive in one message: no pass can offer the used part.
  auto fw = make_framework_id("f1");
  caf::anon_send(alloc, add_framework_atom::value, fw, std::vector<std::string>{});
  caf::anon_send(alloc, agent_added{make_agent_id("a1"), r("cpus:4;mem:4096"),
                                    {{fw, "*", r("cpus:3;mem:1024")}}});
  advance(1s);
  BOOST_REQUIRE_EQUAL(offers_received(), 1u);
  BOOST_CHECK(got->items[0].second.offers[0].res == r("cpus:1;mem:3072"));
}

BOOST_AUTO_TEST_SUITE_END()
