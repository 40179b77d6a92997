// The scheduler driver supervising its framework actor, in virtual time, with a peer probe as
// the master: a crashed framework is restarted after its backoff and handed the last Subscribed
// (same framework ID), offers meanwhile are declined at once and updates left unacknowledged
// (the agent resends them); too many crashes end the driver; a normal end ends it at once.
#include <boost/test/unit_test.hpp>

#include <memory>

#include <caf/typed_event_based_actor.hpp>

#include "troupe/messages/builders.hpp"
#include "troupe/messages/errc.hpp"
#include "troupe/runtime/errors.hpp"
#include "troupe/sdk/scheduler_driver.hpp"
#include "troupe/test/deterministic_fixture.hpp"
#include "troupe/test/peer_probe.hpp"

using namespace std::chrono_literals;
using namespace troupe;
using Call = v1::scheduler::Call;

namespace {

/// What the framework incarnations saw.
struct seen {
  int started = 0;
  std::vector<std::string> subscribed; ///< framework IDs, one per Subscribed
  int offers = 0;
  int updates = 0;
  sdk::framework_actor current;
};

sdk::framework_actor::behavior_type recording_framework(sdk::framework_actor::pointer self,
                                                        std::shared_ptr<seen> s) {
  ++s->started;
  return {
    [s](const v1::scheduler::Subscribed& x) { s->subscribed.push_back(x.framework_id().value()); },
    [s](const v1::scheduler::Offers&) { ++s->offers; },
    [](const v1::scheduler::Rescind&) {},
    [s](const v1::scheduler::Update&) { ++s->updates; },
    [](const v1::scheduler::ExecutorMessage&) {},
    [](const v1::scheduler::Failure&) {},
    [self](const v1::scheduler::Error& e) { // "quit": the framework is done
      if (e.message() == "quit")
        self->quit();
    },
    [](sdk::disconnected_atom) {},
  };
}

struct driver_fixture : test::deterministic_fixture {
  test::peer_probe master = test::spawn_peer_probe(sys);
  std::shared_ptr<seen> fw = std::make_shared<seen>();
  sdk::scheduler_driver_actor driver;

  driver_fixture() {
    sdk::scheduler_driver_config cfg;
    cfg.framework = make_framework_info("recorder", "alice", {"*"});
    cfg.master.local = master.handle;
    auto s = fw;
    driver = sdk::spawn_scheduler_driver(sys, cfg, [this, s](sdk::scheduler_driver_actor) {
      s->current = sys.spawn(recording_framework, s);
      return s->current;
    });
    run();
    BOOST_REQUIRE_EQUAL(calls_of(Call::kSubscribe), 1u);
    v1::scheduler::Subscribed sub;
    sub.mutable_framework_id()->set_value("fw-1");
    sub.set_heartbeat_interval_seconds(3600);
    master.send_to(driver, make_event(std::move(sub)));
    run();
    BOOST_REQUIRE_EQUAL(fw->subscribed.size(), 1u);
  }

  ~driver_fixture() override {
    caf::anon_send_exit(driver, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(master.handle, caf::exit_reason::user_shutdown);
    run();
  }

  size_t calls_of(Call::CallCase type) const {
    size_t n = 0;
    for (const auto& c : master.received<Call>())
      n += c.call_case() == type ? 1 : 0;
    return n;
  }

  void crash_framework() {
    auto hdl = caf::actor_cast<caf::actor>(fw->current);
    caf::anon_send(hdl, caf::exit_msg{hdl.address(), make_error(errc::io_error, "crashed")});
    run();
  }

  void offer(const std::string& id) {
    v1::scheduler::Offers offers;
    *offers.add_offers() = make_offer(make_offer_id(id), make_framework_id("fw-1"),
                                      make_agent_id("a1"), "host1",
                                      resources::parse("cpus:1;mem:128").value(), "*");
    master.send_to(driver, make_event(std::move(offers)));
    run();
  }

  void update(const std::string& task) {
    v1::scheduler::Update up;
    auto* st = up.mutable_status();
    st->mutable_task_id()->set_value(task);
    st->mutable_agent_id()->set_value("a1");
    st->set_state(v1::TASK_RUNNING);
    st->set_uuid("uuid-" + task);
    master.send_to(driver, make_event(std::move(up)));
    run();
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(scheduler_driver_test, driver_fixture)

BOOST_AUTO_TEST_CASE(a_crashed_framework_restarts_and_reconciles_under_its_id) {
  auto driver_exit = watch(caf::actor_cast<caf::actor>(driver));
  crash_framework();
  BOOST_CHECK(!driver_exit->down);
  // Restarting (1 s): offers are declined at once, updates neither handed on nor acknowledged.
  offer("o1");
  BOOST_CHECK_EQUAL(calls_of(Call::kDecline), 1u);
  update("t1");
  BOOST_CHECK_EQUAL(calls_of(Call::kAcknowledge), 0u);
  advance(999ms);
  BOOST_CHECK_EQUAL(fw->started, 1);
  advance(1ms);
  BOOST_CHECK_EQUAL(fw->started, 2);
  BOOST_REQUIRE_EQUAL(fw->subscribed.size(), 2u); // the new one reconciles ...
  BOOST_CHECK_EQUAL(fw->subscribed[1], "fw-1");   // ... under the same framework ID
  update("t1");                                   // the agent's resend: handed on, acknowledged
  BOOST_CHECK_EQUAL(fw->updates, 1);
  BOOST_CHECK_EQUAL(calls_of(Call::kAcknowledge), 1u);
  offer("o2");
  BOOST_CHECK_EQUAL(fw->offers, 1);
  BOOST_CHECK_EQUAL(calls_of(Call::kDecline), 1u);
}

BOOST_AUTO_TEST_CASE(crashing_too_often_ends_the_driver) {
  auto driver_exit = watch(caf::actor_cast<caf::actor>(driver));
  for (int i = 0; i < 3; ++i) { // 3 restarts within 5 minutes are allowed
    crash_framework();
    advance(31s);
    BOOST_REQUIRE(!driver_exit->down);
  }
  BOOST_CHECK_EQUAL(fw->started, 4);
  crash_framework();
  BOOST_REQUIRE(driver_exit->down);
  BOOST_CHECK(is(driver_exit->reason, errc::supervisor_gave_up));
}

BOOST_AUTO_TEST_CASE(a_framework_that_ends_normally_ends_the_driver) {
  auto driver_exit = watch(caf::actor_cast<caf::actor>(driver));
  v1::scheduler::Error quit;
  quit.set_message("quit");
  master.send_to(driver, make_event(std::move(quit)));
  run();
  BOOST_CHECK(driver_exit->down);
  BOOST_CHECK(!driver_exit->reason);
  advance(1min);
  BOOST_CHECK_EQUAL(fw->started, 1);
}

BOOST_AUTO_TEST_SUITE_END()
