// The launch plan: what an accept may launch, what fails with which reason, what is left over.
#include <boost/test/unit_test.hpp>

#include "troupe/master/launch_plan.hpp"
#include "troupe/messages/builders.hpp"

using namespace troupe;
using namespace troupe::master;

namespace {

resources res(const std::string& text) {
  return resources::parse(text).value();
}

const v1::AgentID agent = make_agent_id("a1");

v1::TaskInfo task(const std::string& id, const std::string& r = "cpus:1;mem:100") {
  return make_task_info(make_task_id(id), id, agent, res(r), make_shell_command("true"));
}

google::protobuf::RepeatedPtrField<v1::Offer::Operation>
ops(std::vector<v1::Offer::Operation> list) {
  google::protobuf::RepeatedPtrField<v1::Offer::Operation> out;
  for (auto& op : list)
    *out.Add() = std::move(op);
  return out;
}

bool never_known(const v1::TaskID&) {
  return false;
}

v1::ExecutorInfo default_executor() {
  v1::ExecutorInfo ex;
  ex.set_type(v1::ExecutorInfo::DEFAULT);
  *ex.mutable_executor_id() = make_executor_id("group-ex");
  return ex;
}

/// `amount` of scalar `name`, dynamically reserved for `role` by `principal`.
resources dyn(const std::string& name, double amount, const std::string& role = "web",
              const std::string& principal = "alice") {
  resources out;
  out.add(resource_key{name, {reservation{v1::ReservationInfo::DYNAMIC, role, principal, {}}}},
          resource_value{resource_kind::scalar, static_cast<int64_t>(amount * 1000), {}, {}});
  return out;
}

v1::TaskInfo task_with(const std::string& id, const resources& r) {
  return make_task_info(make_task_id(id), id, agent, r, make_shell_command("true"));
}

const accept_context web_alice{"web", "alice"};

} // namespace

BOOST_AUTO_TEST_SUITE(launch_plan_test)

BOOST_AUTO_TEST_CASE(tasks_that_fit_launch_and_the_rest_is_unused) {
  auto plan = plan_launches(agent, res("cpus:4;mem:1000"),
                            ops({make_launch({task("t1"), task("t2")})}), never_known);
  BOOST_REQUIRE_EQUAL(plan.tasks.size(), 2u);
  BOOST_CHECK(plan.rejected.empty());
  BOOST_CHECK_EQUAL(plan.unused.to_string(), "cpus:2;mem:800");
}

BOOST_AUTO_TEST_CASE(a_task_beyond_the_offer_fails_alone_with_a_reason_naming_it) {
  auto plan = plan_launches(agent, res("cpus:2;mem:1000"),
                            ops({make_launch({task("big", "cpus:3"), task("ok")})}), never_known);
  BOOST_REQUIRE_EQUAL(plan.tasks.size(), 1u);
  BOOST_CHECK_EQUAL(plan.tasks[0].task_id().value(), "ok");
  BOOST_REQUIRE_EQUAL(plan.rejected.size(), 1u);
  BOOST_CHECK_EQUAL(plan.rejected[0].reason, v1::TaskStatus::REASON_INVALID_OFFERS);
  BOOST_CHECK_NE(plan.rejected[0].message.find("big"), std::string::npos);
  BOOST_CHECK_NE(plan.rejected[0].message.find("cpus:3"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(duplicate_and_known_task_ids_are_rejected) {
  auto known = [](const v1::TaskID& id) { return id.value() == "old"; };
  auto plan = plan_launches(agent, res("cpus:8;mem:8000"),
                            ops({make_launch({task("t1"), task("t1"), task("old")})}), known);
  BOOST_CHECK_EQUAL(plan.tasks.size(), 1u);
  BOOST_REQUIRE_EQUAL(plan.rejected.size(), 2u);
  for (const auto& r : plan.rejected) {
    BOOST_CHECK_EQUAL(r.reason, v1::TaskStatus::REASON_TASK_INVALID);
    BOOST_CHECK_NE(r.message.find("already in use"), std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(invalid_task_descriptions_are_rejected) {
  auto bad = task("t1");
  bad.clear_command(); // neither command nor executor
  auto other = task("t2");
  *other.mutable_agent_id() = make_agent_id("elsewhere");
  auto plan = plan_launches(agent, res("cpus:8;mem:8000"), ops({make_launch({bad, other})}),
                            never_known);
  BOOST_CHECK(plan.tasks.empty());
  BOOST_REQUIRE_EQUAL(plan.rejected.size(), 2u);
  BOOST_CHECK_NE(plan.rejected[1].message.find("elsewhere"), std::string::npos);
  BOOST_CHECK_EQUAL(plan.unused.to_string(), "cpus:8;mem:8000");
}

BOOST_AUTO_TEST_CASE(a_task_group_is_all_or_nothing) {
  auto fits = plan_launches(agent, res("cpus:4;mem:1000"),
                            ops({make_launch_group(default_executor(), {task("g1"), task("g2")})}),
                            never_known);
  BOOST_REQUIRE_EQUAL(fits.groups.size(), 1u);
  BOOST_CHECK_EQUAL(fits.groups[0].tasks.size(), 2u);
  BOOST_CHECK_EQUAL(fits.unused.to_string(), "cpus:2;mem:800");
  auto too_big = plan_launches(
    agent, res("cpus:4;mem:1000"),
    ops({make_launch_group(default_executor(), {task("g1"), task("g2", "cpus:4")})}), never_known);
  BOOST_CHECK(too_big.groups.empty());
  BOOST_CHECK_EQUAL(too_big.rejected.size(), 2u); // both, though g1 alone would fit
  BOOST_CHECK_EQUAL(too_big.unused.to_string(), "cpus:4;mem:1000");
}

BOOST_AUTO_TEST_CASE(operations_apply_in_order_against_what_is_left) {
  auto plan = plan_launches(agent, res("cpus:2;mem:1000"),
                            ops({make_launch({task("t1")}), make_launch({task("t2")}),
                                 make_launch({task("t3")})}),
                            never_known);
  BOOST_CHECK_EQUAL(plan.tasks.size(), 2u);
  BOOST_REQUIRE_EQUAL(plan.rejected.size(), 1u);
  BOOST_CHECK_EQUAL(plan.rejected[0].task.task_id().value(), "t3");
}

// -- RESERVE / UNRESERVE -------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(reserve_converts_offered_unreserved_resources_for_later_launches) {
  auto reserved = dyn("cpus", 1);
  auto launch_task = task_with("t1", reserved + res("mem:100"));
  auto plan = plan_launches(agent, res("cpus:2;mem:1000"),
                            ops({make_reserve(reserved), make_launch({launch_task})}), never_known,
                            {}, web_alice);
  BOOST_CHECK(plan.errors.empty());
  BOOST_REQUIRE_EQUAL(plan.reservations.size(), 1u);
  BOOST_CHECK(plan.reservations[0].from == res("cpus:1"));
  BOOST_CHECK(plan.reservations[0].to == reserved);
  BOOST_CHECK(plan.rejected.empty());
  BOOST_REQUIRE_EQUAL(plan.tasks.size(), 1u);
  BOOST_CHECK_EQUAL(plan.tasks[0].task_id().value(), "t1");
  // The task took the reserved cpu; the unreserved one and the rest of the memory are left.
  BOOST_CHECK(plan.unused == res("cpus:1;mem:900"));
}

BOOST_AUTO_TEST_CASE(a_reserve_alone_leaves_the_reserved_resources_unused) {
  auto reserved = dyn("cpus", 1);
  auto plan = plan_launches(agent, res("cpus:2;mem:1000"), ops({make_reserve(reserved)}),
                            never_known, {}, web_alice);
  BOOST_CHECK(plan.errors.empty());
  BOOST_CHECK(plan.tasks.empty());
  BOOST_REQUIRE_EQUAL(plan.reservations.size(), 1u);
  BOOST_CHECK(plan.unused == res("cpus:1;mem:1000") + reserved);
  BOOST_CHECK(plan.unused.reserved("web") == reserved);
  BOOST_CHECK_EQUAL(plan.unused.scalar("cpus"), 2.0); // same amounts, converted
}

// Mesos semantics: a reservation is made for the offer's role only — not for a role below it
// (a framework could park resources in a role it is not in). Refinement stacks the offer's role
// on a reservation of an ancestor role that the offer carries.
BOOST_AUTO_TEST_CASE(reservations_are_for_the_offers_role_and_refine_ancestors_only) {
  auto child = dyn("cpus", 1, "web/api");
  auto plan = plan_launches(agent, res("cpus:2;mem:1000"), ops({make_reserve(child)}),
                            never_known, {}, web_alice);
  BOOST_CHECK_EQUAL(plan.errors.size(), 1u);
  BOOST_CHECK(plan.reservations.empty());
  // cpus(web) offered to web/api (ancestor reservations are allocatable to children) refined to
  // a dynamic reservation of web/api.
  resources refined;
  refined.add(resource_key{"cpus",
                           {reservation{v1::ReservationInfo::STATIC, "web", "", {}},
                            reservation{v1::ReservationInfo::DYNAMIC, "web/api", "alice", {}}}},
              resource_value{resource_kind::scalar, 1000, {}, {}});
  auto offered = res("cpus(web):1;mem:1000");
  plan = plan_launches(agent, offered, ops({make_reserve(refined)}), never_known, {},
                       accept_context{"web/api", "alice"});
  BOOST_CHECK_MESSAGE(plan.errors.empty(), (plan.errors.empty() ? std::string{} : plan.errors[0]));
  BOOST_REQUIRE_EQUAL(plan.reservations.size(), 1u);
  BOOST_CHECK(plan.reservations[0].from == res("cpus(web):1"));
  BOOST_CHECK(plan.unused == res("mem:1000") + refined);
  // Stacking the same role again is no refinement.
  resources same;
  same.add(resource_key{"cpus",
                        {reservation{v1::ReservationInfo::DYNAMIC, "web", "alice", {}},
                         reservation{v1::ReservationInfo::DYNAMIC, "web", "alice", {}}}},
           resource_value{resource_kind::scalar, 1000, {}, {}});
  plan = plan_launches(agent, res("mem:1000") + dyn("cpus", 1), ops({make_reserve(same)}),
                       never_known, {}, web_alice);
  BOOST_CHECK_EQUAL(plan.errors.size(), 1u);
  BOOST_CHECK(plan.reservations.empty());
}

BOOST_AUTO_TEST_CASE(a_launch_cannot_use_reserved_resources_without_a_reserve) {
  // Without the RESERVE the reserved cpu does not exist in the offer: the task fails.
  auto plan = plan_launches(agent, res("cpus:2;mem:1000"),
                            ops({make_launch({task_with("t1", dyn("cpus", 1) + res("mem:100"))})}),
                            never_known, {}, web_alice);
  BOOST_CHECK(plan.tasks.empty());
  BOOST_REQUIRE_EQUAL(plan.rejected.size(), 1u);
  BOOST_CHECK_EQUAL(plan.rejected[0].reason, v1::TaskStatus::REASON_INVALID_OFFERS);
  BOOST_CHECK(plan.unused == res("cpus:2;mem:1000"));
}

namespace {

// A refused reservation: one error naming the operation, nothing converted, nothing launched.
void check_refused(const launch_plan& plan, const resources& offered, const std::string& what) {
  BOOST_TEST_CONTEXT(what) {
    BOOST_CHECK_EQUAL(plan.errors.size(), 1u);
    for (const auto& e : plan.errors)
      BOOST_CHECK(!e.empty());
    BOOST_CHECK(plan.reservations.empty());
    BOOST_CHECK(plan.tasks.empty());
    BOOST_CHECK(plan.unused == offered);
  }
}

} // namespace

BOOST_AUTO_TEST_CASE(invalid_reservations_are_refused_with_an_error_and_change_nothing) {
  const auto offered = res("cpus:2;mem:1000");
  auto plan_of = [&](v1::Offer::Operation op, const accept_context& ctx = web_alice) {
    return plan_launches(agent, offered, ops({std::move(op)}), never_known, {}, ctx);
  };
  // A static reservation cannot be made by an offer operation.
  check_refused(plan_of(make_reserve(res("cpus(web):1"))), offered, "static");
  // Roles: neither another role, nor a sibling whose name merely starts the same way, nor the
  // parent of the offer's role.
  check_refused(plan_of(make_reserve(dyn("cpus", 1, "ops"))), offered, "other role");
  check_refused(plan_of(make_reserve(dyn("cpus", 1, "webx"))), offered, "webx");
  auto child_ctx = accept_context{"web/api", "alice"};
  check_refused(plan_of(make_reserve(dyn("cpus", 1, "web")), child_ctx), offered,
                "parent of the offer's role");
  // Principals: another one, and one given when the framework has none.
  check_refused(plan_of(make_reserve(dyn("cpus", 1, "web", "bob"))), offered, "other principal");
  check_refused(plan_of(make_reserve(dyn("cpus", 1)), accept_context{"web", ""}), offered,
                "framework without principal");
  check_refused(plan_of(make_reserve(dyn("cpus", 1, "web", ""))), offered, "no principal");
  // More than offered.
  check_refused(plan_of(make_reserve(dyn("cpus", 3))), offered, "more than offered");
  check_refused(plan_of(make_reserve(dyn("gpus", 1))), offered, "not offered at all");
  // UNRESERVE of unreserved resources, and of reservations the offer does not hold.
  check_refused(plan_of(make_unreserve(res("cpus:1"))), offered, "unreserve unreserved");
  check_refused(plan_of(make_unreserve(dyn("cpus", 1))), offered, "unreserve not offered");
}

BOOST_AUTO_TEST_CASE(a_reservation_with_one_bad_entry_is_refused_whole) {
  const auto offered = res("cpus:2;mem:1000");
  auto mixed = dyn("cpus", 1) + dyn("mem", 100, "web", "bob");
  auto plan = plan_launches(agent, offered, ops({make_reserve(mixed)}), never_known, {},
                            web_alice);
  check_refused(plan, offered, "one entry by another principal");
  auto too_much = dyn("cpus", 1) + dyn("mem", 2000);
  plan = plan_launches(agent, offered, ops({make_reserve(too_much)}), never_known, {}, web_alice);
  check_refused(plan, offered, "one entry beyond the offer");
}

BOOST_AUTO_TEST_CASE(a_refused_reserve_does_not_stop_the_operations_after_it) {
  auto plan = plan_launches(agent, res("cpus:2;mem:1000"),
                            ops({make_reserve(dyn("cpus", 1, "ops")), make_launch({task("t1")})}),
                            never_known, {}, web_alice);
  BOOST_CHECK_EQUAL(plan.errors.size(), 1u);
  BOOST_CHECK(plan.reservations.empty());
  BOOST_REQUIRE_EQUAL(plan.tasks.size(), 1u);
  BOOST_CHECK(plan.unused == res("cpus:1;mem:900"));
}

BOOST_AUTO_TEST_CASE(a_reserve_applies_to_what_earlier_operations_left) {
  // The launch takes both cpus first: nothing is left to reserve.
  const auto offered = res("cpus:2;mem:1000");
  auto plan = plan_launches(agent, offered,
                            ops({make_launch({task("t1", "cpus:2;mem:100")}),
                                 make_reserve(dyn("cpus", 1))}),
                            never_known, {}, web_alice);
  BOOST_REQUIRE_EQUAL(plan.tasks.size(), 1u);
  BOOST_REQUIRE_EQUAL(plan.errors.size(), 1u);
  BOOST_CHECK(plan.reservations.empty());
  BOOST_CHECK(plan.unused == res("mem:900"));
}

BOOST_AUTO_TEST_CASE(unreserve_gives_offered_reserved_resources_back_unreserved) {
  auto reserved = dyn("cpus", 1);
  const auto offered = res("cpus:1;mem:1000") + reserved;
  auto plan = plan_launches(agent, offered, ops({make_unreserve(reserved)}), never_known, {},
                            web_alice);
  BOOST_CHECK(plan.errors.empty());
  BOOST_REQUIRE_EQUAL(plan.reservations.size(), 1u);
  BOOST_CHECK(plan.reservations[0].from == reserved);
  BOOST_CHECK(plan.reservations[0].to == res("cpus:1"));
  BOOST_CHECK(plan.unused == res("cpus:2;mem:1000"));
  BOOST_CHECK(plan.unused.reserved().empty());
}

BOOST_AUTO_TEST_CASE(unreserved_resources_may_launch_in_the_same_accept) {
  auto reserved = dyn("cpus", 2);
  const auto offered = res("mem:1000") + reserved;
  auto plan = plan_launches(agent, offered,
                            ops({make_unreserve(reserved), make_launch({task("t1", "cpus:2")})}),
                            never_known, {}, web_alice);
  BOOST_CHECK(plan.errors.empty());
  BOOST_CHECK_EQUAL(plan.reservations.size(), 1u);
  BOOST_REQUIRE_EQUAL(plan.tasks.size(), 1u);
  BOOST_CHECK(plan.unused == res("mem:1000"));
}

BOOST_AUTO_TEST_CASE(reserve_then_unreserve_in_one_accept_restores_the_offer) {
  auto reserved = dyn("cpus", 1);
  const auto offered = res("cpus:2;mem:1000");
  auto plan = plan_launches(agent, offered,
                            ops({make_reserve(reserved), make_unreserve(reserved)}), never_known,
                            {}, web_alice);
  BOOST_CHECK(plan.errors.empty());
  BOOST_REQUIRE_EQUAL(plan.reservations.size(), 2u);
  BOOST_CHECK(plan.reservations[1].from == reserved);
  BOOST_CHECK(plan.reservations[1].to == res("cpus:1"));
  BOOST_CHECK(plan.unused == offered);
}

BOOST_AUTO_TEST_SUITE_END()
