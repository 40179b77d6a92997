// The status update manager in virtual time: in order, one in flight per task, retries with
// exponential backoff until acknowledged, and recovery from its checkpoints after a restart.
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <memory>
#include <vector>

#include <caf/scoped_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "troupe/agent/status_update_manager.hpp"
#include "troupe/messages/builders.hpp"
#include "troupe/test/child_process.hpp"
#include "troupe/test/deterministic_fixture.hpp"
#include "troupe/test/recorder.hpp"

using namespace std::chrono_literals;
using namespace troupe;
using namespace troupe::agent;

namespace {

struct manager_fixture : test::deterministic_fixture {
  std::string dir = test::temp_path("sum");
  // Stands in for the agent: every forwarded update with its virtual time.
  std::shared_ptr<test::recording<v1::StatusUpdate>> out =
    std::make_shared<test::recording<v1::StatusUpdate>>();
  update_sink_actor sink;
  status_update_manager_actor mgr;

  manager_fixture() {
    sink = test::spawn_recorder<update_sink_actor>(sys, out, now());
    mgr = start_manager();
  }

  ~manager_fixture() override {
    caf::anon_send_exit(mgr, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
    run();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  status_update_manager_actor start_manager(runtime::exponential_backoff retry = {10s, 10min, 2.0}) {
    status_update_manager_config cfg;
    cfg.checkpoint_dir = dir;
    cfg.retry = retry;
    auto hdl = spawn_status_update_manager(sys, cfg, sink);
    run();
    return hdl;
  }

  void report(v1::TaskState state, const std::string& uuid, const std::string& task = "t1") {
    auto status = make_task_status(make_task_id(task), state, v1::TaskStatus::SOURCE_EXECUTOR, 1);
    caf::anon_send(mgr, make_status_update(make_framework_id("fw"), make_agent_id("a1"),
                                           v1::ExecutorID{}, status, uuid));
    run();
  }

  void acknowledge(const std::string& uuid, const std::string& task = "t1") {
    v1::StatusUpdateAcknowledgement ack;
    *ack.mutable_agent_id() = make_agent_id("a1");
    *ack.mutable_framework_id() = make_framework_id("fw");
    *ack.mutable_task_id() = make_task_id(task);
    ack.set_uuid(uuid);
    caf::anon_send(mgr, ack);
    run();
  }

  std::vector<std::string> uuids() const {
    std::vector<std::string> result;
    for (const auto& [at, update] : out->items)
      result.push_back(update.status().uuid());
    return result;
  }

  uint64_t pending() {
    // Send, deliver, then read the answer: a blocking request would stall the single-threaded
    // deterministic scheduler.
    caf::scoped_actor self{sys};
    self->send(mgr, pending_atom::value);
    run();
    uint64_t n = 999;
    self->receive([&](uint64_t x) { n = x; }, caf::after(std::chrono::seconds{0}) >> [] {});
    return n;
  }
};

using strings = std::vector<std::string>;

} // namespace

BOOST_FIXTURE_TEST_SUITE(status_update_manager_test, manager_fixture)

BOOST_AUTO_TEST_CASE(updates_go_out_in_order_one_at_a_time) {
  report(v1::TASK_STARTING, "u1");
  report(v1::TASK_RUNNING, "u2");
  report(v1::TASK_FINISHED, "u3");
  BOOST_CHECK(uuids() == strings{"u1"});
  acknowledge("u2"); // not in flight: ignored
  BOOST_CHECK(uuids() == strings{"u1"});
  acknowledge("u1");
  BOOST_CHECK((uuids() == strings{"u1", "u2"}));
  acknowledge("u2");
  BOOST_CHECK((uuids() == strings{"u1", "u2", "u3"}));
  acknowledge("u3");
  BOOST_CHECK_EQUAL(pending(), 0u);
  // Tasks are independent streams.
  report(v1::TASK_RUNNING, "v1", "t2");
  BOOST_CHECK_EQUAL(uuids().back(), "v1");
}

BOOST_AUTO_TEST_CASE(unacknowledged_updates_are_retried_with_backoff) {
  caf::anon_send_exit(mgr, caf::exit_reason::user_shutdown);
  run();
  mgr = start_manager({10s, 40s, 2.0});
  report(v1::TASK_RUNNING, "u1");
  advance(9999ms);
  BOOST_CHECK_EQUAL(out->items.size(), 1u);
  advance(1ms);
  BOOST_REQUIRE_EQUAL(out->items.size(), 2u); // 10 s
  advance(20s);
  BOOST_REQUIRE_EQUAL(out->items.size(), 3u); // +20 s
  advance(40s);
  BOOST_REQUIRE_EQUAL(out->items.size(), 4u); // +40 s
  advance(40s);
  BOOST_REQUIRE_EQUAL(out->items.size(), 5u); // capped at 40 s
  BOOST_CHECK(out->items[1].first == 10s);
  BOOST_CHECK(out->items[2].first == 30s);
  BOOST_CHECK(out->items[3].first == 70s);
  BOOST_CHECK(out->items[4].first == 110s);
  acknowledge("u1");
  advance(10min);
  BOOST_CHECK_EQUAL(out->items.size(), 5u); // acknowledged: no more retries
}

BOOST_AUTO_TEST_CASE(invalid_and_illegal_updates_are_dropped) {
  report(v1::TASK_RUNNING, ""); // no uuid: invalid
  BOOST_CHECK(out->items.empty());
  report(v1::TASK_FINISHED, "u1");
  report(v1::TASK_RUNNING, "u2"); // after a terminal update
  report(v1::TASK_FINISHED, "u1"); // duplicate
  acknowledge("u1");
  report(v1::TASK_FINISHED, "u1"); // duplicate after the acknowledgement
  report(v1::TASK_RUNNING, "u9");  // anything after the acknowledged terminal update
  BOOST_CHECK(uuids() == strings{"u1"});
  BOOST_CHECK_EQUAL(pending(), 0u);
}

BOOST_AUTO_TEST_CASE(a_restarted_manager_resends_what_was_not_acknowledged) {
  report(v1::TASK_RUNNING, "u1");
  report(v1::TASK_FINISHED, "u2");
  acknowledge("u1");
  BOOST_CHECK((uuids() == strings{"u1", "u2"}));
  // The agent restarts: same work dir, new manager.
  caf::anon_send_exit(mgr, caf::exit_reason::kill);
  run();
  out->items.clear();
  mgr = start_manager();
  BOOST_CHECK(uuids() == strings{"u2"}); // only the unacknowledged one, at once
  BOOST_CHECK_EQUAL(pending(), 1u);
  acknowledge("u2");
  BOOST_CHECK_EQUAL(pending(), 0u);
  // A second restart resends nothing, and still recognises the finished stream: a late
  // duplicate of its terminal update is not forwarded again.
  caf::anon_send_exit(mgr, caf::exit_reason::kill);
  run();
  out->items.clear();
  mgr = start_manager();
  BOOST_CHECK(out->items.empty());
  report(v1::TASK_FINISHED, "u2");
  report(v1::TASK_RUNNING, "u3");
  BOOST_CHECK(out->items.empty());
  BOOST_CHECK_EQUAL(pending(), 0u);
}

BOOST_AUTO_TEST_CASE(a_retry_after_the_acknowledgement_sends_nothing) {
  report(v1::TASK_RUNNING, "u1");
  advance(5s);
  acknowledge("u1");
  advance(1min); // the retry scheduled for 10 s finds u1 acknowledged
  BOOST_CHECK(uuids() == strings{"u1"});
}

BOOST_AUTO_TEST_CASE(long_task_ids_are_checkpointed_and_recovered) {
  auto long_task = "t-" + std::string(250, 'x');
  report(v1::TASK_RUNNING, "u1", long_task);
  BOOST_CHECK(uuids() == strings{"u1"});
  caf::anon_send_exit(mgr, caf::exit_reason::kill);
  run();
  out->items.clear();
  mgr = start_manager();
  BOOST_CHECK(uuids() == strings{"u1"}); // recovered from a hashed file name
  acknowledge("u1", long_task);
  BOOST_CHECK_EQUAL(pending(), 0u);
}

BOOST_AUTO_TEST_SUITE_END()
