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

BOOST_AUTO_TEST_CASE(reservations_are_refused_with_an_error_not_ignored_silently) {
  auto plan = plan_launches(agent, res("cpus:2;mem:1000"),
                            ops({make_reserve(res("cpus(web):1"))}), never_known);
  BOOST_CHECK(plan.tasks.empty());
  BOOST_REQUIRE_EQUAL(plan.errors.size(), 1u);
  BOOST_CHECK_EQUAL(plan.unused.to_string(), "cpus:2;mem:1000");
}

BOOST_AUTO_TEST_SUITE_END()
