// The master actor in virtual time, with probes standing in for an agent and a scheduler:
// registration, offers and their ends (timeout, decline filter, accept after rescind), launch
// validation, status update relay, unreachable agents, framework failover timeouts, operator
// calls on role weights and quotas, and dynamic reservations (RESERVE/UNRESERVE) through accept.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <map>

#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "troupe/master/master_actor.hpp"
#include "troupe/messages/builders.hpp"
#include "troupe/messages/errc.hpp"
#include "troupe/test/deterministic_fixture.hpp"
#include "troupe/test/peer_probe.hpp"

using namespace std::chrono_literals;
using namespace troupe;
using namespace troupe::master;
using Event = v1::scheduler::Event;

namespace {

struct master_fixture : test::deterministic_fixture {
  master_config cfg;
  master_node_actor master;
  test::peer_probe agent;
  test::peer_probe sched;

  master_fixture() {
    cfg.info.set_id("m1");
    cfg.info.set_hostname("127.0.0.1");
    cfg.info.set_epoch(1);
    cfg.ping_interval = 1h; // tests about liveness shorten it
    cfg.heartbeat_interval = 1h;
    cfg.allocator.allocation_interval = 1s;
    cfg.offers.timeout = 10s;
  }

  ~master_fixture() override {
    for (auto& a : {caf::actor_cast<caf::actor>(master), agent.handle, sched.handle})
      if (a)
        caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    run();
  }

  void start() {
    master = spawn_master(sys, cfg);
    agent = test::spawn_peer_probe(sys);
    sched = test::spawn_peer_probe(sys);
    run();
  }

  /// The common start: the master, one registered agent, one subscribed framework, and a
  /// second for the first allocation to offer the agent to it.
  std::pair<v1::AgentID, v1::FrameworkID> start_with_an_offer() {
    start();
    auto agent_id = register_agent();
    auto fw = subscribe();
    advance(1s);
    return {agent_id, fw};
  }

  /// Accepts the first offer with one task group: g1 and g2 on the default executor "pod".
  void accept_group(const v1::FrameworkID& fw, const v1::AgentID& agent_id) {
    v1::ExecutorInfo ex;
    ex.set_type(v1::ExecutorInfo::DEFAULT);
    *ex.mutable_executor_id() = make_executor_id("pod");
    v1::scheduler::Accept acc;
    *acc.add_offer_ids() = offers().front().id();
    *acc.add_operations() = make_launch_group(ex, {task("g1", agent_id), task("g2", agent_id)});
    sched.send_to(master, make_call(fw, acc));
    run();
  }

  v1::AgentID register_agent(const std::string& res = "cpus:2;mem:1024") {
    v1::RegisterAgent msg;
    *msg.mutable_agent() = make_agent_info("host1", 5065, resources::parse(res).value());
    agent.send_to(master, msg);
    run();
    auto regs = agent.received<v1::AgentRegistered>();
    BOOST_REQUIRE_EQUAL(regs.size(), 1u);
    return regs.front().agent_id();
  }

  v1::FrameworkID subscribe(double failover_timeout = 0) {
    v1::scheduler::Subscribe sub;
    *sub.mutable_framework_info() = make_framework_info("fw", "alice", {"*"});
    sub.mutable_framework_info()->set_failover_timeout(failover_timeout);
    sched.send_to(master, make_call(v1::FrameworkID{}, sub));
    run();
    auto subscribed = events(Event::kSubscribed);
    BOOST_REQUIRE_EQUAL(subscribed.size(), 1u);
    return subscribed.front().subscribed().framework_id();
  }

  std::vector<Event> events(Event::EventCase which) const {
    std::vector<Event> out;
    for (auto& e : sched.received<Event>())
      if (e.event_case() == which)
        out.push_back(e);
    return out;
  }

  std::vector<v1::Offer> offers() const {
    std::vector<v1::Offer> out;
    for (auto& e : events(Event::kOffers))
      for (auto& o : e.offers().offers())
        out.push_back(o);
    return out;
  }

  std::vector<v1::TaskStatus> updates() const {
    std::vector<v1::TaskStatus> out;
    for (auto& e : events(Event::kUpdate))
      out.push_back(e.update().status());
    return out;
  }

  v1::MasterState state() {
    caf::scoped_actor self{sys};
    self->send(master, state_atom::value);
    run();
    v1::MasterState out;
    self->receive([&](v1::MasterState& st) { out = std::move(st); },
                  caf::after(0s) >> [] { BOOST_FAIL("no state"); });
    return out;
  }

  /// Invariant: per agent, resources in live offers + used by non-terminal tasks <= total.
  void check_no_double_allocation() {
    auto st = state();
    for (const auto& a : st.agents()) {
      auto total = resources::from_proto(a.info().resources()).value();
      auto used = resources::from_proto(a.used()).value();
      auto offered = resources::from_proto(a.offered()).value();
      BOOST_CHECK_MESSAGE(total.contains(used + offered),
                          "agent " << a.info().id().value() << ": used " << used.to_string()
                                   << " + offered " << offered.to_string() << " > total "
                                   << total.to_string());
    }
  }

  v1::scheduler::Call accept(const v1::FrameworkID& fw, const v1::Offer& offer,
                             std::vector<v1::TaskInfo> tasks) {
    v1::scheduler::Accept acc;
    *acc.add_offer_ids() = offer.id();
    *acc.add_operations() = make_launch(std::move(tasks));
    return make_call(fw, acc);
  }

  v1::TaskInfo task(const std::string& id, const v1::AgentID& agent_id,
                    const std::string& res = "cpus:1;mem:128") {
    return make_task_info(make_task_id(id), id, agent_id, resources::parse(res).value(),
                          make_shell_command("sleep 100"));
  }

  /// Subscribes a framework in `role` with `principal`.
  v1::FrameworkID subscribe_as(const std::string& role, const std::string& principal) {
    v1::scheduler::Subscribe sub;
    *sub.mutable_framework_info() = make_framework_info("fw", "alice", {role});
    sub.mutable_framework_info()->set_principal(principal);
    sched.send_to(master, make_call(v1::FrameworkID{}, sub));
    run();
    auto subscribed = events(Event::kSubscribed);
    BOOST_REQUIRE_EQUAL(subscribed.size(), 1u);
    return subscribed.front().subscribed().framework_id();
  }

  /// An operator call as a request (as the CLI makes it): the response or the error; an
  /// errc::unavailable "no answer" when the master did not answer at all.
  caf::expected<v1::OperatorResponse> operator_call(const v1::OperatorCall& call) {
    caf::scoped_actor self{sys};
    auto pending = self->request(master, caf::infinite, call);
    run();
    if (self->mailbox().empty())
      return make_error(errc::unavailable, "no answer");
    caf::expected<v1::OperatorResponse> out = make_error(errc::unavailable, "no answer");
    pending.receive([&](v1::OperatorResponse& r) { out = std::move(r); },
                    [&](caf::error& err) { out = std::move(err); });
    return out;
  }

  /// The answer of a call that must succeed.
  v1::OperatorResponse operator_ok(const v1::OperatorCall& call) {
    auto r = operator_call(call);
    BOOST_REQUIRE_MESSAGE(r, "operator call failed: "
                               << (r ? std::string{} : error_message(r.error())));
    BOOST_CHECK_EQUAL(r->type(), call.type());
    return std::move(*r);
  }
};

v1::OperatorCall get_call(v1::OperatorCall::Type type) {
  v1::OperatorCall call;
  call.set_type(type);
  return call;
}

v1::OperatorCall weights_call(const std::vector<std::pair<std::string, double>>& weights) {
  auto call = get_call(v1::OperatorCall::UPDATE_WEIGHTS);
  for (const auto& [role, weight] : weights) {
    auto* w = call.add_weights();
    w->set_role(role);
    w->set_weight(weight);
  }
  return call;
}

/// Quotas as role -> limits in the flag syntax ("" = no limits: removes the quota).
v1::OperatorCall quota_call(const std::vector<std::pair<std::string, std::string>>& quotas) {
  auto call = get_call(v1::OperatorCall::UPDATE_QUOTA);
  for (const auto& [role, limits] : quotas) {
    auto* q = call.add_quotas();
    q->set_role(role);
    if (!limits.empty())
      resources::parse(limits).value().to_proto(q->mutable_limits());
  }
  return call;
}

std::map<std::string, double> weights_of(const v1::OperatorResponse& r) {
  std::map<std::string, double> out;
  for (const auto& w : r.weights())
    BOOST_CHECK_MESSAGE(out.emplace(w.role(), w.weight()).second, "role listed twice");
  return out;
}

/// role -> limits in the flag syntax.
std::map<std::string, std::string> quotas_of(const v1::OperatorResponse& r) {
  std::map<std::string, std::string> out;
  for (const auto& q : r.quotas()) {
    auto limits = resources::from_proto(q.limits());
    BOOST_REQUIRE(limits);
    BOOST_CHECK_MESSAGE(out.emplace(q.role(), limits->to_string()).second, "role listed twice");
  }
  return out;
}

using weight_map = std::map<std::string, double>;
using quota_map = std::map<std::string, std::string>;

/// `amount` of scalar `name`, dynamically reserved for `role` by `principal`.
resources dyn(const std::string& name, double amount, const std::string& role = "web",
              const std::string& principal = "alice") {
  resources out;
  out.add(resource_key{name, {reservation{v1::ReservationInfo::DYNAMIC, role, principal, {}}}},
          resource_value{resource_kind::scalar, static_cast<int64_t>(amount * 1000), {}, {}});
  return out;
}

resources parsed(const std::string& text) {
  return resources::parse(text).value();
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(master_actor_test, master_fixture)

BOOST_AUTO_TEST_CASE(registration_subscription_and_a_first_offer) {
  start();
  auto agent_id = register_agent();
  BOOST_CHECK_EQUAL(agent_id.value(), "m1-e1-S0"); // the term's epoch: no later term reuses it
  auto fw = subscribe();
  BOOST_CHECK_EQUAL(fw.value(), "m1-e1-F0000");
  advance(1s);
  auto got = offers();
  BOOST_REQUIRE_EQUAL(got.size(), 1u);
  BOOST_CHECK(got[0].agent_id() == agent_id);
  BOOST_CHECK_EQUAL(resources::from_proto(got[0].resources())->to_string(), "cpus:2;mem:1024");
  check_no_double_allocation();
}

BOOST_AUTO_TEST_CASE(offer_timeout_rescinds_and_returns_the_resources_once) {
  start();
  register_agent();
  subscribe();
  advance(1s);
  BOOST_REQUIRE_EQUAL(offers().size(), 1u);
  auto first = offers().front();
  advance(10s);
  auto rescinds = events(Event::kRescind);
  BOOST_REQUIRE_EQUAL(rescinds.size(), 1u);
  BOOST_CHECK(rescinds[0].rescind().offer_id() == first.id());
  // The resources came back once: the next offer is the whole agent, not more.
  advance(1s);
  auto all = offers();
  BOOST_REQUIRE_GE(all.size(), 2u);
  BOOST_CHECK_EQUAL(resources::from_proto(all.back().resources())->to_string(), "cpus:2;mem:1024");
  check_no_double_allocation();
}

BOOST_AUTO_TEST_CASE(accept_after_rescind_drops_the_tasks) {
  auto [agent_id, fw] = start_with_an_offer();
  auto offer = offers().front();
  advance(10s); // expired and rescinded
  sched.send_to(master, accept(fw, offer, {task("t1", agent_id)}));
  run();
  auto ups = updates();
  BOOST_REQUIRE_EQUAL(ups.size(), 1u);
  BOOST_CHECK_EQUAL(ups[0].state(), v1::TASK_DROPPED);
  BOOST_CHECK_EQUAL(ups[0].reason(), v1::TaskStatus::REASON_INVALID_OFFERS);
  BOOST_CHECK(agent.received<v1::RunTask>().empty());
}

// Found by the simulator (cluster_sim_test, duplicated messages): a duplicate of an accept that
// launched a task must not report that task TASK_DROPPED — the framework would see
// DROPPED and then RUNNING.
BOOST_AUTO_TEST_CASE(a_duplicated_accept_does_not_drop_the_task_it_launched) {
  auto [agent_id, fw] = start_with_an_offer();
  auto offer = offers().front();
  auto call = accept(fw, offer, {task("t1", agent_id)});
  sched.send_to(master, call);
  sched.send_to(master, call);
  run();
  for (const auto& u : updates())
    BOOST_ERROR("unexpected update " << v1::TaskState_Name(u.state()) << ": " << u.message());
  BOOST_CHECK_EQUAL(agent.received<v1::RunTask>().size(), 1u);
  // A task ID the framework never launched still gets DROPPED for a used offer.
  sched.send_to(master, accept(fw, offer, {task("t2", agent_id)}));
  run();
  auto ups = updates();
  BOOST_REQUIRE_EQUAL(ups.size(), 1u);
  BOOST_CHECK_EQUAL(ups[0].task_id().value(), "t2");
  BOOST_CHECK_EQUAL(ups[0].state(), v1::TASK_DROPPED);
}

// Found by the simulator (cluster_sim_test, message loss): a lost RunTask left the task
// STAGING forever. The master sends the launch again every 3 ping rounds until an update
// confirms it (the agent ignores a task it already has).
BOOST_AUTO_TEST_CASE(a_launch_without_any_update_is_sent_again) {
  cfg.ping_interval = 1s;
  auto [agent_id, fw] = start_with_an_offer();
  sched.send_to(master, accept(fw, offers().front(), {task("t1", agent_id)}));
  run();
  BOOST_REQUIRE_EQUAL(agent.received<v1::RunTask>().size(), 1u);
  advance(3s);
  auto runs = agent.received<v1::RunTask>();
  BOOST_REQUIRE_EQUAL(runs.size(), 2u);
  BOOST_CHECK_EQUAL(runs[1].task().task_id().value(), "t1");
  // Once the agent reports the task, no more resends.
  auto running = make_task_status(make_task_id("t1"), v1::TASK_RUNNING,
                                  v1::TaskStatus::SOURCE_EXECUTOR, 1.0);
  *running.mutable_agent_id() = agent_id;
  agent.send_to(master, make_status_update(fw, agent_id, make_executor_id("t1"), running, "u1"));
  run();
  advance(4s);
  BOOST_CHECK_EQUAL(agent.received<v1::RunTask>().size(), 2u);
}

// A reconcile that arrives while an accept waits for its offer actors gets no answer for the
// tasks of that accept (not TASK_UNKNOWN, which the launch would then contradict).
BOOST_AUTO_TEST_CASE(a_reconcile_during_an_accept_does_not_call_its_tasks_unknown) {
  auto [agent_id, fw] = start_with_an_offer();
  sched.send_to(master, accept(fw, offers().front(), {task("t1", agent_id)}));
  v1::scheduler::Reconcile explicit_call;
  *explicit_call.add_tasks()->mutable_task_id() = make_task_id("t1");
  sched.send_to(master, make_call(fw, explicit_call));
  run();
  for (const auto& u : updates())
    BOOST_ERROR("unexpected update " << v1::TaskState_Name(u.state()) << ": " << u.message());
  BOOST_CHECK_EQUAL(agent.received<v1::RunTask>().size(), 1u);
}

BOOST_AUTO_TEST_CASE(accept_launches_valid_tasks_and_rejects_invalid_ones_with_a_reason) {
  auto [agent_id, fw] = start_with_an_offer();
  auto offer = offers().front();
  sched.send_to(master, accept(fw, offer, {task("ok", agent_id), task("big", agent_id, "cpus:8"),
                                           task("ok", agent_id)}));
  run();
  auto runs = agent.received<v1::RunTask>();
  BOOST_REQUIRE_EQUAL(runs.size(), 1u);
  BOOST_CHECK_EQUAL(runs[0].task().task_id().value(), "ok");
  auto ups = updates();
  BOOST_REQUIRE_EQUAL(ups.size(), 2u);
  for (auto& u : ups)
    BOOST_CHECK_EQUAL(u.state(), v1::TASK_ERROR);
  BOOST_CHECK_NE(ups[0].message().find("cpus"), std::string::npos); // names the problem
  BOOST_CHECK_NE(ups[1].message().find("already in use"), std::string::npos);
  auto st = state();
  BOOST_REQUIRE_EQUAL(st.tasks_size(), 1);
  BOOST_CHECK_EQUAL(st.tasks(0).state(), v1::TASK_STAGING);
  check_no_double_allocation();
}

BOOST_AUTO_TEST_CASE(a_task_group_goes_to_the_agent_as_one_run_task_group) {
  auto [agent_id, fw] = start_with_an_offer();
  accept_group(fw, agent_id); // g1 and g2 on executor "pod"
  auto groups = agent.received<v1::RunTaskGroup>();
  BOOST_REQUIRE_EQUAL(groups.size(), 1u);
  BOOST_CHECK_EQUAL(groups[0].task_group().tasks_size(), 2);
  BOOST_CHECK(groups[0].executor().framework_id() == fw);
  auto st = state();
  BOOST_REQUIRE_EQUAL(st.tasks_size(), 2);
  BOOST_CHECK_EQUAL(st.tasks(0).executor_id().value(), "pod");
  check_no_double_allocation();
}

// A registration retried over a new connection (another sender, the same process's
// incarnation) gets the ID it was given, and the new handle is used from then on; without the
// incarnation it would count as an agent restarted without its state (its ID gone).
BOOST_AUTO_TEST_CASE(a_registration_retried_over_a_new_connection_keeps_its_id) {
  start();
  v1::RegisterAgent msg;
  *msg.mutable_agent() = make_agent_info("host1", 5065, resources::parse("cpus:2").value());
  msg.set_incarnation("inc-1");
  agent.send_to(master, msg);
  run();
  auto first = agent.received<v1::AgentRegistered>();
  BOOST_REQUIRE_EQUAL(first.size(), 1u);
  agent = test::spawn_peer_probe(sys); // the same process, a new connection
  agent.send_to(master, msg);
  run();
  auto again = agent.received<v1::AgentRegistered>();
  BOOST_REQUIRE_EQUAL(again.size(), 1u);
  BOOST_CHECK(again[0].agent_id() == first[0].agent_id());
  auto st = state();
  BOOST_REQUIRE_EQUAL(st.agents_size(), 1);
  BOOST_CHECK_EQUAL(st.agents(0).status(), "registered");
  // Another process on the same host:port (a new incarnation) is a restart without state.
  msg.set_incarnation("inc-2");
  agent = test::spawn_peer_probe(sys);
  agent.send_to(master, msg);
  run();
  auto restarted = agent.received<v1::AgentRegistered>();
  BOOST_REQUIRE_EQUAL(restarted.size(), 1u);
  BOOST_CHECK(restarted[0].agent_id() != first[0].agent_id());
}

// A lost RunTaskGroup is sent again, once for the whole group, while its tasks stay STAGING.
BOOST_AUTO_TEST_CASE(a_task_group_launch_without_any_update_is_sent_again_once) {
  cfg.ping_interval = 1s;
  cfg.max_missed_pings = 100; // the stand-in agent answers no pings
  auto [agent_id, fw] = start_with_an_offer();
  accept_group(fw, agent_id); // g1 and g2 on executor "pod"
  BOOST_REQUIRE_EQUAL(agent.received<v1::RunTaskGroup>().size(), 1u);
  advance(3s);
  auto groups = agent.received<v1::RunTaskGroup>();
  BOOST_REQUIRE_EQUAL(groups.size(), 2u);
  BOOST_CHECK_EQUAL(groups[1].task_group().tasks_size(), 2);
  // A member killed meanwhile is left out of the next resend: it must not start late.
  v1::scheduler::Kill kill;
  *kill.mutable_task_id() = make_task_id("g1");
  *kill.mutable_agent_id() = agent_id;
  sched.send_to(master, make_call(fw, kill));
  run();
  advance(3s);
  groups = agent.received<v1::RunTaskGroup>();
  BOOST_REQUIRE_EQUAL(groups.size(), 3u);
  BOOST_REQUIRE_EQUAL(groups[2].task_group().tasks_size(), 1);
  BOOST_CHECK_EQUAL(groups[2].task_group().tasks(0).task_id().value(), "g2");
}

BOOST_AUTO_TEST_CASE(decline_filter_holds_for_refuse_seconds) {
  start();
  register_agent();
  auto fw = subscribe();
  advance(1s);
  auto offer = offers().front();
  v1::scheduler::Decline decline;
  *decline.add_offer_ids() = offer.id();
  *decline.mutable_filters() = make_filters(5);
  sched.send_to(master, make_call(fw, decline));
  run();
  advance(4s);
  BOOST_CHECK_EQUAL(offers().size(), 1u); // filtered
  advance(2s);
  BOOST_CHECK_EQUAL(offers().size(), 2u); // offered again once the filter expired
}

BOOST_AUTO_TEST_CASE(status_updates_reach_the_framework_and_acks_reach_the_agent) {
  auto [agent_id, fw] = start_with_an_offer();
  sched.send_to(master, accept(fw, offers().front(), {task("t1", agent_id)}));
  run();
  auto status = make_task_status(make_task_id("t1"), v1::TASK_RUNNING,
                                 v1::TaskStatus::SOURCE_EXECUTOR, 1.0);
  *status.mutable_agent_id() = agent_id;
  agent.send_to(master, make_status_update(fw, agent_id, make_executor_id("t1"), status, "u1"));
  run();
  auto ups = updates();
  BOOST_REQUIRE_EQUAL(ups.size(), 1u);
  BOOST_CHECK_EQUAL(ups[0].state(), v1::TASK_RUNNING);
  v1::scheduler::Acknowledge ack;
  *ack.mutable_agent_id() = agent_id;
  *ack.mutable_task_id() = make_task_id("t1");
  ack.set_uuid("u1");
  sched.send_to(master, make_call(fw, ack));
  run();
  auto acks = agent.received<v1::StatusUpdateAcknowledgement>();
  BOOST_REQUIRE_EQUAL(acks.size(), 1u);
  BOOST_CHECK_EQUAL(acks[0].uuid(), "u1");
  BOOST_CHECK_EQUAL(acks[0].task_id().value(), "t1");
  auto st = state();
  BOOST_CHECK_EQUAL(st.tasks(0).state(), v1::TASK_RUNNING);
}

BOOST_AUTO_TEST_CASE(agent_missing_pings_goes_unreachable_and_its_offers_are_rescinded) {
  cfg.ping_interval = 1s;
  cfg.max_missed_pings = 2;
  cfg.offers.timeout = 1h;
  start();
  auto agent_id = register_agent("cpus:4;mem:1024");
  auto fw = subscribe();
  advance(1s);
  auto offer = offers().front();
  auto call = accept(fw, offer, {task("t1", agent_id)});
  *call.mutable_accept()->mutable_filters() = make_filters(0);
  sched.send_to(master, call);
  run();
  advance(1s); // the unused part is offered again (no filter)
  BOOST_REQUIRE_GE(offers().size(), 2u);
  advance(3s); // pings go unanswered
  BOOST_CHECK_GE(agent.received<v1::Ping>().size(), 2u);
  auto ups = updates();
  BOOST_REQUIRE_EQUAL(ups.size(), 1u);
  BOOST_CHECK_EQUAL(ups[0].state(), v1::TASK_UNREACHABLE);
  BOOST_CHECK_EQUAL(ups[0].reason(), v1::TaskStatus::REASON_AGENT_UNREACHABLE);
  BOOST_CHECK_EQUAL(events(Event::kRescind).size(), 1u);
  auto st = state();
  BOOST_CHECK_EQUAL(st.agents(0).status(), "unreachable");
  BOOST_CHECK_EQUAL(st.offers_size(), 0);
  // It comes back by reregistering with its tasks' real states.
  v1::ReregisterAgent back;
  *back.mutable_agent() = make_agent_info("host1", 5065, resources::parse("cpus:4;mem:1024").value());
  *back.mutable_agent()->mutable_id() = agent_id;
  auto* t = back.add_tasks();
  *t->mutable_task_id() = make_task_id("t1");
  *t->mutable_framework_id() = fw;
  *t->mutable_agent_id() = agent_id;
  t->set_state(v1::TASK_RUNNING);
  *t->add_statuses() = make_task_status(make_task_id("t1"), v1::TASK_RUNNING,
                                        v1::TaskStatus::SOURCE_AGENT, 2.0);
  agent.send_to(master, back);
  run();
  BOOST_CHECK_EQUAL(agent.received<v1::AgentReregistered>().size(), 1u);
  BOOST_CHECK_EQUAL(updates().back().state(), v1::TASK_RUNNING);
  st = state();
  BOOST_CHECK_EQUAL(st.agents(0).status(), "registered");
}

BOOST_AUTO_TEST_CASE(a_run_task_crossing_a_reregistration_is_sent_again_not_declared_gone) {
  auto [agent_id, fw] = start_with_an_offer();
  sched.send_to(master, accept(fw, offers().front(), {task("t1", agent_id), task("t2", agent_id)}));
  run();
  BOOST_REQUIRE_EQUAL(agent.received<v1::RunTask>().size(), 2u);
  // t2 started (RUNNING), t1 not yet: the agent's report, sent before RunTask t1 arrived,
  // lists only t2.
  auto running = make_task_status(make_task_id("t2"), v1::TASK_RUNNING,
                                  v1::TaskStatus::SOURCE_EXECUTOR, 1.0);
  agent.send_to(master, make_status_update(fw, agent_id, make_executor_id("t2"), running, "u2"));
  run();
  v1::ReregisterAgent back;
  *back.mutable_agent() = make_agent_info("host1", 5065, resources::parse("cpus:2;mem:1024").value());
  *back.mutable_agent()->mutable_id() = agent_id;
  auto* t = back.add_tasks();
  *t->mutable_task_id() = make_task_id("t2");
  *t->mutable_framework_id() = fw;
  *t->mutable_agent_id() = agent_id;
  t->set_state(v1::TASK_RUNNING);
  agent.send_to(master, back);
  run();
  auto runs = agent.received<v1::RunTask>();
  BOOST_REQUIRE_EQUAL(runs.size(), 3u);
  BOOST_CHECK_EQUAL(runs.back().task().task_id().value(), "t1");
  for (const auto& u : updates())
    BOOST_CHECK_NE(u.state(), v1::TASK_GONE);
  // A task that had started and is not reported is gone.
  back.clear_tasks();
  agent.send_to(master, back);
  run();
  auto ups = updates();
  BOOST_REQUIRE(!ups.empty());
  BOOST_CHECK_EQUAL(ups.back().task_id().value(), "t2");
  BOOST_CHECK_EQUAL(ups.back().state(), v1::TASK_GONE);
}

// A task killed while its launch was still on the way, and which the reregistering agent does
// not report, ended by the kill: TASK_KILLED (not GONE, which would mean the agent lost it).
BOOST_AUTO_TEST_CASE(a_killed_task_that_never_reached_its_agent_is_killed_not_gone) {
  auto [agent_id, fw] = start_with_an_offer();
  sched.send_to(master, accept(fw, offers().front(), {task("t1", agent_id)}));
  run();
  v1::scheduler::Kill kill;
  *kill.mutable_task_id() = make_task_id("t1");
  *kill.mutable_agent_id() = agent_id;
  sched.send_to(master, make_call(fw, kill));
  run();
  v1::ReregisterAgent back; // sent before RunTask t1 arrived: no tasks
  *back.mutable_agent() = make_agent_info("host1", 5065, resources::parse("cpus:2;mem:1024").value());
  *back.mutable_agent()->mutable_id() = agent_id;
  agent.send_to(master, back);
  run();
  auto ups = updates();
  BOOST_REQUIRE(!ups.empty());
  BOOST_CHECK_EQUAL(ups.back().task_id().value(), "t1");
  BOOST_CHECK_EQUAL(v1::TaskState_Name(ups.back().state()), "TASK_KILLED");
  BOOST_CHECK_EQUAL(v1::TaskStatus::Reason_Name(ups.back().reason()),
                    "REASON_TASK_KILLED_DURING_LAUNCH");
  check_no_double_allocation();
}

// Offers outstanding when a framework resubscribes are rescinded (their resources go back and
// are offered again), not left to be hoarded until they expire.
BOOST_AUTO_TEST_CASE(a_resubscription_rescinds_outstanding_offers) {
  auto [agent_id, fw] = start_with_an_offer();
  auto outstanding = offers();
  BOOST_REQUIRE_EQUAL(outstanding.size(), 1u);
  BOOST_CHECK_EQUAL(state().offers_size(), 1);
  v1::scheduler::Subscribe sub;
  *sub.mutable_framework_info() = make_framework_info("fw", "alice", {"*"});
  *sub.mutable_framework_info()->mutable_id() = fw;
  sched.send_to(master, make_call(fw, sub));
  run();
  auto rescinds = events(Event::kRescind);
  BOOST_REQUIRE_EQUAL(rescinds.size(), 1u);
  BOOST_CHECK(rescinds.front().rescind().offer_id() == outstanding.front().id());
  advance(1s); // the next allocation pass offers the resources again
  auto again = offers();
  BOOST_REQUIRE_EQUAL(again.size(), 2u);
  BOOST_CHECK(again.back().id() != outstanding.front().id());
  check_no_double_allocation();
  (void) agent_id;
}

BOOST_AUTO_TEST_CASE(failover_timeout_expiry_kills_the_frameworks_tasks) {
  start();
  auto agent_id = register_agent();
  auto fw = subscribe(30);
  advance(1s);
  sched.send_to(master, accept(fw, offers().front(), {task("t1", agent_id)}));
  run();
  sched.kill(); // the scheduler process dies
  run();
  advance(29s);
  BOOST_CHECK(agent.received<v1::ShutdownFramework>().empty());
  BOOST_CHECK_EQUAL(state().frameworks_size(), 1);
  advance(2s);
  auto shutdowns = agent.received<v1::ShutdownFramework>();
  BOOST_REQUIRE_EQUAL(shutdowns.size(), 1u);
  BOOST_CHECK(shutdowns[0].framework_id() == fw);
  auto st = state();
  BOOST_CHECK_EQUAL(st.frameworks_size(), 0);
  check_no_double_allocation();
}

BOOST_AUTO_TEST_CASE(a_scheduler_that_resubscribes_in_time_keeps_its_tasks) {
  start();
  auto agent_id = register_agent();
  auto fw = subscribe(30);
  advance(1s);
  sched.send_to(master, accept(fw, offers().front(), {task("t1", agent_id)}));
  run();
  sched.kill();
  run();
  advance(10s);
  sched = test::spawn_peer_probe(sys); // the restarted scheduler, same framework ID
  v1::scheduler::Subscribe sub;
  *sub.mutable_framework_info() = make_framework_info("fw", "alice", {"*"});
  sub.mutable_framework_info()->set_failover_timeout(30);
  *sub.mutable_framework_info()->mutable_id() = fw;
  sched.send_to(master, make_call(fw, sub));
  run();
  BOOST_CHECK_EQUAL(events(Event::kSubscribed).size(), 1u);
  advance(40s);
  BOOST_CHECK(agent.received<v1::ShutdownFramework>().empty());
  auto st = state();
  BOOST_REQUIRE_EQUAL(st.frameworks_size(), 1);
  BOOST_CHECK(st.frameworks(0).connected());
  BOOST_CHECK_EQUAL(st.frameworks(0).active_tasks(), 1u);
}

BOOST_AUTO_TEST_CASE(reconciliation_answers_known_unknown_and_implicit) {
  auto [agent_id, fw] = start_with_an_offer();
  sched.send_to(master, accept(fw, offers().front(), {task("t1", agent_id)}));
  run();
  v1::scheduler::Reconcile explicit_call;
  auto* known = explicit_call.add_tasks();
  *known->mutable_task_id() = make_task_id("t1");
  auto* unknown = explicit_call.add_tasks();
  *unknown->mutable_task_id() = make_task_id("nope");
  sched.send_to(master, make_call(fw, explicit_call));
  run();
  auto ups = updates();
  BOOST_REQUIRE_EQUAL(ups.size(), 2u);
  BOOST_CHECK_EQUAL(ups[0].state(), v1::TASK_STAGING);
  BOOST_CHECK_EQUAL(ups[0].reason(), v1::TaskStatus::REASON_RECONCILIATION);
  BOOST_CHECK(ups[0].uuid().empty()); // master updates need no acknowledgement
  BOOST_CHECK_EQUAL(ups[1].task_id().value(), "nope");
  BOOST_CHECK_EQUAL(ups[1].state(), v1::TASK_UNKNOWN);
  sched.send_to(master, make_call(fw, v1::scheduler::Reconcile{})); // implicit: all live tasks
  run();
  ups = updates();
  BOOST_REQUIRE_EQUAL(ups.size(), 3u);
  BOOST_CHECK_EQUAL(ups[2].task_id().value(), "t1");
}

BOOST_AUTO_TEST_CASE(kill_goes_to_the_agent_with_the_policy_and_unknown_tasks_are_unknown) {
  auto [agent_id, fw] = start_with_an_offer();
  sched.send_to(master, accept(fw, offers().front(), {task("t1", agent_id)}));
  run();
  v1::scheduler::Kill kill;
  *kill.mutable_task_id() = make_task_id("t1");
  kill.mutable_kill_policy()->set_grace_period_seconds(7);
  sched.send_to(master, make_call(fw, kill));
  run();
  auto kills = agent.received<v1::KillTask>();
  BOOST_REQUIRE_EQUAL(kills.size(), 1u);
  BOOST_CHECK_EQUAL(kills[0].task_id().value(), "t1");
  BOOST_CHECK_EQUAL(kills[0].kill_policy().grace_period_seconds(), 7);
  *kill.mutable_task_id() = make_task_id("nope");
  sched.send_to(master, make_call(fw, kill));
  run();
  BOOST_CHECK_EQUAL(agent.received<v1::KillTask>().size(), 1u);
  auto ups = updates();
  BOOST_REQUIRE_EQUAL(ups.size(), 1u);
  BOOST_CHECK_EQUAL(ups[0].state(), v1::TASK_UNKNOWN);
}

BOOST_AUTO_TEST_CASE(messages_between_framework_and_executor_are_relayed) {
  start();
  auto agent_id = register_agent();
  auto fw = subscribe();
  v1::scheduler::FrameworkMessage to_executor;
  *to_executor.mutable_agent_id() = agent_id;
  *to_executor.mutable_executor_id() = make_executor_id("e1");
  to_executor.set_data("hello");
  sched.send_to(master, make_call(fw, to_executor));
  run();
  auto relayed = agent.received<v1::FrameworkToExecutorMessage>();
  BOOST_REQUIRE_EQUAL(relayed.size(), 1u);
  BOOST_CHECK_EQUAL(relayed[0].data(), "hello");
  BOOST_CHECK(relayed[0].framework_id() == fw);
  v1::ExecutorToFrameworkMessage back;
  *back.mutable_agent_id() = agent_id;
  *back.mutable_framework_id() = fw;
  *back.mutable_executor_id() = make_executor_id("e1");
  back.set_data("hi");
  agent.send_to(master, back);
  run();
  auto msgs = events(Event::kMessage);
  BOOST_REQUIRE_EQUAL(msgs.size(), 1u);
  BOOST_CHECK_EQUAL(msgs[0].message().data(), "hi");
}

BOOST_AUTO_TEST_CASE(malformed_calls_get_an_error_and_change_nothing) {
  start();
  register_agent();
  v1::scheduler::Call call; // no framework, no payload
  sched.send_to(master, call);
  run();
  auto errs = events(Event::kError);
  BOOST_REQUIRE_EQUAL(errs.size(), 1u);
  BOOST_CHECK(!errs[0].error().message().empty());
  auto st = state();
  BOOST_CHECK_EQUAL(st.frameworks_size(), 0);
}

// -- operator calls: weights and quotas -------------------------------------------------------

BOOST_AUTO_TEST_CASE(operator_weights_are_set_listed_and_validated_as_a_whole) {
  start();
  BOOST_CHECK(weights_of(operator_ok(get_call(v1::OperatorCall::GET_WEIGHTS))).empty());
  auto set = operator_ok(weights_call({{"eng", 2}, {"ops", 0.5}}));
  const weight_map expected{{"eng", 2}, {"ops", 0.5}};
  BOOST_CHECK(weights_of(set) == expected);
  BOOST_CHECK(set.quotas().empty());
  BOOST_CHECK(weights_of(operator_ok(get_call(v1::OperatorCall::GET_WEIGHTS))) == expected);

  const std::vector<std::pair<std::string, v1::OperatorCall>> bad = {
    {"weight 0", weights_call({{"eng", 0}})},
    {"negative weight", weights_call({{"eng", -1}})},
    {"NaN weight", weights_call({{"eng", std::nan("")}})},
    {"infinite weight", weights_call({{"eng", HUGE_VAL}})},
    {"role a//b", weights_call({{"a//b", 1}})},
    {"empty role", weights_call({{"", 1}})},
    {"duplicate role", weights_call({{"eng", 3}, {"eng", 4}})},
    {"no entries", weights_call({})},
    // all or nothing: the valid entry before the bad one is not applied either
    {"one bad entry", weights_call({{"new", 3}, {"ops", 0}})},
  };
  for (const auto& [what, call] : bad) {
    BOOST_TEST_CONTEXT(what) {
      auto r = operator_call(call);
      BOOST_REQUIRE(!r);
      BOOST_CHECK_MESSAGE(is(r.error(), errc::invalid_argument),
                          "expected errc::invalid_argument (protocols/master.hpp), got "
                            << caf::to_string(r.error()));
      BOOST_CHECK(weights_of(operator_ok(get_call(v1::OperatorCall::GET_WEIGHTS))) == expected);
    }
  }

  // A later update changes what it names and keeps the rest; "*" and nested roles are roles.
  auto again = operator_ok(weights_call({{"eng", 3}, {"eng/web", 1.5}, {"*", 0.25}}));
  const weight_map after{{"*", 0.25}, {"eng", 3}, {"eng/web", 1.5}, {"ops", 0.5}};
  BOOST_CHECK(weights_of(again) == after);
  BOOST_CHECK(weights_of(operator_ok(get_call(v1::OperatorCall::GET_WEIGHTS))) == after);
}

BOOST_AUTO_TEST_CASE(operator_quotas_are_set_listed_removed_and_validated_as_a_whole) {
  start();
  BOOST_CHECK(quotas_of(operator_ok(get_call(v1::OperatorCall::GET_QUOTA))).empty());
  auto set = operator_ok(quota_call({{"eng", "cpus:4;mem:100"}, {"ops/db", "gpus:1"}}));
  const quota_map expected{{"eng", "cpus:4;mem:100"}, {"ops/db", "gpus:1"}};
  BOOST_CHECK(quotas_of(set) == expected);
  BOOST_CHECK(set.weights().empty());
  BOOST_CHECK(quotas_of(operator_ok(get_call(v1::OperatorCall::GET_QUOTA))) == expected);

  auto ports = quota_call({{"eng", "cpus:1"}});
  parsed("ports:[31000-32000]").to_proto(ports.mutable_quotas(0)->mutable_limits());
  auto negative = quota_call({{"eng", ""}});
  auto* r = negative.mutable_quotas(0)->add_limits();
  r->set_name("cpus");
  r->set_type(v1::Value::SCALAR);
  r->mutable_scalar()->set_value(-1);
  const std::vector<std::pair<std::string, v1::OperatorCall>> bad = {
    {"ranges limits", ports},
    {"reserved limits", quota_call({{"eng", "cpus(eng):2"}})},
    {"negative limits", negative},
    {"role a//b", quota_call({{"a//b", "cpus:1"}})},
    {"duplicate role", quota_call({{"eng", "cpus:1"}, {"eng", "cpus:2"}})},
    {"no entries", quota_call({})},
    {"one bad entry", quota_call({{"new", "cpus:1"}, {"ops/db", "cpus(x):1"}})},
    {"a bad removal", quota_call({{"eng", ""}, {"-x", ""}})},
  };
  for (const auto& [what, call] : bad) {
    BOOST_TEST_CONTEXT(what) {
      auto res = operator_call(call);
      BOOST_REQUIRE(!res);
      BOOST_CHECK_MESSAGE(is(res.error(), errc::invalid_argument),
                          "expected errc::invalid_argument (protocols/master.hpp), got "
                            << caf::to_string(res.error()));
      BOOST_CHECK(quotas_of(operator_ok(get_call(v1::OperatorCall::GET_QUOTA))) == expected);
    }
  }

  // An entry without limits removes that role's quota (and only that one).
  auto removed = operator_ok(quota_call({{"eng", ""}}));
  const quota_map left{{"ops/db", "gpus:1"}};
  BOOST_CHECK(quotas_of(removed) == left);
  BOOST_CHECK(quotas_of(operator_ok(get_call(v1::OperatorCall::GET_QUOTA))) == left);
  // Removing a quota that is not set is no error; replacing one replaces all its limits.
  BOOST_CHECK(quotas_of(operator_ok(quota_call({{"never", ""}}))) == left);
  auto replaced = operator_ok(quota_call({{"ops/db", "cpus:2"}}));
  BOOST_CHECK(quotas_of(replaced) == (quota_map{{"ops/db", "cpus:2"}}));
}

// UPDATE_WEIGHTS sets `weights` only (operator.proto: `quotas` is "for UPDATE_QUOTA"): quota
// entries riding along must neither be applied nor — worse — skip the quota validation.
BOOST_AUTO_TEST_CASE(update_weights_does_not_apply_stray_quota_entries) {
  start();
  operator_ok(quota_call({{"eng", "cpus:4"}}));
  auto call = weights_call({{"ops", 3}});
  auto* q = call.add_quotas();
  q->set_role("eng");
  parsed("ports:[1-2]").to_proto(q->mutable_limits()); // not even a valid quota
  BOOST_CHECK(!operator_call(call)); // refused as a whole: stray entries are a malformed call
  auto quotas = quotas_of(operator_ok(get_call(v1::OperatorCall::GET_QUOTA)));
  BOOST_CHECK_MESSAGE(quotas == (quota_map{{"eng", "cpus:4"}}),
                      "UPDATE_WEIGHTS changed the quota of eng to "
                        << (quotas.count("eng") ? quotas["eng"] : std::string{"none"}));
}

// ... and UPDATE_QUOTA sets `quotas` only: a stray weight of 0 must not become a role's weight.
BOOST_AUTO_TEST_CASE(update_quota_does_not_apply_stray_weight_entries) {
  start();
  operator_ok(weights_call({{"eng", 2}}));
  auto call = quota_call({{"ops", "cpus:1"}});
  auto* w = call.add_weights();
  w->set_role("eng");
  w->set_weight(0); // not even a valid weight
  BOOST_CHECK(!operator_call(call)); // refused as a whole
  auto weights = weights_of(operator_ok(get_call(v1::OperatorCall::GET_WEIGHTS)));
  BOOST_CHECK_MESSAGE(weights == (weight_map{{"eng", 2}}),
                      "UPDATE_QUOTA changed the weight of eng to "
                        << (weights.count("eng") ? std::to_string(weights["eng"]) : "none"));
}

BOOST_AUTO_TEST_CASE(unknown_operator_call_types_are_refused) {
  start();
  auto r = operator_call(get_call(v1::OperatorCall::UNKNOWN));
  BOOST_REQUIRE(!r);
  BOOST_CHECK(is(r.error(), errc::invalid_argument));
}

BOOST_AUTO_TEST_CASE(a_quota_limits_what_the_role_is_offered_until_removed) {
  start();
  operator_ok(quota_call({{"web", "cpus:1"}}));
  register_agent("cpus:2;mem:1024");
  subscribe_as("web", "alice");
  advance(1s);
  auto got = offers();
  BOOST_REQUIRE_EQUAL(got.size(), 1u);
  BOOST_CHECK_EQUAL(got[0].allocation_role(), "web");
  BOOST_CHECK_EQUAL(resources::from_proto(got[0].resources())->to_string(), "cpus:1;mem:1024");
  advance(2s);
  BOOST_CHECK_EQUAL(offers().size(), 1u); // the other cpu stays out of the role's reach
  operator_ok(quota_call({{"web", ""}}));
  advance(1s);
  got = offers();
  BOOST_REQUIRE_EQUAL(got.size(), 2u);
  BOOST_CHECK_EQUAL(resources::from_proto(got[1].resources())->to_string(), "cpus:1");
  check_no_double_allocation();
}

// -- dynamic reservations through accept -------------------------------------------------------

BOOST_AUTO_TEST_CASE(reserve_and_launch_in_one_accept_checkpoints_on_the_agent_then_runs) {
  start();
  auto agent_id = register_agent("cpus:2;mem:1024");
  auto fw = subscribe_as("web", "alice");
  advance(1s);
  BOOST_REQUIRE_EQUAL(offers().size(), 1u);
  auto offer = offers().front();
  BOOST_REQUIRE_EQUAL(offer.allocation_role(), "web");
  auto reserved = dyn("cpus", 1);
  auto launched = make_task_info(make_task_id("t1"), "t1", agent_id, reserved + parsed("mem:128"),
                                 make_shell_command("sleep 100"));
  v1::scheduler::Accept acc;
  *acc.add_offer_ids() = offer.id();
  *acc.add_operations() = make_reserve(reserved);
  *acc.add_operations() = make_launch({launched});
  sched.send_to(master, make_call(fw, acc));
  run();
  BOOST_CHECK(events(Event::kError).empty());
  BOOST_CHECK(updates().empty()); // nothing rejected

  auto cps = agent.received<v1::CheckpointResources>();
  BOOST_REQUIRE_EQUAL(cps.size(), 1u);
  BOOST_CHECK(cps[0].agent_id() == agent_id);
  BOOST_CHECK_EQUAL(cps[0].epoch(), 1u);
  auto total = resources::from_proto(cps[0].resources());
  BOOST_REQUIRE(total);
  BOOST_CHECK_MESSAGE(*total == parsed("cpus:1;mem:1024") + reserved, total->to_json());
  BOOST_CHECK(total->flatten() == parsed("cpus:2;mem:1024")); // same amounts
  bool found_dynamic = false;
  for (const auto& r : cps[0].resources())
    for (const auto& info : r.reservations())
      found_dynamic = found_dynamic
                      || (r.name() == "cpus" && info.type() == v1::ReservationInfo::DYNAMIC
                          && info.role() == "web" && info.principal() == "alice");
  BOOST_CHECK(found_dynamic);

  auto runs = agent.received<v1::RunTask>();
  BOOST_REQUIRE_EQUAL(runs.size(), 1u);
  BOOST_CHECK_EQUAL(runs[0].task().task_id().value(), "t1");
  BOOST_CHECK(*resources::from_proto(runs[0].task().resources())
              == reserved + parsed("mem:128"));
  // The agent learns of the reservation before it is asked to use it.
  size_t cp_at = 0, run_at = 0;
  for (size_t i = 0; i < agent.log->size(); ++i) {
    if ((*agent.log)[i].match_elements<v1::CheckpointResources>())
      cp_at = i;
    if ((*agent.log)[i].match_elements<v1::RunTask>())
      run_at = i;
  }
  BOOST_CHECK_LT(cp_at, run_at);

  // The master's view of the agent has the new total, and nothing is counted twice.
  auto st = state();
  BOOST_REQUIRE_EQUAL(st.agents_size(), 1);
  BOOST_CHECK(*resources::from_proto(st.agents(0).info().resources()) == *total);
  BOOST_REQUIRE_EQUAL(st.tasks_size(), 1);
  BOOST_CHECK_EQUAL(st.tasks(0).state(), v1::TASK_STAGING);
  check_no_double_allocation();

  // Once the task ends, its reserved cpu comes back to the role still reserved.
  auto finished = make_task_status(make_task_id("t1"), v1::TASK_FINISHED,
                                   v1::TaskStatus::SOURCE_EXECUTOR, 1.0);
  *finished.mutable_agent_id() = agent_id;
  agent.send_to(master, make_status_update(fw, agent_id, make_executor_id("t1"), finished, "u1"));
  run();
  advance(10s); // past the accept's default refuse filter
  bool reoffered = false;
  for (const auto& o : offers())
    if (o.id() != offer.id())
      reoffered = reoffered || resources::from_proto(o.resources())->reserved("web") == reserved;
  BOOST_CHECK_MESSAGE(reoffered, "the reserved cpu was not offered again");
  check_no_double_allocation();
}

// A lost CheckpointResources: the agent reregisters without the reservation its task uses. The
// master restores it (the task's resources must fit the total) and tells the agent again; the
// task keeps the role it was launched for.
BOOST_AUTO_TEST_CASE(a_reservation_the_agent_lost_is_restored_when_it_reregisters) {
  start();
  auto agent_id = register_agent("cpus:2;mem:1024");
  auto fw = subscribe_as("web", "alice");
  advance(1s);
  BOOST_REQUIRE_EQUAL(offers().size(), 1u);
  auto reserved = dyn("cpus", 1);
  auto launched = make_task_info(make_task_id("t1"), "t1", agent_id, reserved + parsed("mem:128"),
                                 make_shell_command("sleep 100"));
  v1::scheduler::Accept acc;
  *acc.add_offer_ids() = offers().front().id();
  *acc.add_operations() = make_reserve(reserved);
  *acc.add_operations() = make_launch({launched});
  sched.send_to(master, make_call(fw, acc));
  run();
  auto runs = agent.received<v1::RunTask>();
  BOOST_REQUIRE_EQUAL(runs.size(), 1u);
  BOOST_CHECK_EQUAL(runs[0].role(), "web");
  BOOST_REQUIRE_EQUAL(agent.received<v1::CheckpointResources>().size(), 1u);

  v1::ReregisterAgent back; // the old total: the checkpoint never arrived
  *back.mutable_agent() = make_agent_info("host1", 5065, parsed("cpus:2;mem:1024"));
  *back.mutable_agent()->mutable_id() = agent_id;
  auto* t = back.add_tasks();
  *t->mutable_task_id() = make_task_id("t1");
  *t->mutable_framework_id() = fw;
  *t->mutable_agent_id() = agent_id;
  t->set_state(v1::TASK_RUNNING);
  t->set_role("web");
  reserved.to_proto(t->mutable_resources());
  parsed("mem:128").to_proto(t->mutable_resources());
  agent.send_to(master, back);
  run();
  BOOST_CHECK_EQUAL(agent.received<v1::AgentReregistered>().size(), 1u);
  auto cps = agent.received<v1::CheckpointResources>();
  BOOST_REQUIRE_EQUAL(cps.size(), 2u);
  auto total = resources::from_proto(cps[1].resources());
  BOOST_REQUIRE(total);
  BOOST_CHECK_MESSAGE(*total == parsed("cpus:1;mem:1024") + reserved, total->to_string());
  auto st = state();
  BOOST_CHECK(*resources::from_proto(st.agents(0).info().resources()) == *total);
  BOOST_REQUIRE_EQUAL(st.tasks_size(), 1);
  BOOST_CHECK_EQUAL(st.tasks(0).role(), "web");
  check_no_double_allocation();
}

BOOST_AUTO_TEST_CASE(unreserve_checkpoints_the_unreserved_total) {
  start();
  auto agent_id = register_agent("cpus:2;mem:1024");
  auto fw = subscribe_as("web", "alice");
  advance(1s);
  auto reserved = dyn("cpus", 1);
  v1::scheduler::Accept acc;
  *acc.add_offer_ids() = offers().front().id();
  *acc.add_operations() = make_reserve(reserved);
  *acc.mutable_filters() = make_filters(0);
  sched.send_to(master, make_call(fw, acc));
  run();
  BOOST_REQUIRE_EQUAL(agent.received<v1::CheckpointResources>().size(), 1u);
  advance(1s);
  auto all = offers();
  BOOST_REQUIRE_EQUAL(all.size(), 2u);
  auto again = resources::from_proto(all[1].resources()).value();
  BOOST_REQUIRE_MESSAGE(again.reserved("web") == reserved, again.to_json());
  v1::scheduler::Accept undo;
  *undo.add_offer_ids() = all[1].id();
  *undo.add_operations() = make_unreserve(reserved);
  sched.send_to(master, make_call(fw, undo));
  run();
  BOOST_CHECK(events(Event::kError).empty());
  auto cps = agent.received<v1::CheckpointResources>();
  BOOST_REQUIRE_EQUAL(cps.size(), 2u);
  BOOST_CHECK(resources::from_proto(cps[1].resources()).value() == parsed("cpus:2;mem:1024"));
  BOOST_CHECK(resources::from_proto(state().agents(0).info().resources()).value()
              == parsed("cpus:2;mem:1024"));
  check_no_double_allocation();
}

BOOST_AUTO_TEST_CASE(reserve_for_another_role_is_an_error_and_checkpoints_nothing) {
  start();
  auto agent_id = register_agent("cpus:2;mem:1024");
  auto fw = subscribe_as("web", "alice");
  advance(1s);
  auto offer = offers().front();
  v1::scheduler::Accept acc;
  *acc.add_offer_ids() = offer.id();
  *acc.add_operations() = make_reserve(dyn("cpus", 1, "ops"));
  *acc.mutable_filters() = make_filters(0);
  sched.send_to(master, make_call(fw, acc));
  run();
  auto errs = events(Event::kError);
  BOOST_REQUIRE_EQUAL(errs.size(), 1u);
  BOOST_CHECK_NE(errs[0].error().message().find("ops"), std::string::npos);
  BOOST_CHECK(agent.received<v1::CheckpointResources>().empty());
  auto st = state();
  BOOST_CHECK(resources::from_proto(st.agents(0).info().resources()).value()
              == parsed("cpus:2;mem:1024"));
  // The offered resources went back unchanged: the whole agent is offered again, unreserved.
  advance(1s);
  auto all = offers();
  BOOST_REQUIRE_EQUAL(all.size(), 2u);
  BOOST_CHECK(resources::from_proto(all[1].resources()).value() == parsed("cpus:2;mem:1024"));
  check_no_double_allocation();
  (void) agent_id;
}

BOOST_AUTO_TEST_CASE(reserve_by_another_principal_is_an_error_and_checkpoints_nothing) {
  start();
  register_agent("cpus:2;mem:1024");
  auto fw = subscribe_as("web", "alice");
  advance(1s);
  v1::scheduler::Accept acc;
  *acc.add_offer_ids() = offers().front().id();
  *acc.add_operations() = make_reserve(dyn("cpus", 1, "web", "mallory"));
  sched.send_to(master, make_call(fw, acc));
  run();
  BOOST_CHECK_EQUAL(events(Event::kError).size(), 1u);
  BOOST_CHECK(agent.received<v1::CheckpointResources>().empty());
  check_no_double_allocation();
}

// CAF 0.17 can deliver a message from a freshly accepted connection with no sender (or the
// dead peer's) when the connection reuses a socket descriptor; peers name their own handle
// (issue 24, runtime/reply_address.hpp). The master answers and keeps that handle.
BOOST_AUTO_TEST_CASE(messages_without_a_sender_are_answered_at_the_declared_handle) {
  start();
  v1::RegisterAgent reg;
  *reg.mutable_agent() = make_agent_info("host1", 5065, resources::parse("cpus:2").value());
  caf::anon_send(master, reg, agent.handle);
  run();
  auto regs = agent.received<v1::AgentRegistered>();
  BOOST_REQUIRE_EQUAL(regs.size(), 1u);
  v1::scheduler::Subscribe sub;
  *sub.mutable_framework_info() = make_framework_info("fw", "alice", {"*"});
  caf::anon_send(master, make_call(v1::FrameworkID{}, sub), sched.handle);
  run();
  auto subscribed = events(Event::kSubscribed);
  BOOST_REQUIRE_EQUAL(subscribed.size(), 1u);
  auto fw = subscribed.front().subscribed().framework_id();
  advance(1s);
  BOOST_REQUIRE_EQUAL(offers().size(), 1u);
  // A later call, again without a sender: the framework's scheduler is the declared handle.
  v1::scheduler::Decline decline;
  *decline.add_offer_ids() = offers().front().id();
  caf::anon_send(master, make_call(fw, decline), sched.handle);
  run();
  BOOST_CHECK(events(Event::kError).empty());
  BOOST_CHECK_EQUAL(state().agents(0).offered().size(), 0); // the offer was declined
}

BOOST_AUTO_TEST_SUITE_END()
