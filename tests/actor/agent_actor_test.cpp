// The agent actor in virtual time, with a peer probe standing in for the master and the fake
// containerizer running in-process executors: registration, pings, a task's updates and their
// retries, kills, and reregistration after the master went silent. Also the fake containerizer
// on its own (destroy).
#include <boost/test/unit_test.hpp>

#include <sys/wait.h>

#include <filesystem>
#include <map>

#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "troupe/agent/agent_actor.hpp"
#include "troupe/messages/builders.hpp"
#include "troupe/messages/errc.hpp"
#include "troupe/runtime/errors.hpp"
#include "troupe/messages/resources.hpp"
#include "troupe/test/child_process.hpp"
#include "troupe/actors/common/task_transitions.hpp"
#include "troupe/test/deterministic_fixture.hpp"
#include "troupe/test/fake_containerizer.hpp"
#include "troupe/test/peer_probe.hpp"

using namespace std::chrono_literals;
using namespace troupe;

namespace {

constexpr uint64_t epoch = 1;

struct agent_fixture : test::deterministic_fixture {
  agent::agent_config cfg;
  std::string work_dir = test::temp_path("agent-actor-test");
  test::peer_probe master;
  agent::agent_node_actor agent;
  v1::AgentID agent_id = make_agent_id("m1-S0");
  v1::FrameworkInfo framework = make_framework_info("fw", "alice", {"*"});

  agent_fixture() {
    cfg.info = make_agent_info("host1", 5051, resources::parse("cpus:8;mem:8192").value());
    cfg.work_dir = work_dir;
    cfg.executor_path = "/nonexistent/troupe-executor"; // the fake containerizer runs nothing
    cfg.executor_endpoint = "in-process:0";
    cfg.update_retry = {10s, 10min, 2.0};
    cfg.seed = seed;
    framework.mutable_id()->set_value("m1-F0000");
  }

  ~agent_fixture() override {
    for (auto& a : {caf::actor_cast<caf::actor>(agent), master.handle})
      if (a)
        caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    run();
    std::error_code ec;
    std::filesystem::remove_all(work_dir, ec);
  }

  void start() {
    master = test::spawn_peer_probe(sys);
    agent = agent::spawn_agent(sys, cfg, caf::actor_cast<protocols::master_actor>(master.handle),
                               test::fake_containerizer_factory({}));
    run();
  }

  /// Starts the agent and answers its registration (pings every `ping_interval`).
  void start_registered(double ping_interval_seconds = 60) {
    start();
    BOOST_REQUIRE_EQUAL(master.received<v1::RegisterAgent>().size(), 1u);
    v1::AgentRegistered reply;
    *reply.mutable_agent_id() = agent_id;
    reply.mutable_master()->set_id("m1");
    reply.mutable_master()->set_epoch(epoch);
    reply.set_ping_interval_seconds(ping_interval_seconds);
    reply.set_epoch(epoch);
    master.send_to(agent, reply);
    run();
  }

  void ping(uint64_t seq) {
    v1::Ping msg;
    msg.set_seq(seq);
    msg.set_connected(true);
    msg.set_epoch(epoch);
    master.send_to(agent, msg);
    run();
  }

  /// Runs a fake task lasting `duration_ms` and ending with `exit_code`.
  void run_task(const std::string& id, int duration_ms, int exit_code = 0,
                const std::string& role = "") {
    auto info = make_task_info(make_task_id(id), id, agent_id,
                               resources::parse("cpus:1;mem:128").value(),
                               make_shell_command("true"));
    auto* label = info.mutable_labels()->add_labels();
    label->set_key(test::fake_duration_label);
    label->set_value(std::to_string(duration_ms));
    label = info.mutable_labels()->add_labels();
    label->set_key(test::fake_exit_code_label);
    label->set_value(std::to_string(exit_code));
    v1::RunTask msg;
    *msg.mutable_framework() = framework;
    *msg.mutable_task() = info;
    msg.set_epoch(epoch);
    msg.set_role(role);
    master.send_to(agent, msg);
    run();
  }

  /// The master's answer to the agent's registration: `id` is its ID now.
  void answer_registration(const v1::AgentID& id) {
    v1::AgentRegistered reply;
    *reply.mutable_agent_id() = id;
    reply.mutable_master()->set_epoch(epoch);
    reply.set_ping_interval_seconds(1);
    reply.set_epoch(epoch);
    master.send_to(agent, reply);
    run();
  }

  void kill_task(const std::string& id) {
    v1::KillTask msg;
    *msg.mutable_framework_id() = framework.id();
    *msg.mutable_task_id() = make_task_id(id);
    msg.set_epoch(epoch);
    master.send_to(agent, msg);
    run();
  }

  std::vector<v1::StatusUpdate> updates() const {
    return master.received<v1::StatusUpdate>();
  }

  std::vector<v1::TaskState> states() const {
    std::vector<v1::TaskState> out;
    for (const auto& u : updates())
      out.push_back(u.status().state());
    return out;
  }

  void acknowledge(const v1::StatusUpdate& update) {
    master.send_to(agent, make_acknowledgement(update, epoch));
    run();
  }

  /// Sends the agent a new total, as the master does after a RESERVE or UNRESERVE.
  void checkpoint_resources(const resources& total, uint64_t msg_epoch = epoch,
                            const v1::AgentID* id = nullptr) {
    v1::CheckpointResources msg;
    *msg.mutable_agent_id() = id != nullptr ? *id : agent_id;
    total.to_proto(msg.mutable_resources());
    msg.set_epoch(msg_epoch);
    master.send_to(agent, msg);
    run();
  }

  /// Lets the master go silent until the agent reregisters; returns its ReregisterAgent
  /// messages (the agent must have been started with start_registered(1) and
  /// cfg.master_silence_pings = 3).
  std::vector<v1::ReregisterAgent> await_reregistration() {
    for (int i = 0; i < 60 && master.received<v1::ReregisterAgent>().empty(); ++i)
      advance(500ms);
    return master.received<v1::ReregisterAgent>();
  }

  /// The total a ReregisterAgent reports.
  /// The agent reregisters (the master went silent) and reports `expected` as its total.
  void expect_reported_total(const resources& expected) {
    auto reregs = await_reregistration();
    BOOST_REQUIRE_GE(reregs.size(), 1u);
    auto reported = reported_total(reregs[0]);
    BOOST_CHECK_MESSAGE(reported == expected, "reported " << reported.to_json() << ", expected "
                                                          << expected.to_json());
  }

  static resources reported_total(const v1::ReregisterAgent& msg) {
    auto total = resources::from_proto(msg.agent().resources());
    BOOST_REQUIRE_MESSAGE(total, "the reported total does not parse");
    return *total;
  }

  /// Ends the agent and starts another over the same work dir (and `cfg`), as after a crash.
  void restart_agent() {
    auto exited = watch(caf::actor_cast<caf::actor>(agent));
    caf::anon_send_exit(agent, caf::exit_reason::user_shutdown);
    run();
    BOOST_REQUIRE(exited->down);
    master.clear();
    agent = agent::spawn_agent(sys, cfg, caf::actor_cast<protocols::master_actor>(master.handle),
                               test::fake_containerizer_factory({}));
    run();
  }

  /// The agent's current status update manager and containerizer.
  std::pair<caf::actor, caf::actor> helpers() {
    caf::scoped_actor self{sys};
    std::pair<caf::actor, caf::actor> out;
    auto pending = self->request(agent, caf::infinite, agent::helpers_atom::value);
    run();
    pending.receive([&](caf::actor& u, caf::actor& c) { out = {std::move(u), std::move(c)}; },
                    [](caf::error&) { BOOST_FAIL("no helpers"); });
    return out;
  }

  /// Ends `hdl` with an error, as a crash would (exit_reason::kill would be fatal to the
  /// linked agent in CAF 0.17, which is not what a crash of a helper does).
  static void crash(const caf::actor& hdl) {
    caf::anon_send(hdl, caf::exit_msg{hdl.address(), make_error(errc::io_error, "crashed")});
  }

  std::vector<v1::Task> agent_tasks() {
    caf::scoped_actor self{sys};
    self->send(agent, agent::agent_state_atom::value);
    run();
    std::vector<v1::Task> out;
    self->receive([&](const v1::AgentID&, std::vector<v1::Task>& tasks) { out = std::move(tasks); },
                  caf::after(0s) >> [] { BOOST_FAIL("no agent state"); });
    return out;
  }
};

/// `amount` of the scalar `name` dynamically reserved for `role` (by principal "alice").
resources dynamic(const std::string& name, double amount, const std::string& role) {
  resource_key key{name, {reservation{v1::ReservationInfo::DYNAMIC, role, "alice", {}}}};
  resource_value value;
  value.millis = static_cast<int64_t>(amount * 1000);
  resources out;
  out.add(key, value);
  return out;
}

resources parsed(const std::string& text) {
  return resources::parse(text).value();
}

/// The fixture's --resources with cpus:1 of them reserved for "web".
resources web_reserved_total() {
  return parsed("cpus:7;mem:8192") + dynamic("cpus", 1, "web");
}

std::string name(v1::TaskState s) {
  return v1::TaskState_Name(s);
}

std::string names(const std::vector<v1::TaskState>& xs) {
  std::string out;
  for (auto s : xs)
    out += (out.empty() ? "" : ",") + name(s);
  return out;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(agent_actor_test, agent_fixture)

BOOST_AUTO_TEST_CASE(registers_adopts_its_id_and_answers_pings) {
  start();
  auto regs = master.received<v1::RegisterAgent>();
  BOOST_REQUIRE_EQUAL(regs.size(), 1u);
  BOOST_CHECK_EQUAL(regs[0].agent().hostname(), "host1");
  BOOST_CHECK(regs[0].agent().id().value().empty());
  v1::AgentRegistered reply;
  *reply.mutable_agent_id() = agent_id;
  reply.mutable_master()->set_epoch(epoch);
  reply.set_ping_interval_seconds(60);
  reply.set_epoch(epoch);
  master.send_to(agent, reply);
  run();
  // Registered: no more registration attempts.
  advance(2min);
  BOOST_CHECK_EQUAL(master.received<v1::RegisterAgent>().size(), 1u);
  ping(7);
  auto pongs = master.received<v1::Pong>();
  BOOST_REQUIRE_EQUAL(pongs.size(), 1u);
  BOOST_CHECK_EQUAL(pongs[0].seq(), 7u);
  BOOST_CHECK_EQUAL(pongs[0].agent_id().value(), agent_id.value());
}

BOOST_AUTO_TEST_CASE(retries_registration_until_answered) {
  start();
  BOOST_CHECK_EQUAL(master.received<v1::RegisterAgent>().size(), 1u);
  advance(1100ms); // registration backoff starts at 1 s
  BOOST_CHECK_EQUAL(master.received<v1::RegisterAgent>().size(), 2u);
}

BOOST_AUTO_TEST_CASE(a_task_runs_and_finishes_after_its_duration) {
  start_registered();
  run_task("t1", 5000);
  auto ups = updates();
  BOOST_REQUIRE_EQUAL(ups.size(), 1u);
  BOOST_CHECK_EQUAL(name(ups[0].status().state()), "TASK_RUNNING");
  BOOST_CHECK_EQUAL(ups[0].status().task_id().value(), "t1");
  BOOST_CHECK_EQUAL(ups[0].agent_id().value(), agent_id.value());
  BOOST_CHECK(!ups[0].status().uuid().empty());
  acknowledge(ups[0]);
  advance(4900ms);
  BOOST_CHECK_EQUAL(updates().size(), 1u); // still running
  advance(100ms);
  ups = updates();
  BOOST_REQUIRE_EQUAL(ups.size(), 2u);
  BOOST_CHECK_EQUAL(name(ups[1].status().state()), "TASK_FINISHED");
  BOOST_CHECK(ups[1].status().has_exit_status());
  BOOST_CHECK_EQUAL(ups[1].status().exit_status(), 0);
  acknowledge(ups[1]);
  // The executor ended with its task; its exit adds no update.
  advance(1min);
  BOOST_CHECK_EQUAL(names(states()), "TASK_RUNNING,TASK_FINISHED");
  auto tasks = agent_tasks();
  BOOST_REQUIRE_EQUAL(tasks.size(), 1u);
  BOOST_CHECK_EQUAL(name(tasks[0].state()), "TASK_FINISHED");
}

BOOST_AUTO_TEST_CASE(a_nonzero_exit_code_fails_the_task_with_its_exit_status) {
  start_registered();
  run_task("t1", 0, 3);
  auto ups = updates();
  BOOST_REQUIRE_EQUAL(ups.size(), 1u);
  acknowledge(ups[0]);
  ups = updates();
  BOOST_REQUIRE_EQUAL(ups.size(), 2u);
  BOOST_CHECK_EQUAL(name(ups[1].status().state()), "TASK_FAILED");
  BOOST_CHECK_EQUAL(ups[1].status().exit_status(), 3);
}

BOOST_AUTO_TEST_CASE(an_unacknowledged_update_is_resent_after_the_retry_backoff) {
  start_registered();
  run_task("t1", 5000);
  BOOST_REQUIRE_EQUAL(updates().size(), 1u);
  advance(9s);
  // Not resent yet; FINISHED (at 5 s) waits behind the unacknowledged RUNNING.
  BOOST_CHECK_EQUAL(names(states()), "TASK_RUNNING");
  advance(2s);
  auto ups = updates();
  BOOST_REQUIRE_EQUAL(ups.size(), 2u);
  BOOST_CHECK_EQUAL(name(ups[1].status().state()), "TASK_RUNNING");
  BOOST_CHECK_EQUAL(ups[1].status().uuid(), ups[0].status().uuid());
  acknowledge(ups[1]);
  ups = updates();
  BOOST_REQUIRE_EQUAL(ups.size(), 3u);
  BOOST_CHECK_EQUAL(name(ups[2].status().state()), "TASK_FINISHED");
}

BOOST_AUTO_TEST_CASE(kill_reports_killing_then_killed) {
  start_registered();
  run_task("t1", 600000);
  BOOST_REQUIRE_EQUAL(updates().size(), 1u);
  acknowledge(updates()[0]);
  kill_task("t1");
  auto ups = updates();
  BOOST_REQUIRE_EQUAL(ups.size(), 2u);
  BOOST_CHECK_EQUAL(name(ups[1].status().state()), "TASK_KILLING");
  acknowledge(ups[1]);
  ups = updates();
  BOOST_REQUIRE_EQUAL(ups.size(), 3u);
  BOOST_CHECK_EQUAL(name(ups[2].status().state()), "TASK_KILLED");
  acknowledge(ups[2]);
  // Past the kill escalation deadline and the task's own end: nothing more.
  advance(11min);
  BOOST_CHECK_EQUAL(names(states()), "TASK_RUNNING,TASK_KILLING,TASK_KILLED");
}

BOOST_AUTO_TEST_CASE(killing_an_unknown_task_reports_it_dropped) {
  start_registered();
  kill_task("nope");
  auto ups = updates();
  BOOST_REQUIRE_EQUAL(ups.size(), 1u);
  BOOST_CHECK_EQUAL(ups[0].status().task_id().value(), "nope");
  BOOST_CHECK_EQUAL(name(ups[0].status().state()), "TASK_DROPPED");
  BOOST_CHECK_EQUAL(ups[0].status().reason(), v1::TaskStatus::REASON_TASK_UNKNOWN);
}

BOOST_AUTO_TEST_CASE(reregisters_with_its_tasks_when_the_pings_stop) {
  cfg.master_silence_pings = 3;
  start_registered(1); // 1 s pings; silent for 3 intervals (master_silence_pings) = lost
  run_task("t1", 600000);
  BOOST_REQUIRE_EQUAL(updates().size(), 1u);
  acknowledge(updates()[0]);
  for (uint64_t seq = 1; seq <= 6; ++seq) {
    advance(1s);
    ping(seq);
  }
  BOOST_CHECK(master.received<v1::ReregisterAgent>().empty());
  advance(2500ms);
  BOOST_CHECK(master.received<v1::ReregisterAgent>().empty()); // 2.5 s of silence: not yet
  advance(2s);
  auto reregs = master.received<v1::ReregisterAgent>();
  BOOST_REQUIRE_EQUAL(reregs.size(), 1u);
  BOOST_CHECK_EQUAL(reregs[0].agent().id().value(), agent_id.value());
  BOOST_REQUIRE_EQUAL(reregs[0].tasks_size(), 1);
  BOOST_CHECK_EQUAL(reregs[0].tasks(0).task_id().value(), "t1");
  BOOST_CHECK_EQUAL(name(reregs[0].tasks(0).state()), "TASK_RUNNING");
  BOOST_REQUIRE_EQUAL(reregs[0].frameworks_size(), 1);
  BOOST_CHECK_EQUAL(reregs[0].frameworks(0).id().value(), framework.id().value());
  // Accepted: it stops retrying.
  v1::AgentReregistered reply;
  *reply.mutable_agent_id() = agent_id;
  reply.mutable_master()->set_epoch(epoch);
  reply.set_ping_interval_seconds(60);
  reply.set_epoch(epoch);
  master.send_to(agent, reply);
  run();
  advance(1min);
  BOOST_CHECK_EQUAL(master.received<v1::ReregisterAgent>().size(), 1u);
}

// -- dynamic reservations and task roles ----------------------------------------------------

BOOST_AUTO_TEST_CASE(a_checkpointed_total_with_a_dynamic_reservation_is_adopted) {
  cfg.master_silence_pings = 3;
  start_registered(1);
  auto total = web_reserved_total();
  BOOST_REQUIRE(total.flatten() == parsed("cpus:8;mem:8192")); // same amounts as --resources
  BOOST_REQUIRE(total != parsed("cpus:8;mem:8192"));
  checkpoint_resources(total);
  auto reregs = await_reregistration();
  BOOST_REQUIRE_GE(reregs.size(), 1u);
  BOOST_CHECK_EQUAL(reregs[0].agent().id().value(), agent_id.value());
  auto reported = reported_total(reregs[0]);
  BOOST_CHECK_MESSAGE(reported == total, "reported " << reported.to_json() << ", expected "
                                                     << total.to_json());
  BOOST_CHECK(reported.reserved("web") == dynamic("cpus", 1, "web"));
  BOOST_CHECK(has_dynamic_reservations(reported));
}

BOOST_AUTO_TEST_CASE(a_later_total_undoing_the_reservation_is_adopted_too) {
  cfg.master_silence_pings = 3;
  start_registered(1);
  checkpoint_resources(web_reserved_total());
  checkpoint_resources(parsed("cpus:8;mem:8192")); // UNRESERVE
  expect_reported_total(parsed("cpus:8;mem:8192"));
}

BOOST_AUTO_TEST_CASE(a_newer_master_epoch_may_checkpoint_resources) {
  cfg.master_silence_pings = 3;
  start_registered(1);
  checkpoint_resources(web_reserved_total(), epoch + 1); // a new leader's term
  auto reregs = await_reregistration();
  BOOST_REQUIRE_GE(reregs.size(), 1u);
  BOOST_CHECK(reported_total(reregs[0]) == web_reserved_total());
}

BOOST_AUTO_TEST_CASE(a_total_with_more_cpus_is_refused) {
  cfg.master_silence_pings = 3;
  start_registered(1);
  checkpoint_resources(parsed("cpus:7;mem:8192") + dynamic("cpus", 2, "web")); // cpus:9
  expect_reported_total(parsed("cpus:8;mem:8192"));
}

BOOST_AUTO_TEST_CASE(a_total_with_fewer_resources_is_refused) {
  cfg.master_silence_pings = 3;
  start_registered(1);
  checkpoint_resources(parsed("cpus:6;mem:8192") + dynamic("cpus", 1, "web")); // cpus:7
  checkpoint_resources(dynamic("cpus", 8, "web")); // no mem at all
  expect_reported_total(parsed("cpus:8;mem:8192"));
}

// Static reservations are the operator's (--resources): a total that changes them is refused.
BOOST_AUTO_TEST_CASE(a_total_changing_static_reservations_is_refused) {
  cfg.master_silence_pings = 3;
  start_registered(1);
  checkpoint_resources(parsed("cpus:7;cpus(web):1;mem:8192"));
  expect_reported_total(parsed("cpus:8;mem:8192"));
}

BOOST_AUTO_TEST_CASE(a_malformed_total_is_refused) {
  cfg.master_silence_pings = 3;
  start_registered(1);
  v1::CheckpointResources msg;
  *msg.mutable_agent_id() = agent_id;
  web_reserved_total().to_proto(msg.mutable_resources());
  for (auto& r : *msg.mutable_resources())
    for (auto& info : *r.mutable_reservations())
      info.set_type(v1::ReservationInfo::UNKNOWN); // invalid: neither STATIC nor DYNAMIC
  msg.set_epoch(epoch);
  master.send_to(agent, msg);
  run();
  expect_reported_total(parsed("cpus:8;mem:8192"));
}

BOOST_AUTO_TEST_CASE(a_total_for_another_agent_is_refused) {
  cfg.master_silence_pings = 3;
  start_registered(1);
  auto other = make_agent_id("m1-S1");
  checkpoint_resources(web_reserved_total(), epoch, &other);
  expect_reported_total(parsed("cpus:8;mem:8192"));
}

BOOST_AUTO_TEST_CASE(a_total_from_a_stale_master_epoch_is_refused) {
  cfg.master_silence_pings = 3;
  start_registered(1);
  // A new leader (epoch 2) pings the agent; then the old leader (epoch 1) checkpoints.
  v1::Ping ping;
  ping.set_seq(1);
  ping.set_connected(true);
  ping.set_epoch(epoch + 1);
  master.send_to(agent, ping);
  run();
  BOOST_REQUIRE_EQUAL(master.received<v1::Pong>().size(), 1u);
  checkpoint_resources(web_reserved_total(), epoch);
  expect_reported_total(parsed("cpus:8;mem:8192"));
}

BOOST_AUTO_TEST_CASE(a_total_before_registration_is_ignored) {
  cfg.master_silence_pings = 3;
  start(); // registering: no ID yet
  v1::CheckpointResources msg; // empty agent id = the agent's own (still empty) id
  web_reserved_total().to_proto(msg.mutable_resources());
  msg.set_epoch(epoch);
  master.send_to(agent, msg);
  run();
  answer_registration(agent_id);
  expect_reported_total(parsed("cpus:8;mem:8192"));
}

// Found by the simulator (troupe-sim seed 183, cluster_sim_test
// agents_partitioned_and_crashed_while_launching): the answer to the registration was lost, the
// launch arrived, and the task started without an agent ID (its container failed); after a
// crash the restarted agent reported it although the master had declared its ID gone. A launch
// before registration is held now, and runs once the agent has its ID.
BOOST_AUTO_TEST_CASE(a_launch_before_registration_waits_for_the_agent_id) {
  start(); // registering: no ID yet
  run_task("early", 5000);
  advance(100ms);
  BOOST_CHECK(updates().empty());
  BOOST_CHECK(agent_tasks().empty());
  answer_registration(agent_id);
  run_task("early", 5000); // a resend of it changes nothing
  auto ups = updates();
  BOOST_REQUIRE_EQUAL(ups.size(), 1u);
  BOOST_CHECK_EQUAL(name(ups[0].status().state()), "TASK_RUNNING");
  BOOST_CHECK_EQUAL(ups[0].agent_id().value(), agent_id.value());
}

// A held launch that is killed before the agent has its ID never runs (the kill already ended
// it at the master: it must not start late).
BOOST_AUTO_TEST_CASE(a_held_launch_that_is_killed_never_runs) {
  start(); // registering: no ID yet
  run_task("early", 5000);
  kill_task("early");
  answer_registration(agent_id);
  advance(100ms);
  for (const auto& u : updates())
    BOOST_CHECK_MESSAGE(u.status().state() != v1::TASK_RUNNING,
                        "the killed launch ran: " << name(u.status().state()));
  for (const auto& t : agent_tasks())
    BOOST_CHECK_MESSAGE(common::is_terminal(t.state()), "live task " << t.task_id().value());
}

// A launch held while the agent had no ID, meant for an ID it does not get (the master declared
// that one gone and gave a new one), is dropped: the master counts those tasks lost already.
BOOST_AUTO_TEST_CASE(a_held_launch_for_another_agent_id_is_dropped) {
  start(); // registering: no ID yet
  run_task("early", 5000); // for agent_id, which the master will not give us
  answer_registration(make_agent_id(agent_id.value() + "-new"));
  advance(100ms);
  BOOST_CHECK(updates().empty());
  BOOST_CHECK(agent_tasks().empty());
}

BOOST_AUTO_TEST_CASE(a_task_reports_the_role_it_was_launched_for) {
  cfg.master_silence_pings = 3;
  start_registered(1);
  run_task("t1", 600000, 0, "web");
  run_task("t2", 600000); // no role given
  auto ups = updates();
  BOOST_REQUIRE_EQUAL(ups.size(), 2u);
  for (const auto& u : ups)
    acknowledge(u);
  auto reregs = await_reregistration();
  BOOST_REQUIRE_GE(reregs.size(), 1u);
  BOOST_REQUIRE_EQUAL(reregs[0].tasks_size(), 2);
  std::map<std::string, std::string> roles;
  for (const auto& t : reregs[0].tasks())
    roles[t.task_id().value()] = t.role();
  BOOST_CHECK_EQUAL(roles["t1"], "web");
  BOOST_CHECK_EQUAL(roles["t2"], "");
  // The agent's own view agrees.
  for (const auto& t : agent_tasks())
    BOOST_CHECK_EQUAL(t.role(), t.task_id().value() == "t1" ? "web" : "");
}

BOOST_AUTO_TEST_CASE(a_restarted_agent_keeps_its_dynamic_reservations_and_task_roles) {
  start_registered();
  checkpoint_resources(web_reserved_total());
  run_task("t1", 600000, 0, "web");
  BOOST_REQUIRE_EQUAL(updates().size(), 1u);
  acknowledge(updates()[0]);
  restart_agent(); // same --resources (cpus:8;mem:8192), same work dir
  auto reregs = master.received<v1::ReregisterAgent>();
  BOOST_REQUIRE_GE(reregs.size(), 1u);
  BOOST_CHECK(master.received<v1::RegisterAgent>().empty());
  BOOST_CHECK_EQUAL(reregs[0].agent().id().value(), agent_id.value());
  auto reported = reported_total(reregs[0]);
  BOOST_CHECK_MESSAGE(reported == web_reserved_total(), "reported " << reported.to_json()
                                                          << ", expected "
                                                          << web_reserved_total().to_json());
  BOOST_REQUIRE_EQUAL(reregs[0].tasks_size(), 1);
  BOOST_CHECK_EQUAL(reregs[0].tasks(0).task_id().value(), "t1");
  BOOST_CHECK_EQUAL(reregs[0].tasks(0).role(), "web");
}

BOOST_AUTO_TEST_CASE(a_restart_remakes_the_reservations_on_changed_resources) {
  start_registered();
  checkpoint_resources(web_reserved_total());
  cfg.info = make_agent_info("host1", 5051, parsed("cpus:4;mem:4096"));
  restart_agent();
  auto reregs = master.received<v1::ReregisterAgent>();
  BOOST_REQUIRE_GE(reregs.size(), 1u);
  auto reported = reported_total(reregs[0]);
  auto expected = parsed("cpus:3;mem:4096") + dynamic("cpus", 1, "web");
  BOOST_CHECK_MESSAGE(reported == expected, "reported " << reported.to_json() << ", expected "
                                                        << expected.to_json());
}

BOOST_AUTO_TEST_CASE(a_restart_drops_reservations_the_new_resources_cannot_hold) {
  start_registered();
  checkpoint_resources(web_reserved_total());
  cfg.info = make_agent_info("host1", 5051, parsed("mem:4096")); // no cpus left to reserve
  restart_agent();
  auto reregs = master.received<v1::ReregisterAgent>();
  BOOST_REQUIRE_GE(reregs.size(), 1u);
  auto reported = reported_total(reregs[0]);
  BOOST_CHECK_MESSAGE(reported == parsed("mem:4096"), "reported " << reported.to_json());
}

// -- the fake containerizer on its own ---------------------------------------------------

BOOST_AUTO_TEST_CASE(destroy_ends_the_executor_and_reports_a_destroyed_exit) {
  // The probe is the "agent": the executor driver subscribes to it, exits are reported to it.
  auto watcher = test::spawn_peer_probe(sys);
  auto containerizer = test::fake_containerizer_factory({})(
    sys, caf::actor_cast<isolation::container_watcher_actor>(watcher.handle));
  isolation::launch_request req;
  req.container_id = make_container_id("c1");
  req.command = make_shell_command("true");
  req.sandbox = "/nonexistent/sandbox";
  req.environment = {{"TROUPE_AGENT_ID", "a1"},      {"TROUPE_FRAMEWORK_ID", "f1"},
                     {"TROUPE_EXECUTOR_ID", "e1"},   {"TROUPE_CONTAINER_ID", "c1"},
                     {"TROUPE_SANDBOX", req.sandbox}};
  auto launch = caf::make_message(caf::actor_cast<caf::actor>(containerizer),
                                  caf::make_message(isolation::launch_atom::value, req));
  caf::anon_send(watcher.handle, launch); // as the probe: the reply goes back to it
  run();
  auto launched = watcher.received<isolation::container_launched>();
  BOOST_REQUIRE_EQUAL(launched.size(), 1u);
  BOOST_CHECK_EQUAL(launched[0].container_id.value(), "c1");
  BOOST_CHECK_EQUAL(launched[0].pid, 0);
  std::vector<v1::executor::Call> calls; // a Subscribe names the driver to answer
  for (const auto& m : *watcher.log)
    if (m.match_elements<v1::executor::Call, caf::actor>())
      calls.push_back(m.get_as<v1::executor::Call>(0));
  BOOST_REQUIRE_EQUAL(calls.size(), 1u);
  BOOST_CHECK(calls[0].has_subscribe());
  BOOST_CHECK_EQUAL(calls[0].executor_id().value(), "e1");
  // A second launch of a live id fails; the first container is unaffected.
  {
    caf::scoped_actor self{sys};
    self->send(containerizer, isolation::launch_atom::value, req);
    run();
    caf::error err;
    self->receive([](const isolation::container_launched&) { BOOST_FAIL("launched twice"); },
                  [&](caf::error& e) { err = std::move(e); },
                  caf::after(0s) >> [] { BOOST_FAIL("no answer to the second launch"); });
    BOOST_CHECK(is(err, errc::already_exists));
  }
  BOOST_CHECK(watcher.received<isolation::container_exited>().empty());
  caf::anon_send(containerizer, isolation::destroy_atom::value, req.container_id,
                 caf::timespan{3s});
  run();
  auto exits = watcher.received<isolation::container_exited>();
  BOOST_REQUIRE_EQUAL(exits.size(), 1u);
  BOOST_CHECK_EQUAL(exits[0].container_id.value(), "c1");
  BOOST_CHECK(exits[0].destroyed);
  BOOST_CHECK(WIFSIGNALED(exits[0].wait_status));
  caf::anon_send_exit(containerizer, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(watcher.handle, caf::exit_reason::user_shutdown);
  run();
}

// Supervision (agent_actor.hpp): the status update manager restarts after its backoff and
// loses nothing — an update reported while it is down waits in the agent and goes out after,
// and the agent reregisters with every task's latest state.
BOOST_AUTO_TEST_CASE(a_crashed_status_update_manager_restarts_and_loses_no_update) {
  start_registered();
  run_task("t1", 500);
  BOOST_REQUIRE_EQUAL(names(states()), "TASK_RUNNING");
  acknowledge(updates()[0]);
  auto [manager, containerizer] = helpers();
  auto agent_exit = watch(caf::actor_cast<caf::actor>(agent));
  crash(manager);
  run();
  BOOST_CHECK(!helpers().first); // waiting for its restart (1 s)
  advance(600ms);                // the task finished meanwhile: its update waits
  BOOST_CHECK_EQUAL(names(states()), "TASK_RUNNING");
  advance(400ms);
  auto [manager2, containerizer2] = helpers();
  BOOST_CHECK(manager2 && manager2 != manager);
  BOOST_CHECK(containerizer2 == containerizer); // one_for_one: the containerizer stays
  // What the old manager may have lost unrecorded, the agent reports: it reregisters, with
  // the task's latest state ...
  auto reregs = master.received<v1::ReregisterAgent>();
  BOOST_REQUIRE_EQUAL(reregs.size(), 1u);
  BOOST_REQUIRE_EQUAL(reregs[0].tasks_size(), 1);
  BOOST_CHECK_EQUAL(name(reregs[0].tasks(0).state()), "TASK_FINISHED");
  // ... and once reregistered, the parked update goes out on its stream.
  v1::AgentReregistered reply;
  *reply.mutable_agent_id() = agent_id;
  reply.mutable_master()->set_id("m1");
  reply.mutable_master()->set_epoch(epoch);
  reply.set_ping_interval_seconds(60);
  reply.set_epoch(epoch);
  master.send_to(agent, reply);
  run();
  BOOST_CHECK_EQUAL(names(states()), "TASK_RUNNING,TASK_FINISHED");
  BOOST_CHECK(!agent_exit->down);
}

// A crashed containerizer took its containers with it: their tasks fail (AGENT_RESTARTED), and
// the restarted one runs new tasks.
BOOST_AUTO_TEST_CASE(a_crashed_containerizer_fails_its_tasks_and_a_new_one_launches) {
  start_registered();
  run_task("t1", 600000);
  BOOST_REQUIRE_EQUAL(names(states()), "TASK_RUNNING");
  acknowledge(updates()[0]);
  auto [manager, containerizer] = helpers();
  crash(containerizer);
  run();
  advance(1s);
  auto ups = updates();
  BOOST_REQUIRE_EQUAL(ups.size(), 2u);
  BOOST_CHECK_EQUAL(name(ups[1].status().state()), "TASK_FAILED");
  BOOST_CHECK_EQUAL(v1::TaskStatus::Reason_Name(ups[1].status().reason()),
                    "REASON_AGENT_RESTARTED");
  auto [manager2, containerizer2] = helpers();
  BOOST_CHECK(containerizer2 && containerizer2 != containerizer);
  BOOST_CHECK(manager2 == manager);
  acknowledge(ups[1]);
  run_task("t2", 1000);
  ups = updates();
  BOOST_REQUIRE_EQUAL(ups.size(), 3u);
  BOOST_CHECK_EQUAL(ups[2].status().task_id().value(), "t2");
  BOOST_CHECK_EQUAL(name(ups[2].status().state()), "TASK_RUNNING");
}

// Past the intensity (5 restarts within 5 minutes) the agent gives up and ends: its process
// exits and is started again by its own supervisor (systemd), recovering from checkpoints.
BOOST_AUTO_TEST_CASE(helpers_crashing_too_often_end_the_agent) {
  start_registered();
  auto agent_exit = watch(caf::actor_cast<caf::actor>(agent));
  for (int i = 0; i < 5; ++i) {
    crash(helpers().second);
    run();
    advance(31s); // past the longest backoff, within the window
    BOOST_REQUIRE(!agent_exit->down);
    BOOST_REQUIRE(helpers().second);
  }
  crash(helpers().second);
  run();
  BOOST_REQUIRE(agent_exit->down);
  BOOST_CHECK(is(agent_exit->reason, errc::supervisor_gave_up));
}

BOOST_AUTO_TEST_SUITE_END()
