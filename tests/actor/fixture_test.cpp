// The deterministic fixture itself: stepping, virtual time, mailbox inspection.
#include <boost/test/unit_test.hpp>

#include <cmath>

#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>

#include "troupe/messages/builders.hpp"
#include "troupe/messages/type_ids.hpp"
#include "troupe/runtime/unix_time.hpp"
#include "troupe/test/deterministic_fixture.hpp"

using namespace std::chrono_literals;
using namespace troupe;

namespace {

struct counter_state {
  int pings = 0;
  int ticks = 0;
};

using tick_atom = caf::atom_constant<caf::atom("tick")>;

caf::behavior counter(caf::stateful_actor<counter_state>* self) {
  self->delayed_send(self, 1s, tick_atom::value);
  return {
    [self](const v1::Ping&) { ++self->state.pings; },
    [self](tick_atom) {
      ++self->state.ticks;
      self->delayed_send(self, 1s, tick_atom::value);
    },
  };
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(fixture_test, test::deterministic_fixture)

BOOST_AUTO_TEST_CASE(messages_run_only_when_asked) {
  auto c = sys.spawn(counter);
  run();
  v1::Ping ping;
  ping.set_seq(7);
  caf::anon_send(c, ping);
  caf::anon_send(c, ping);
  auto next = next_message_as<v1::Ping>(c);
  BOOST_REQUIRE(next);
  BOOST_CHECK_EQUAL(std::get<0>(*next).seq(), 7u);
  BOOST_CHECK(!next_message_as<tick_atom>(c));
  BOOST_CHECK_EQUAL(state_of<counter_state>(c).pings, 0);
  BOOST_CHECK(run_once());
  BOOST_CHECK_EQUAL(state_of<counter_state>(c).pings, 1);
  BOOST_CHECK_EQUAL(run(), 1u);
  BOOST_CHECK_EQUAL(state_of<counter_state>(c).pings, 2);
  BOOST_CHECK(!next_message(c));
  BOOST_CHECK(!run_once());
  caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(virtual_time_fires_timers_exactly_when_due) {
  auto c = sys.spawn(counter);
  run();
  BOOST_CHECK(has_pending_timeout());
  BOOST_CHECK_EQUAL(advance(999ms), 0u);
  BOOST_CHECK_EQUAL(state_of<counter_state>(c).ticks, 0);
  BOOST_CHECK_EQUAL(advance(1ms), 1u);
  BOOST_CHECK_EQUAL(state_of<counter_state>(c).ticks, 1);
  // A periodic timer re-armed by its handler fires once per second of advanced time.
  BOOST_CHECK_EQUAL(advance(10s), 10u);
  BOOST_CHECK_EQUAL(state_of<counter_state>(c).ticks, 11);
  BOOST_CHECK(elapsed() == 11s);
  BOOST_CHECK_EQUAL(advance(500ms), 0u);
  BOOST_CHECK_EQUAL(trigger_timeouts(), 1u); // jumps to the next tick at 12 s
  BOOST_CHECK_EQUAL(state_of<counter_state>(c).ticks, 12);
  BOOST_CHECK(elapsed() == 12s);
  caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(watch_reports_the_exit_reason) {
  auto c = sys.spawn(counter);
  run();
  auto rec = watch(c);
  BOOST_CHECK(!rec->down);
  caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
  run();
  BOOST_CHECK(rec->down);
  BOOST_CHECK(rec->reason == caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(unix_timestamps_follow_virtual_time) {
  // Actors stamp status updates through runtime::unix_seconds: in a deterministic run the
  // stamps are a fixed epoch plus virtual time, so a replay produces the same bytes.
  auto t0 = runtime::unix_seconds(sched.clock());
  advance(90s);
  BOOST_CHECK_EQUAL(runtime::unix_seconds(sched.clock()) - t0, 90.0);
  BOOST_CHECK_GE(t0, runtime::simulated_epoch);
  // A real clock maps to wall time (within a few seconds of it) and moves with steady time.
  caf::actor_system_config real_cfg;
  caf::actor_system real{real_cfg};
  auto wall = std::chrono::duration<double>(
                std::chrono::system_clock::now().time_since_epoch()).count();
  BOOST_CHECK_LT(std::abs(runtime::unix_seconds(real.clock()) - wall), 5.0);
}

BOOST_AUTO_TEST_CASE(the_seed_is_stable_within_a_process) {
  BOOST_CHECK_EQUAL(seed, test::test_seed());
}

BOOST_AUTO_TEST_SUITE_END()
