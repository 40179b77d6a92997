// The executor's subscription, from both ends, in virtual time: the agent (with a containerizer
// that starts nothing, and probes as its master and its executor) and the SDK's executor
// driver (with probes as its agent and its executor).
//
// Regression tests for issue 24 (a few real tasks in every thousand stayed STAGING for ever):
// CAF 0.17 attributes a connection accepted on a reused socket descriptor to the dead peer
// that had it, or to nobody, so the agent answered an executor's one Subscribe into the void
// and dropped its launch with it. Now the Subscribe names the executor's handle, is sent again
// until answered, and every subscription brings the launches not yet reported on.
#include <boost/test/unit_test.hpp>

#include <filesystem>

#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "troupe/agent/agent_actor.hpp"
#include "troupe/messages/builders.hpp"
#include "troupe/messages/errc.hpp"
#include "troupe/messages/resources.hpp"
#include "troupe/sdk/executor_driver.hpp"
#include "troupe/test/child_process.hpp"
#include "troupe/test/deterministic_fixture.hpp"
#include "troupe/test/peer_probe.hpp"

using namespace std::chrono_literals;
using namespace troupe;

namespace {

constexpr uint64_t epoch = 1;

// A containerizer whose containers start nothing: the test plays the executor.
isolation::containerizer_actor::behavior_type silent_containerizer() {
  return {
    [](isolation::launch_atom, const isolation::launch_request& req) {
      return isolation::container_launched{req.container_id, 4242};
    },
    [](isolation::destroy_atom, const v1::ContainerID&, caf::timespan) {},
    [](isolation::containers_atom) { return std::vector<v1::ContainerID>{}; },
    [](isolation::recover_atom, const std::vector<isolation::container_launched>&) {
      return std::vector<v1::ContainerID>{};
    },
    [](isolation::usage_atom, const v1::ContainerID&) { return v1::ResourceStatistics{}; },
    [](isolation::limitation_atom, const v1::ContainerID&) {
      return std::vector<isolation::limitation>{};
    },
    [](isolation::update_atom, const v1::ContainerID&, const isolation::container_limits&) {},
  };
}

/// Every Subscribe in `probe`'s log that came with a declared reply address.
std::vector<std::pair<v1::executor::Call, caf::actor>> declared_calls(const test::peer_probe& p) {
  std::vector<std::pair<v1::executor::Call, caf::actor>> out;
  for (const auto& m : *p.log)
    if (m.match_elements<v1::executor::Call, caf::actor>())
      out.emplace_back(m.get_as<v1::executor::Call>(0), m.get_as<caf::actor>(1));
  return out;
}

template <class Pred>
size_t count_events(const test::peer_probe& p, Pred pred) {
  size_t n = 0;
  for (const auto& e : p.received<v1::executor::Event>())
    if (pred(e))
      ++n;
  return n;
}

size_t launches_of(const test::peer_probe& p, const std::string& task) {
  return count_events(p, [&](const v1::executor::Event& e) {
    return e.has_launch() && e.launch().task().task_id().value() == task;
  });
}

size_t subscribed_events(const test::peer_probe& p) {
  return count_events(p, [](const v1::executor::Event& e) { return e.has_subscribed(); });
}

struct agent_side : test::deterministic_fixture {
  agent::agent_config cfg;
  std::string work_dir = test::temp_path("executor-subscription-test");
  test::peer_probe master;
  test::peer_probe executor;
  agent::agent_node_actor agent;
  v1::AgentID agent_id = make_agent_id("m1-S0");
  v1::FrameworkInfo framework = make_framework_info("fw", "alice", {"*"});
  v1::RunTask run_msg;

  agent_side() {
    cfg.info = make_agent_info("host1", 5051, resources::parse("cpus:8;mem:8192").value());
    cfg.work_dir = work_dir;
    cfg.executor_path = "/nonexistent/troupe-executor";
    cfg.executor_endpoint = "in-process:0";
    cfg.seed = seed;
    framework.mutable_id()->set_value("m1-F0000");
    master = test::spawn_peer_probe(sys);
    executor = test::spawn_peer_probe(sys);
    agent = agent::spawn_agent(sys, cfg, caf::actor_cast<protocols::master_actor>(master.handle),
                               [](caf::actor_system& s, isolation::container_watcher_actor) {
                                 return s.spawn(silent_containerizer);
                               });
    run();
    v1::AgentRegistered reply;
    *reply.mutable_agent_id() = agent_id;
    reply.mutable_master()->set_epoch(epoch);
    reply.set_ping_interval_seconds(60);
    reply.set_epoch(epoch);
    master.send_to(agent, reply);
    run();
    *run_msg.mutable_framework() = framework;
    *run_msg.mutable_task() = make_task_info(make_task_id("t1"), "t1", agent_id,
                                         resources::parse("cpus:1;mem:128").value(),
                                         make_shell_command("true"));
    run_msg.set_epoch(epoch);
  }

  ~agent_side() override {
    for (auto& a : {caf::actor_cast<caf::actor>(agent), master.handle, executor.handle})
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    run();
    std::error_code ec;
    std::filesystem::remove_all(work_dir, ec);
  }

  v1::executor::Call subscribe_call() const {
    v1::executor::Call call;
    *call.mutable_framework_id() = framework.id();
    *call.mutable_executor_id() = make_executor_id("t1");
    call.mutable_subscribe();
    return call;
  }

  void launch_t1() {
    master.send_to(agent, run_msg);
    run_all();
  }

  /// The executor probe reports `state` for t1.
  void report(v1::TaskState state) {
    v1::executor::Call call;
    *call.mutable_framework_id() = framework.id();
    *call.mutable_executor_id() = make_executor_id("t1");
    auto status = make_task_status(make_task_id("t1"), state, v1::TaskStatus::SOURCE_EXECUTOR, 1);
    status.set_uuid(std::string(16, 'u'));
    *call.mutable_update()->mutable_status() = status;
    executor.send_to(agent, call);
    run_all();
  }

  void run_all() {
    test::deterministic_fixture::run();
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(executor_subscription_test)

BOOST_FIXTURE_TEST_CASE(a_subscribe_without_a_sender_is_answered_at_the_address_it_declares,
                        agent_side) {
  launch_t1();
  // As CAF delivers it when it lost the connection's node: no sender, the handle declared.
  caf::anon_send(agent, subscribe_call(), executor.handle);
  run_all();
  BOOST_CHECK_EQUAL(subscribed_events(executor), 1u);
  BOOST_CHECK_EQUAL(launches_of(executor, "t1"), 1u);
}

BOOST_FIXTURE_TEST_CASE(a_subscribe_nobody_can_be_answered_is_ignored_and_loses_no_launch,
                        agent_side) {
  launch_t1();
  caf::anon_send(agent, subscribe_call()); // no sender, nothing declared
  run_all();
  BOOST_CHECK(executor.received<v1::executor::Event>().empty());
  executor.send_to(agent, subscribe_call());
  run_all();
  BOOST_CHECK_EQUAL(subscribed_events(executor), 1u);
  BOOST_CHECK_EQUAL(launches_of(executor, "t1"), 1u);
}

BOOST_FIXTURE_TEST_CASE(every_subscription_resends_the_launches_not_yet_reported_on,
                        agent_side) {
  launch_t1();
  executor.send_to(agent, subscribe_call());
  run_all();
  executor.send_to(agent, subscribe_call()); // its answer was lost: the executor asks again
  run_all();
  BOOST_CHECK_EQUAL(subscribed_events(executor), 2u);
  BOOST_CHECK_EQUAL(launches_of(executor, "t1"), 2u);
  report(v1::TASK_RUNNING);
  executor.send_to(agent, subscribe_call());
  run_all();
  BOOST_CHECK_EQUAL(subscribed_events(executor), 3u);
  BOOST_CHECK_EQUAL(launches_of(executor, "t1"), 2u); // reported on: not sent again
}

BOOST_FIXTURE_TEST_CASE(the_masters_resend_of_a_staging_task_reaches_its_executor_again,
                        agent_side) {
  launch_t1();
  executor.send_to(agent, subscribe_call());
  run_all();
  BOOST_CHECK_EQUAL(launches_of(executor, "t1"), 1u);
  master.send_to(agent, run_msg); // "still STAGING: sending its launch again"
  run_all();
  BOOST_CHECK_EQUAL(launches_of(executor, "t1"), 2u);
  report(v1::TASK_RUNNING);
  master.send_to(agent, run_msg); // a late duplicate of a running task changes nothing
  run_all();
  BOOST_CHECK_EQUAL(launches_of(executor, "t1"), 2u);
}

BOOST_FIXTURE_TEST_CASE(a_task_killed_before_its_executor_subscribed_is_never_launched,
                        agent_side) {
  launch_t1();
  v1::KillTask kill;
  *kill.mutable_framework_id() = framework.id();
  *kill.mutable_task_id() = make_task_id("t1");
  kill.set_epoch(epoch);
  master.send_to(agent, kill);
  run_all();
  executor.send_to(agent, subscribe_call());
  run_all();
  BOOST_CHECK_EQUAL(launches_of(executor, "t1"), 0u);
  bool killed = false;
  for (const auto& u : master.received<v1::StatusUpdate>())
    killed = killed || u.status().state() == v1::TASK_KILLED;
  BOOST_CHECK(killed);
}

BOOST_AUTO_TEST_SUITE_END()

// -- the executor driver ---------------------------------------------------------------------

namespace {

struct driver_side : test::deterministic_fixture {
  test::peer_probe agent = test::spawn_peer_probe(sys);
  test::peer_probe executor = test::spawn_peer_probe(sys);
  sdk::executor_driver_config cfg;
  sdk::executor_driver_actor driver;

  driver_side() {
    cfg.settings.agent_id = make_agent_id("a1");
    *cfg.settings.framework_id.mutable_value() = "f1";
    cfg.settings.executor_id = make_executor_id("e1");
    *cfg.settings.container_id.mutable_value() = "c1";
    cfg.settings.sandbox = "/nonexistent";
    cfg.agent.local = agent.handle;
  }

  ~driver_side() override {
    for (auto& a : {caf::actor_cast<caf::actor>(driver), agent.handle, executor.handle})
      if (a)
        caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    run();
  }

  void start() {
    auto exec = executor.handle;
    driver = sdk::spawn_executor_driver(sys, cfg, [exec](sdk::executor_driver_actor) {
      return caf::actor_cast<protocols::executor_actor>(exec);
    });
    run();
  }

  void agent_sends(v1::executor::Event event) {
    agent.send_to(driver, std::move(event));
    run();
  }

  static v1::executor::Event subscribed() {
    v1::executor::Event e;
    e.mutable_subscribed();
    return e;
  }

  static v1::executor::Event launch(const std::string& task) {
    v1::executor::Event e;
    *e.mutable_launch()->mutable_task()->mutable_task_id() = make_task_id(task);
    return e;
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(executor_subscription_test)

BOOST_FIXTURE_TEST_CASE(the_subscribe_names_the_driver_and_goes_again_until_answered,
                        driver_side) {
  start();
  auto calls = declared_calls(agent);
  BOOST_REQUIRE_EQUAL(calls.size(), 1u);
  BOOST_CHECK(calls[0].first.has_subscribe());
  BOOST_CHECK(calls[0].second == caf::actor_cast<caf::actor>(driver));
  advance(1s); // first retry after 1 s, then 2 s, 4 s
  BOOST_CHECK_EQUAL(declared_calls(agent).size(), 2u);
  advance(2s);
  BOOST_CHECK_EQUAL(declared_calls(agent).size(), 3u);
  agent_sends(subscribed());
  advance(30s);
  BOOST_CHECK_EQUAL(declared_calls(agent).size(), 3u); // answered: no more
  BOOST_CHECK_EQUAL(subscribed_events(executor), 1u);
}

BOOST_FIXTURE_TEST_CASE(repeated_answers_and_launches_reach_the_executor_once,
                        driver_side) {
  start();
  agent_sends(subscribed());
  agent_sends(launch("t1"));
  agent_sends(subscribed()); // the answers to a Subscribe sent again
  agent_sends(launch("t1"));
  v1::executor::Event group;
  *group.mutable_launch_group()->mutable_task_group()->add_tasks()->mutable_task_id() =
    make_task_id("t1");
  agent_sends(group);
  agent_sends(launch("t2"));
  BOOST_CHECK_EQUAL(subscribed_events(executor), 1u);
  BOOST_CHECK_EQUAL(launches_of(executor, "t1"), 1u);
  BOOST_CHECK_EQUAL(launches_of(executor, "t2"), 1u);
  BOOST_CHECK_EQUAL(count_events(executor, [](auto& e) { return e.has_launch_group(); }), 0u);
}

BOOST_FIXTURE_TEST_CASE(a_driver_nobody_answers_gives_up_and_ends,
                        driver_side) {
  cfg.first_subscribe_timeout = 20s;
  cfg.recovery_timeout = 1s;
  start();
  auto exited = watch(caf::actor_cast<caf::actor>(driver));
  advance(15s);
  BOOST_CHECK(!exited->down);
  advance(15s);
  BOOST_REQUIRE(exited->down);
  BOOST_CHECK(is(exited->reason, errc::unavailable));
}

BOOST_AUTO_TEST_SUITE_END()
