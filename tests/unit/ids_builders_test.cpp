#include <boost/test/unit_test.hpp>

#include <map>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "troupe/messages/builders.hpp"
#include "troupe/messages/ids.hpp"
#include "troupe/messages/json.hpp"
#include "troupe/messages/errc.hpp"

using namespace troupe;

BOOST_AUTO_TEST_SUITE(ids_builders_test)

BOOST_AUTO_TEST_CASE(ids_compare_hash_and_print_by_value) {
  auto a = make_task_id("t1");
  auto b = make_task_id("t1");
  auto c = make_task_id("t2");
  BOOST_CHECK(a == b);
  BOOST_CHECK(a != c);
  BOOST_CHECK(a < c);
  BOOST_CHECK_EQUAL(std::hash<v1::TaskID>{}(a), std::hash<v1::TaskID>{}(b));
  std::unordered_set<v1::TaskID> set{a, b, c};
  BOOST_CHECK_EQUAL(set.size(), 2u);
  std::map<v1::AgentID, int> by_agent{{make_agent_id("x"), 1}, {make_agent_id("y"), 2}};
  BOOST_CHECK_EQUAL(by_agent.at(make_agent_id("y")), 2);
  std::ostringstream out;
  out << a << ' ' << make_framework_id("fw") << ' ' << make_offer_id("o-1");
  BOOST_CHECK_EQUAL(out.str(), "t1 fw o-1");
}

BOOST_AUTO_TEST_CASE(container_ids_include_their_parents) {
  auto parent = make_container_id("exec");
  auto child = make_container_id("task", parent);
  auto other = make_container_id("task", make_container_id("exec2"));
  BOOST_CHECK_EQUAL(to_path(child), "exec.task");
  BOOST_CHECK(child != other);
  BOOST_CHECK(child == make_container_id("task", parent));
  std::unordered_map<v1::ContainerID, int> m{{child, 1}, {other, 2}};
  BOOST_CHECK_EQUAL(m.size(), 2u);
}

BOOST_AUTO_TEST_CASE(any_message_compares_field_wise_and_prints) {
  auto s1 = make_task_status(make_task_id("t"), v1::TASK_RUNNING, v1::TaskStatus::SOURCE_EXECUTOR,
                             1.5);
  auto s2 = s1;
  BOOST_CHECK(s1 == s2);
  s2.set_message("x");
  BOOST_CHECK(s1 != s2);
  std::ostringstream out;
  out << s1;
  BOOST_CHECK(out.str().find("troupe.v1.TaskStatus{") == 0);
  BOOST_CHECK(out.str().find("TASK_RUNNING") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(status_update_builders_fill_every_link) {
  auto status = make_task_status(make_task_id("t"), v1::TASK_FAILED, v1::TaskStatus::SOURCE_AGENT,
                                 42.0, v1::TaskStatus::REASON_CONTAINER_LIMITATION_MEMORY,
                                 "limit 64 MB, peak 65 MB");
  auto update = make_status_update(make_framework_id("fw"), make_agent_id("a"),
                                   make_executor_id("e"), status, "uuid-1");
  BOOST_CHECK_EQUAL(update.status().uuid(), "uuid-1");
  BOOST_CHECK_EQUAL(update.status().agent_id().value(), "a");
  BOOST_CHECK_EQUAL(update.executor_id().value(), "e");
  BOOST_CHECK_EQUAL(update.status().timestamp(), 42.0);
  auto ack = make_acknowledgement(update, 7);
  BOOST_CHECK_EQUAL(ack.uuid(), "uuid-1");
  BOOST_CHECK_EQUAL(ack.task_id().value(), "t");
  BOOST_CHECK_EQUAL(ack.framework_id().value(), "fw");
  BOOST_CHECK_EQUAL(ack.epoch(), 7u);
}

BOOST_AUTO_TEST_CASE(offer_and_operation_builders) {
  auto res = resources::parse("cpus:2;mem:1024").value();
  auto offer = make_offer(make_offer_id("o1"), make_framework_id("fw"), make_agent_id("a1"),
                          "host1", res, "web");
  BOOST_CHECK(resources::from_proto(offer.resources()).value() == res);
  BOOST_CHECK_EQUAL(offer.allocation_role(), "web");
  auto task = make_task_info(make_task_id("t1"), "sleep", make_agent_id("a1"),
                             resources::parse("cpus:1").value(), make_shell_command("sleep 10"));
  auto launch = make_launch({task});
  BOOST_CHECK_EQUAL(launch.type(), v1::Offer::Operation::LAUNCH);
  BOOST_CHECK(launch.launch().task_infos(0) == task);
  auto group = make_launch_group(v1::ExecutorInfo{}, {task, task});
  BOOST_CHECK_EQUAL(group.launch_group().task_group().tasks_size(), 2);
  BOOST_CHECK_EQUAL(make_reserve(res).reserve().resources_size(), 2);
  BOOST_CHECK_EQUAL(make_unreserve(res).type(), v1::Offer::Operation::UNRESERVE);
  BOOST_CHECK_EQUAL(make_filters(0).refuse_seconds(), 0.0);
  BOOST_CHECK(make_filters(0).has_refuse_seconds());
}

BOOST_AUTO_TEST_CASE(envelopes_wrap_one_message) {
  v1::scheduler::Decline decline;
  *decline.add_offer_ids() = make_offer_id("o1");
  auto call = make_call(make_framework_id("fw"), decline);
  BOOST_CHECK_EQUAL(call.call_case(), v1::scheduler::Call::kDecline);
  BOOST_CHECK(call.decline() == decline);
  auto first = make_call(v1::FrameworkID{}, v1::scheduler::Subscribe{});
  BOOST_CHECK(!first.has_framework_id());
  v1::scheduler::Heartbeat hb;
  hb.set_epoch(3);
  auto event = make_event(hb);
  BOOST_CHECK_EQUAL(event.event_case(), v1::scheduler::Event::kHeartbeat);
}

BOOST_AUTO_TEST_CASE(json_round_trip_and_errors_name_the_field) {
  auto info = make_framework_info("svc", "nobody", {"web"}, 60);
  auto json = to_json(info);
  BOOST_CHECK(json.find("\"failoverTimeout\":60") != std::string::npos);
  v1::FrameworkInfo back;
  BOOST_REQUIRE(!from_json(json, back));
  BOOST_CHECK(back == info);
  auto err = from_json(R"({"name": "x", "failoverTimeout": "soon"})", back);
  BOOST_REQUIRE(err);
  BOOST_CHECK(is(err, errc::invalid_message));
  BOOST_CHECK_MESSAGE(error_message(err).find("failover") != std::string::npos
                        || error_message(err).find("soon") != std::string::npos,
                      error_message(err));
  BOOST_CHECK(from_json(R"({"bogus": 1})", back));
}

BOOST_AUTO_TEST_SUITE_END()
