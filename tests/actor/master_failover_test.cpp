// Leadership terms in virtual time: master candidates (standalone contenders, one shared
// memory_store as the registry) with probes standing in for agents and a scheduler. A term
// records what it admits; the next term — another candidate — recovers it: agents await
// reregistration (then unreachable, within the removal limit), framework leases keep their
// deadlines, epochs grow, and a candidate that does not lead answers nothing.
#include <boost/test/unit_test.hpp>

#include <map>
#include <tuple>

#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "troupe/master/master_candidate.hpp"
#include "troupe/master/registry_store.hpp"
#include "troupe/messages/builders.hpp"
#include "troupe/messages/errc.hpp"
#include "troupe/runtime/store/memory_store.hpp"
#include "troupe/test/deterministic_fixture.hpp"
#include "troupe/test/peer_probe.hpp"

using namespace std::chrono_literals;
using namespace troupe;
using namespace troupe::master;
using Event = v1::scheduler::Event;
namespace election = troupe::runtime::election;

namespace {

struct failover_fixture : test::deterministic_fixture {
  std::shared_ptr<runtime::memory_store> store = std::make_shared<runtime::memory_store>();
  std::vector<caf::actor> candidates;
  std::vector<election::standalone_contender_actor> contenders;
  test::peer_probe agent1 = test::spawn_peer_probe(sys);
  test::peer_probe agent2 = test::spawn_peer_probe(sys);
  test::peer_probe sched = test::spawn_peer_probe(sys);
  caf::timespan reregister_timeout = 30s;
  double removal_limit = 1.0;
  caf::timespan suspend_grace{0};

  ~failover_fixture() override {
    for (auto& c : candidates)
      caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
    for (auto& p : {agent1, agent2, sched})
      caf::anon_send_exit(p.handle, caf::exit_reason::user_shutdown);
    run();
  }

  /// A new master node contending (standalone: it leads at once).
  caf::actor start_candidate(const std::string& id) {
    candidate_config cfg;
    cfg.master.info.set_id(id);
    cfg.master.info.set_hostname("127.0.0.1");
    cfg.master.ping_interval = 1h;
    cfg.master.heartbeat_interval = 1h;
    cfg.master.allocator.allocation_interval = 1h;
    cfg.master.agent_reregister_timeout = reregister_timeout;
    cfg.master.recovery_removal_limit = removal_limit;
    cfg.master.node = "master-" + id;
    cfg.store = store;
    cfg.detached_registrar = false;
    cfg.suspend_grace = suspend_grace;
    auto* out = &contenders;
    cfg.make_contender = [out](caf::actor_system& s, election::leadership_listener l) {
      out->push_back(election::spawn_standalone_contender(s, std::move(l)));
      return caf::actor_cast<election::contender_actor>(out->back());
    };
    auto c = caf::actor_cast<caf::actor>(spawn_master_candidate(sys, std::move(cfg)));
    candidates.push_back(c);
    caf::anon_send(c, election::contend_atom::value, v1::MasterInfo{});
    run();
    return c;
  }

  v1::AgentID register_agent(test::peer_probe& probe, const caf::actor& master, uint16_t port) {
    v1::RegisterAgent msg;
    *msg.mutable_agent() = make_agent_info("host", port, resources::parse("cpus:2;mem:1024").value());
    probe.send_to(master, msg);
    run();
    auto regs = probe.received<v1::AgentRegistered>();
    BOOST_REQUIRE_EQUAL(regs.size(), 1u);
    return regs.front().agent_id();
  }

  void reregister_agent(test::peer_probe& probe, const caf::actor& master, const v1::AgentID& id,
                        uint16_t port, std::vector<v1::Task> tasks = {}) {
    v1::ReregisterAgent msg;
    *msg.mutable_agent() = make_agent_info("host", port, resources::parse("cpus:2;mem:1024").value());
    *msg.mutable_agent()->mutable_id() = id;
    for (auto& t : tasks)
      *msg.add_tasks() = t;
    probe.send_to(master, msg);
    run();
  }

  v1::FrameworkID subscribe(const caf::actor& master, v1::FrameworkID id = {},
                            double failover_timeout = 100, const std::string& role = "*",
                            const std::string& principal = "") {
    v1::scheduler::Subscribe sub;
    *sub.mutable_framework_info() = make_framework_info("fw", "alice", {role});
    sub.mutable_framework_info()->set_failover_timeout(failover_timeout);
    sub.mutable_framework_info()->set_principal(principal);
    sched.clear();
    sched.send_to(master, make_call(id, sub));
    run();
    auto evs = sched.received<Event>();
    for (auto& e : evs)
      if (e.has_subscribed())
        return e.subscribed().framework_id();
    BOOST_FAIL("no Subscribed event");
    return {};
  }

  caf::expected<v1::MasterState> state(const caf::actor& master) {
    caf::scoped_actor self{sys};
    caf::expected<v1::MasterState> out = make_error(errc::unavailable, "no answer");
    self->send(master, state_atom::value);
    run();
    self->receive([&](v1::MasterState& st) { out = std::move(st); },
                  [&](caf::error& err) { out = std::move(err); },
                  caf::after(0s) >> [] {});
    return out;
  }

  /// A state *request* (the candidate answers those itself when it does not serve).
  caf::error request_state_error(const caf::actor& master) {
    caf::scoped_actor self{sys};
    caf::error out;
    auto pending = self->request(master, caf::infinite, state_atom::value);
    run();
    pending.receive([](v1::MasterState&) {}, [&](caf::error& err) { out = std::move(err); });
    return out;
  }

  /// The state of a serving master (fails the test otherwise).
  v1::MasterState serving_state(const caf::actor& master) {
    auto st = state(master);
    // Boost renders the message even when the check passes: touch error() only on errors.
    BOOST_REQUIRE_MESSAGE(st, "no state: " << (st ? std::string{} : caf::to_string(st.error())));
    return std::move(*st);
  }

  std::string status_of(const v1::MasterState& st, const v1::AgentID& id) {
    for (const auto& a : st.agents())
      if (a.info().id() == id)
        return a.status();
    return "absent";
  }

  /// An operator call as a request (as the CLI makes it); errc::unavailable "no answer" when
  /// nothing came back.
  caf::expected<v1::OperatorResponse> operator_call(const caf::actor& master,
                                                    const v1::OperatorCall& call) {
    caf::scoped_actor self{sys};
    auto pending = self->request(caf::actor_cast<protocols::master_actor>(master), caf::infinite,
                                 call);
    run();
    if (self->mailbox().empty())
      return make_error(errc::unavailable, "no answer");
    caf::expected<v1::OperatorResponse> out = make_error(errc::unavailable, "no answer");
    pending.receive([&](v1::OperatorResponse& r) { out = std::move(r); },
                    [&](caf::error& err) { out = std::move(err); });
    return out;
  }

  v1::OperatorResponse operator_ok(const caf::actor& master, const v1::OperatorCall& call) {
    auto r = operator_call(master, call);
    BOOST_REQUIRE_MESSAGE(r, "operator call failed: "
                               << (r ? std::string{} : error_message(r.error())));
    return std::move(*r);
  }

  /// Offers the scheduler probe received (the fixture's allocation interval is long: tests
  /// revive to get a pass).
  std::vector<v1::Offer> offers() const {
    std::vector<v1::Offer> out;
    for (const auto& e : sched.received<Event>())
      for (const auto& o : e.offers().offers())
        out.push_back(o);
    return out;
  }

  void revive(const caf::actor& master, const v1::FrameworkID& fw) {
    sched.send_to(master, make_call(fw, v1::scheduler::Revive{}));
    run();
  }

  /// Candidate A admits agent1 (port 1) and a framework, then fails over to candidate B,
  /// where the framework resubscribes (the agent does not reregister): B, the agent, the
  /// framework.
  std::tuple<caf::actor, v1::AgentID, v1::FrameworkID> agent_and_framework_then_failover() {
    auto a = start_candidate("A");
    auto agent = register_agent(agent1, a, 1);
    auto fw = subscribe(a);
    depose(0);
    auto b = start_candidate("B");
    BOOST_CHECK_EQUAL(subscribe(b, fw), fw);
    return {b, agent, fw};
  }

  /// Ends the leadership of candidate `i` (its contender is deposed).
  void depose(size_t i) {
    caf::anon_send(contenders.at(i), election::depose_atom::value);
    run();
  }
};

v1::Task running_task(const v1::FrameworkID& fw, const v1::AgentID& agent) {
  v1::Task t;
  t.set_name("t1");
  t.mutable_task_id()->set_value("t1");
  *t.mutable_framework_id() = fw;
  *t.mutable_agent_id() = agent;
  t.set_state(v1::TASK_RUNNING);
  resources::parse("cpus:1;mem:128").value().to_proto(t.mutable_resources());
  return t;
}

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

/// role -> limits in the flag syntax ("" = no limits: removes the quota).
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

using weight_map = std::map<std::string, double>;
using quota_map = std::map<std::string, std::string>;

weight_map weights_of(const v1::OperatorResponse& r) {
  weight_map out;
  for (const auto& w : r.weights())
    out[w.role()] = w.weight();
  return out;
}

quota_map quotas_of(const v1::OperatorResponse& r) {
  quota_map out;
  for (const auto& q : r.quotas())
    out[q.role()] = resources::from_proto(q.limits()).value().to_string();
  return out;
}

/// `amount` of scalar `name`, dynamically reserved for `role` by `principal`.
resources dyn(const std::string& name, double amount, const std::string& role,
              const std::string& principal) {
  resources out;
  out.add(resource_key{name, {reservation{v1::ReservationInfo::DYNAMIC, role, principal, {}}}},
          resource_value{resource_kind::scalar, static_cast<int64_t>(amount * 1000), {}, {}});
  return out;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(master_failover_test, failover_fixture)

// A term's writes are one commit each, fenced by its token: once a newer term has begun, a
// batch of the old one lands not in part, not at all (errc::stale_epoch) — however late it
// comes (a leader frozen across a failover and thawed).
BOOST_AUTO_TEST_CASE(writes_of_an_older_term_never_land) {
  runtime::memory_store st;
  auto old_term = begin_term(st, 1).value();
  internal::RegistryOperation admit;
  *admit.mutable_admit_agent()->mutable_info() = make_agent_info("h", 1, {});
  admit.mutable_admit_agent()->mutable_info()->mutable_id()->set_value("a1");
  internal::RegistryOperation lease;
  lease.mutable_record_lease()->mutable_info()->mutable_id()->set_value("f1");
  BOOST_CHECK(!commit_operations(st, old_term, {admit}));
  auto new_term = begin_term(st, 1).value();
  BOOST_CHECK_EQUAL(new_term.epoch, old_term.epoch + 1);
  internal::RegistryOperation gone;
  gone.mutable_mark_gone()->mutable_agent_id()->set_value("a1");
  BOOST_CHECK(is(commit_operations(st, old_term, {gone, lease}), errc::stale_epoch));
  auto reg = load_registry(st).value();
  BOOST_CHECK_EQUAL(reg.admitted_size(), 1); // nothing of the old term's batch landed
  BOOST_CHECK_EQUAL(reg.gone_size(), 0);
  BOOST_CHECK_EQUAL(reg.frameworks_size(), 0);
  BOOST_CHECK(!commit_operations(st, new_term, {gone, lease}));
  reg = load_registry(st).value();
  BOOST_CHECK_EQUAL(reg.admitted_size(), 0);
  BOOST_CHECK_EQUAL(reg.gone_size(), 1);
  BOOST_CHECK_EQUAL(reg.frameworks_size(), 1);
  // A malformed operation makes the whole commit fail, and nothing of it lands.
  internal::RegistryOperation forget;
  forget.mutable_remove_lease()->set_value("f1");
  BOOST_CHECK(is(commit_operations(st, new_term, {forget, internal::RegistryOperation{}}),
                 errc::invalid_argument));
  BOOST_CHECK_EQUAL(load_registry(st).value().frameworks_size(), 1);
}

// An operation the store refuses as malformed (here a framework ID that is no printable
// ASCII, which no store key may hold) is dropped and its waiter told; the writes queued behind
// it still land (before, the registrar retried it for ever and blocked them).
BOOST_AUTO_TEST_CASE(a_malformed_registry_write_is_dropped_not_retried) {
  registrar_config rcfg;
  rcfg.store = store;
  rcfg.detached = false;
  auto registrar = spawn_registrar(sys, rcfg);
  caf::scoped_actor self{sys};
  auto recovered = self->request(registrar, caf::infinite, recover_atom::value, uint64_t{1});
  run();
  recovered.receive([](internal::Registry&) {},
                    [](caf::error& err) { BOOST_FAIL("recover: " << caf::to_string(err)); });
  auto lease = [](const std::string& id) {
    internal::RegistryOperation op;
    op.mutable_record_lease()->mutable_info()->mutable_id()->set_value(id);
    return op;
  };
  std::vector<std::string> answers;
  for (const auto& id : {std::string{"f1"}, std::string{"f\xc3\xa9"}, std::string{"f2"}}) {
    auto pending = self->request(registrar, caf::infinite, durable_atom::value, lease(id));
    run();
    pending.receive([&](bool) { answers.push_back("ok"); },
                    [&](caf::error& err) { answers.push_back(error_message(err)); });
  }
  BOOST_REQUIRE_EQUAL(answers.size(), 3u);
  BOOST_CHECK_EQUAL(answers[0], "ok");
  BOOST_CHECK_NE(answers[1], "ok");
  BOOST_CHECK_EQUAL(answers[2], "ok");
  BOOST_CHECK_EQUAL(load_registry(*store).value().frameworks_size(), 2);
  caf::anon_send_exit(registrar, caf::exit_reason::user_shutdown);
  run();
}

BOOST_AUTO_TEST_CASE(the_registry_keeps_records_and_epochs_grow) {
  runtime::memory_store st;
  BOOST_CHECK_EQUAL(begin_term(st, 1).value().epoch, 1u);
  BOOST_CHECK_EQUAL(begin_term(st, 1).value().epoch, 2u);  // stored + 1 beats the election's
  BOOST_CHECK_EQUAL(begin_term(st, 10).value().epoch, 10u); // the election's beats stored + 1
  internal::RegistryOperation admit;
  *admit.mutable_admit_agent()->mutable_info() = make_agent_info("h", 1, {});
  admit.mutable_admit_agent()->mutable_info()->mutable_id()->set_value("a1");
  BOOST_CHECK(!apply_operation(st, admit));
  internal::RegistryOperation unreachable;
  unreachable.mutable_mark_unreachable()->mutable_agent_id()->set_value("a1");
  BOOST_CHECK(!apply_operation(st, unreachable));
  internal::RegistryOperation lease;
  lease.mutable_record_lease()->mutable_info()->mutable_id()->set_value("f1");
  BOOST_CHECK(!apply_operation(st, lease));
  auto reg = load_registry(st).value();
  BOOST_CHECK_EQUAL(reg.epoch(), 10u);
  BOOST_CHECK_EQUAL(reg.admitted_size(), 1);
  BOOST_CHECK_EQUAL(reg.unreachable_size(), 1);
  BOOST_CHECK_EQUAL(reg.frameworks_size(), 1);
  internal::RegistryOperation back;
  back.mutable_mark_reachable()->set_value("a1");
  internal::RegistryOperation gone;
  gone.mutable_mark_gone()->mutable_agent_id()->set_value("a1");
  internal::RegistryOperation forget;
  forget.mutable_remove_lease()->set_value("f1");
  for (auto* op : {&back, &gone, &forget})
    BOOST_CHECK(!apply_operation(st, *op));
  reg = load_registry(st).value();
  BOOST_CHECK_EQUAL(reg.admitted_size(), 0);
  BOOST_CHECK_EQUAL(reg.unreachable_size(), 0);
  BOOST_CHECK_EQUAL(reg.gone_size(), 1);
  BOOST_CHECK_EQUAL(reg.frameworks_size(), 0);
  BOOST_CHECK(apply_operation(st, internal::RegistryOperation{})); // no case: an error
  BOOST_REQUIRE(st.put("epoch", "x", std::nullopt));
  BOOST_CHECK(!load_registry(st)); // a corrupt record is an error, never skipped
}

BOOST_AUTO_TEST_CASE(the_next_term_recovers_agents_and_framework_leases) {
  auto a = start_candidate("A");
  auto a1 = register_agent(agent1, a, 1);
  auto fw = subscribe(a);
  auto st_a = serving_state(a);
  BOOST_CHECK_EQUAL(st_a.master().epoch(), 1u);

  depose(0); // A stops leading: its term ends
  BOOST_CHECK(!state(a)); // a candidate that does not lead drops messages ...
  BOOST_CHECK(is(request_state_error(a), errc::unavailable)); // ... and refuses requests

  auto b = start_candidate("B");
  auto st_b = serving_state(b);
  BOOST_CHECK_EQUAL(st_b.master().epoch(), 2u); // stored epoch 1 + 1
  BOOST_CHECK_EQUAL(status_of(st_b, a1), "recovering");
  BOOST_REQUIRE_EQUAL(st_b.frameworks_size(), 1);
  BOOST_CHECK_EQUAL(st_b.frameworks(0).info().id(), fw);
  BOOST_CHECK(!st_b.frameworks(0).connected());

  // The agent comes back with its task; the framework resubscribes with its ID and keeps it.
  reregister_agent(agent1, b, a1, 1, {running_task(fw, a1)});
  auto rereg = agent1.received<v1::AgentReregistered>();
  BOOST_REQUIRE_EQUAL(rereg.size(), 1u);
  BOOST_CHECK_EQUAL(rereg.front().epoch(), 2u);
  BOOST_CHECK_EQUAL(subscribe(b, fw), fw);
  for (const auto& e : sched.received<Event>())
    BOOST_CHECK_EQUAL(e.epoch(), 2u); // fencing: every event names the term
  st_b = serving_state(b);
  BOOST_CHECK_EQUAL(status_of(st_b, a1), "registered");
  BOOST_CHECK_EQUAL(st_b.frameworks_size(), 1);
  BOOST_REQUIRE_EQUAL(st_b.tasks_size(), 1);
  BOOST_CHECK_EQUAL(st_b.tasks(0).state(), v1::TASK_RUNNING);
  // Past the failover timeout nothing is torn down: the framework came back in time.
  advance(200s);
  BOOST_CHECK_EQUAL(serving_state(b).tasks(0).state(), v1::TASK_RUNNING);
}

BOOST_AUTO_TEST_CASE(agents_that_do_not_come_back_become_unreachable) {
  auto a = start_candidate("A");
  auto a1 = register_agent(agent1, a, 1);
  auto a2 = register_agent(agent2, a, 2);
  depose(0);
  auto b = start_candidate("B");
  reregister_agent(agent1, b, a1, 1);
  advance(29s);
  BOOST_CHECK_EQUAL(status_of(serving_state(b), a2), "recovering");
  advance(2s);
  BOOST_CHECK_EQUAL(status_of(serving_state(b), a2), "unreachable");
  BOOST_CHECK_EQUAL(status_of(serving_state(b), a1), "registered");
  // ... and the registry says so for the term after.
  depose(1);
  auto c = start_candidate("C");
  auto st_c = serving_state(c);
  BOOST_CHECK_EQUAL(st_c.master().epoch(), 3u);
  BOOST_CHECK_EQUAL(status_of(st_c, a2), "unreachable");
  BOOST_CHECK_EQUAL(status_of(st_c, a1), "recovering");
}

// A kill of a task the new term does not know yet, on an agent that has not come back (or
// is unreachable), gets no wrong TASK_UNKNOWN: it waits, and is carried out when the agent
// reregisters with the task. (Found by a hostile-network sweep: the framework was told
// UNKNOWN, then the agent's stream brought the task's RUNNING and FINISHED.)
BOOST_AUTO_TEST_CASE(a_kill_on_an_agent_not_back_yet_waits_for_it) {
  auto [b, a1, fw] = agent_and_framework_then_failover();
  advance(31s); // the agent stays away: unreachable
  BOOST_CHECK_EQUAL(status_of(serving_state(b), a1), "unreachable");
  sched.clear();
  v1::scheduler::Kill kill;
  kill.mutable_task_id()->set_value("t1");
  *kill.mutable_agent_id() = a1;
  sched.send_to(b, make_call(fw, kill));
  run();
  for (const auto& e : sched.received<Event>())
    BOOST_CHECK_MESSAGE(!e.has_update(), "answered " << v1::TaskState_Name(e.update().status().state()));
  agent1.clear();
  reregister_agent(agent1, b, a1, 1, {running_task(fw, a1)});
  auto kills = agent1.received<v1::KillTask>();
  BOOST_REQUIRE_EQUAL(kills.size(), 1u);
  BOOST_CHECK_EQUAL(kills.front().task_id().value(), "t1");
  agent1.clear(); // carried out once: a second reregistration does not kill again by itself
  reregister_agent(agent1, b, a1, 1, {running_task(fw, a1)});
  auto again = agent1.received<v1::KillTask>();
  BOOST_CHECK_EQUAL(again.size(), 1u); // the record's kill_requested resends it, as for any kill
}

// The registry keeps the token of the process that registered: a late retry of that process's
// first RegisterAgent reaching the next term gets no new ID (which would make the tasks it runs
// under its ID gone); the agent reregisters under its ID instead.
BOOST_AUTO_TEST_CASE(a_late_first_registration_does_not_replace_the_agent_in_the_next_term) {
  auto a = start_candidate("A");
  v1::RegisterAgent first;
  *first.mutable_agent() = make_agent_info("host", 1, resources::parse("cpus:2;mem:1024").value());
  first.set_incarnation("p1");
  agent1.send_to(a, first);
  run();
  auto regs = agent1.received<v1::AgentRegistered>();
  BOOST_REQUIRE_EQUAL(regs.size(), 1u);
  auto id = regs.front().agent_id();
  depose(0);
  auto b = start_candidate("B");
  agent1.clear();
  agent1.send_to(b, first); // the late retry
  run();
  BOOST_CHECK(agent1.received<v1::AgentRegistered>().empty());
  BOOST_CHECK_EQUAL(status_of(serving_state(b), id), "recovering");
  reregister_agent(agent1, b, id, 1);
  BOOST_CHECK_EQUAL(status_of(serving_state(b), id), "registered");
  // Once registered again, a retry is answered with the same ID, as within a term.
  agent1.clear();
  agent1.send_to(b, first);
  run();
  auto again = agent1.received<v1::AgentRegistered>();
  BOOST_REQUIRE_EQUAL(again.size(), 1u);
  BOOST_CHECK(again.front().agent_id() == id);
}

// Reregistration reports are numbered per agent process: one that arrives after a newer one
// was processed (a retry that overtook it, a duplicate) is ignored, so the tasks launched in
// between are not declared gone while they run. (Found by a hostile-network sweep: a duplicated
// report without the task arrived after the task's RUNNING; the master said TASK_GONE and
// offered its resources again: the agent ran 5 cpus of tasks on 4.)
BOOST_AUTO_TEST_CASE(an_older_reregistration_report_is_ignored) {
  auto a = start_candidate("A");
  auto a1 = register_agent(agent1, a, 1);
  auto fw = subscribe(a);
  auto report = [&](uint64_t n, std::vector<v1::Task> tasks, const std::string& incarnation) {
    v1::ReregisterAgent msg;
    *msg.mutable_agent() = make_agent_info("host", 1, resources::parse("cpus:2;mem:1024").value());
    *msg.mutable_agent()->mutable_id() = a1;
    msg.set_incarnation(incarnation);
    msg.set_report(n);
    for (auto& t : tasks)
      *msg.add_tasks() = t;
    agent1.send_to(a, msg);
    run();
  };
  // Report numbers grow across the agent's restarts (the time they were sent).
  report(2000, {running_task(fw, a1)}, "p1");
  report(1000, {}, "p1"); // older: it must not make t1 gone
  auto st = serving_state(a);
  BOOST_REQUIRE_EQUAL(st.tasks_size(), 1);
  BOOST_CHECK_EQUAL(v1::TaskState_Name(st.tasks(0).state()), "TASK_RUNNING");
  report(3000, {running_task(fw, a1)}, "p2"); // the agent restarted: a new process
  report(2500, {}, "p1");                     // the old process's late report: stale too
  st = serving_state(a);
  BOOST_REQUIRE_EQUAL(st.tasks_size(), 1);
  BOOST_CHECK_EQUAL(v1::TaskState_Name(st.tasks(0).state()), "TASK_RUNNING");
  report(4000, {}, "p3"); // a newer process that really lost the task
  BOOST_CHECK_EQUAL(v1::TaskState_Name(serving_state(a).tasks(0).state()), "TASK_GONE");
}

// An agent that lost its state registered anew in a term whose "old ID gone" record was lost;
// the next term recovers both IDs. When the new one reregisters, the old one is gone for good
// (its tasks settle as GONE) instead of staying unreachable for ever.
BOOST_AUTO_TEST_CASE(reregistering_retires_an_older_id_at_the_same_address) {
  auto [b, old_id, fw] = agent_and_framework_then_failover();
  auto saved = store->get("agents/" + old_id.value());
  BOOST_REQUIRE(saved && *saved);
  auto new_id = register_agent(agent2, b, 1); // same host:port, no ID: replaces old_id here
  BOOST_CHECK(new_id != old_id);
  depose(1);
  // B's "old ID gone" is lost (as a late-synced write lost in a crash would be): C recovers
  // both IDs at the same address.
  BOOST_REQUIRE(!store->erase("gone/" + old_id.value(), std::nullopt));
  BOOST_REQUIRE(store->put("agents/" + old_id.value(), (*saved)->value, std::nullopt));
  auto c = start_candidate("C");
  BOOST_CHECK_EQUAL(status_of(serving_state(c), old_id), "recovering");
  BOOST_CHECK_EQUAL(subscribe(c, fw), fw);
  reregister_agent(agent2, c, new_id, 1);
  auto st = serving_state(c);
  BOOST_CHECK_EQUAL(status_of(st, new_id), "registered");
  BOOST_CHECK_EQUAL(status_of(st, old_id), "gone");
  advance(31s); // nothing left to become unreachable
  BOOST_CHECK(status_of(serving_state(c), old_id) != "unreachable");
}

BOOST_AUTO_TEST_CASE(the_removal_limit_keeps_a_partitioned_leader_from_writing_agents_off) {
  removal_limit = 0.4;
  auto a = start_candidate("A");
  auto a1 = register_agent(agent1, a, 1);
  auto a2 = register_agent(agent2, a, 2);
  depose(0);
  auto b = start_candidate("B");
  reregister_agent(agent1, b, a1, 1);
  advance(31s); // 1 of 2 missing: 50 % > 40 %
  BOOST_CHECK_EQUAL(status_of(serving_state(b), a2), "recovering");
  reregister_agent(agent2, b, a2, 2); // it was only late
  advance(31s);
  BOOST_CHECK_EQUAL(status_of(serving_state(b), a2), "registered");
}

BOOST_AUTO_TEST_CASE(a_disconnected_framework_keeps_its_deadline_across_a_failover) {
  auto a = start_candidate("A");
  register_agent(agent1, a, 1);
  auto fw = subscribe(a, {}, 100);
  caf::anon_send_exit(sched.handle, caf::exit_reason::user_shutdown); // scheduler gone
  run();
  advance(60s); // 40 s of its 100 s left
  depose(0);
  auto b = start_candidate("B");
  BOOST_CHECK_EQUAL(serving_state(b).frameworks_size(), 1);
  advance(39s);
  BOOST_CHECK_EQUAL(serving_state(b).frameworks_size(), 1);
  advance(2s);
  BOOST_CHECK_EQUAL(serving_state(b).frameworks_size(), 0); // torn down at the old deadline
  (void) fw;
}

BOOST_AUTO_TEST_CASE(a_term_whose_registry_moved_on_is_fenced) {
  auto a = start_candidate("A");
  auto b = start_candidate("B"); // both "lead" (standalone): B's term takes epoch 2
  BOOST_CHECK_EQUAL(serving_state(b).master().epoch(), 2u);
  BOOST_CHECK_EQUAL(serving_state(a).master().epoch(), 1u);
  depose(0); // keep A from starting yet another term after the fencing
  run();
  register_agent(agent1, b, 1);
  BOOST_CHECK_EQUAL(load_registry(*store).value().admitted_size(), 1);
  // A (already ended by the depose) — now the other way round: B is deposed, C takes epoch 3
  // while B still runs its term; B's next write is fenced and ends B's term.
  auto c = start_candidate("C");
  BOOST_CHECK_EQUAL(serving_state(c).master().epoch(), 3u);
  register_agent(agent2, b, 2); // B admits it in memory, but its registrar is fenced
  BOOST_CHECK(!state(b));       // B's term ended with its registrar
  auto reg = load_registry(*store).value();
  BOOST_CHECK_EQUAL(reg.epoch(), 3u);
  BOOST_CHECK_EQUAL(reg.admitted_size(), 1); // nothing of B's after C began
}

BOOST_AUTO_TEST_CASE(a_same_epoch_reelection_within_the_grace_resumes_the_term) {
  suspend_grace = 5s;
  auto a = start_candidate("A");
  auto a1 = register_agent(agent1, a, 1);
  auto listener = caf::actor_cast<election::leadership_listener>(a);
  caf::anon_send(listener, election::lost_atom::value);
  run();
  BOOST_CHECK(!state(a)); // not serving while suspended
  caf::anon_send(listener, election::elected_atom::value, uint64_t{1}); // same epoch
  run();
  auto st = serving_state(a);
  BOOST_CHECK_EQUAL(st.master().epoch(), 1u);         // the same term ...
  BOOST_CHECK_EQUAL(status_of(st, a1), "registered"); // ... with its agents
  // Lost again and not re-elected within the grace: the term ends; the next one is newer.
  caf::anon_send(listener, election::lost_atom::value);
  run();
  advance(6s);
  caf::anon_send(listener, election::elected_atom::value, uint64_t{1});
  run();
  st = serving_state(a);
  BOOST_CHECK_EQUAL(st.master().epoch(), 2u);
  BOOST_CHECK_EQUAL(status_of(st, a1), "recovering");
}

// A suspended term (lost its ZooKeeper connection, waiting for a same-epoch re-election)
// acts on nothing: a framework deadline that falls meanwhile waits, no event leaves it. Once
// resumed, the deadline is acted on.
BOOST_AUTO_TEST_CASE(a_suspended_term_acts_on_nothing_until_it_resumes) {
  suspend_grace = 60s;
  auto a = start_candidate("A");
  auto listener = caf::actor_cast<election::leadership_listener>(a);
  register_agent(agent1, a, 1);
  auto fw = subscribe(a, {}, 5); // failover timeout 5 s
  caf::anon_send_exit(sched.handle, caf::exit_reason::user_shutdown); // its scheduler is gone
  run();
  caf::anon_send(listener, election::lost_atom::value);
  run();
  advance(20s); // the 5 s deadline falls while suspended
  caf::anon_send(listener, election::elected_atom::value, uint64_t{1});
  run();
  auto st = serving_state(a);
  BOOST_REQUIRE_EQUAL(st.frameworks_size(), 1); // not torn down while paused
  BOOST_CHECK_EQUAL(st.frameworks(0).info().id(), fw);
  advance(2s); // resumed: the waiting deadline is acted on
  BOOST_CHECK_EQUAL(serving_state(a).frameworks_size(), 0);
}

BOOST_AUTO_TEST_CASE(weights_and_quotas_set_in_one_term_are_in_force_in_the_next) {
  auto a = start_candidate("A");
  const weight_map weights{{"eng", 2}, {"ops", 0.5}};
  BOOST_CHECK(weights_of(operator_ok(a, weights_call({{"eng", 2}, {"ops", 0.5}}))) == weights);
  operator_ok(a, quota_call({{"*", "cpus:1"}, {"eng", "cpus:4;mem:100"}, {"ops/db", "gpus:1"}}));
  auto removed = operator_ok(a, quota_call({{"ops/db", ""}})); // removals are persisted too
  const quota_map quotas{{"*", "cpus:1"}, {"eng", "cpus:4;mem:100"}};
  BOOST_CHECK(quotas_of(removed) == quotas);
  // A refused update writes nothing.
  BOOST_CHECK(!operator_call(a, weights_call({{"new", 1}, {"bad", 0}})));
  // Answered means durable: the registry has them already.
  auto reg = load_registry(*store).value();
  BOOST_CHECK_EQUAL(reg.weights_size(), 2);
  BOOST_CHECK_EQUAL(reg.quotas_size(), 2);

  depose(0);
  auto refused = operator_call(a, get_call(v1::OperatorCall::GET_WEIGHTS));
  BOOST_CHECK(!refused && is(refused.error(), errc::unavailable)); // not leading: refused
  auto b = start_candidate("B");
  BOOST_CHECK_EQUAL(serving_state(b).master().epoch(), 2u);
  BOOST_CHECK(weights_of(operator_ok(b, get_call(v1::OperatorCall::GET_WEIGHTS))) == weights);
  BOOST_CHECK(quotas_of(operator_ok(b, get_call(v1::OperatorCall::GET_QUOTA))) == quotas);

  // The recovered quota is in force in the new term's allocator: role "*" is offered one cpu.
  register_agent(agent1, b, 1);
  auto fw = subscribe(b);
  revive(b, fw);
  auto got = offers();
  BOOST_REQUIRE_EQUAL(got.size(), 1u);
  BOOST_CHECK_EQUAL(resources::from_proto(got[0].resources()).value().to_string(),
                    "cpus:1;mem:1024");

  // Changes in the second term carry over to a third one as well.
  operator_ok(b, weights_call({{"eng", 4}}));
  operator_ok(b, quota_call({{"*", ""}}));
  depose(1);
  auto c = start_candidate("C");
  BOOST_CHECK(weights_of(operator_ok(c, get_call(v1::OperatorCall::GET_WEIGHTS)))
              == (weight_map{{"eng", 4}, {"ops", 0.5}}));
  BOOST_CHECK(quotas_of(operator_ok(c, get_call(v1::OperatorCall::GET_QUOTA)))
              == (quota_map{{"eng", "cpus:4;mem:100"}}));
}

BOOST_AUTO_TEST_CASE(a_dynamic_reservation_is_recorded_with_the_agent_for_the_next_term) {
  auto a = start_candidate("A");
  auto a1 = register_agent(agent1, a, 1);
  auto fw = subscribe(a, {}, 100, "web", "alice");
  revive(a, fw);
  auto got = offers();
  BOOST_REQUIRE_EQUAL(got.size(), 1u);
  auto reserved = dyn("cpus", 1, "web", "alice");
  v1::scheduler::Accept acc;
  *acc.add_offer_ids() = got[0].id();
  *acc.add_operations() = make_reserve(reserved);
  sched.send_to(a, make_call(fw, acc));
  run();
  BOOST_REQUIRE_EQUAL(agent1.received<v1::CheckpointResources>().size(), 1u);
  const auto total = resources::parse("cpus:1;mem:1024").value() + reserved;
  auto reg = load_registry(*store).value();
  BOOST_REQUIRE_EQUAL(reg.admitted_size(), 1);
  BOOST_CHECK(resources::from_proto(reg.admitted(0).info().resources()).value() == total);
  depose(0);
  auto b = start_candidate("B");
  auto st = serving_state(b);
  BOOST_REQUIRE_EQUAL(st.agents_size(), 1);
  BOOST_CHECK(st.agents(0).info().id() == a1);
  BOOST_CHECK(resources::from_proto(st.agents(0).info().resources()).value() == total);
}

BOOST_AUTO_TEST_SUITE_END()
