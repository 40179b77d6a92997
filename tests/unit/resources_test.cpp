#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>

#include "troupe/messages/errc.hpp"
#include "troupe/messages/min_allocatable.hpp"
#include "troupe/messages/resources.hpp"

using troupe::resources;
using troupe::value_ranges;
using namespace troupe;

namespace {

resources parse_ok(const std::string& text) {
  auto r = resources::parse(text);
  if (!r)
    BOOST_FAIL("parse(" << text << ") failed: " << troupe::error_message(r.error()));
  return *r;
}

// Parsing must fail with invalid_resources, and the message must mention `needle`.
void expect_error(const std::string& text, const std::string& needle) {
  auto r = resources::parse(text);
  BOOST_REQUIRE_MESSAGE(!r, "parse(" << text << ") unexpectedly succeeded");
  BOOST_CHECK(troupe::is(r.error(), troupe::errc::invalid_resources));
  auto msg = troupe::error_message(r.error());
  BOOST_CHECK_MESSAGE(msg.find(needle) != std::string::npos,
                      "error for '" << text << "' is '" << msg << "', expected to mention '"
                                    << needle << "'");
}

} // namespace

BOOST_AUTO_TEST_SUITE(resources_test)

BOOST_AUTO_TEST_CASE(parses_the_agent_flag_syntax) {
  auto r = parse_ok("cpus:4;mem:8192;disk:10000;ports:[31000-32000,33000-33100]");
  BOOST_CHECK_EQUAL(r.scalar("cpus"), 4.0);
  BOOST_CHECK_EQUAL(r.scalar("mem"), 8192.0);
  BOOST_CHECK_EQUAL(r.scalar("disk"), 10000.0);
  BOOST_CHECK_EQUAL(r.ranges("ports").count(), 1001u + 101u);
  BOOST_CHECK_EQUAL(r.ranges("ports").ranges().size(), 2u);
  BOOST_CHECK(r.reserved().empty());
}

BOOST_AUTO_TEST_CASE(role_qualified_entries_are_static_reservations) {
  auto r = parse_ok("cpus:2;cpus(web):2;mem(eng/web):512");
  BOOST_CHECK_EQUAL(r.scalar("cpus"), 4.0);
  BOOST_CHECK_EQUAL(r.unreserved().scalar("cpus"), 2.0);
  BOOST_CHECK_EQUAL(r.reserved("web").scalar("cpus"), 2.0);
  BOOST_CHECK_EQUAL(r.reserved("eng/web").scalar("mem"), 512.0);
  BOOST_CHECK((r.roles() == std::set<std::string>{"eng/web", "web"}));
  auto web = r.reserved("web");
  for (const auto& [key, value] : web.entries()) {
    BOOST_REQUIRE_EQUAL(key.reservations.size(), 1u);
    BOOST_CHECK(key.reservations[0].type == troupe::v1::ReservationInfo::STATIC);
  }
  // "*" is the explicit spelling of unreserved.
  BOOST_CHECK(parse_ok("cpus(*):1") == parse_ok("cpus:1"));
}

BOOST_AUTO_TEST_CASE(formats_back_to_the_same_resources) {
  for (auto text : {"cpus:4;mem:8192;disk:10000;ports:[31000-32000,33000-33100]",
                    "cpus:0.5;cpus(web):1.25;mem(eng/web):32", "ports:[80-80,443-443]", ""}) {
    auto r = parse_ok(text);
    BOOST_CHECK_MESSAGE(parse_ok(r.to_string()) == r, text << " -> " << r.to_string());
  }
  BOOST_CHECK_EQUAL(parse_ok("mem:8192;cpus:0.25").to_string(), "cpus:0.25;mem:8192");
}

BOOST_AUTO_TEST_CASE(whitespace_single_ports_and_trailing_separator_are_accepted) {
  auto r = parse_ok(" cpus : 2 ; ports:[ 80 , 8080-8090 ] ;");
  BOOST_CHECK_EQUAL(r.scalar("cpus"), 2.0);
  BOOST_CHECK(r.ranges("ports").contains(80));
  BOOST_CHECK_EQUAL(r.ranges("ports").count(), 12u);
  BOOST_CHECK(parse_ok("").empty());
}

BOOST_AUTO_TEST_CASE(bad_input_names_the_offending_part) {
  expect_error("cpus:-1", "negative");
  expect_error("cpus:-1", "cpus:-1");
  expect_error("mem:nan", "NaN");
  expect_error("mem:inf", "infinite");
  expect_error("disk:1e300", "too large");
  expect_error("cpus:4abc", "not a number");
  expect_error("cpus:", "missing amount");
  expect_error("cpu:4", "unknown resource 'cpu'");
  expect_error("ports:[1-5,3-8]", "overlap");
  expect_error("ports:[9-3]", "ends before it begins");
  expect_error("ports:4", "ranges must look like");
  expect_error("ports:[a-b]", "not a non-negative integer");
  expect_error("cpus:[1-2]", "not a number");
  expect_error("cpus:1;cpus:2", "appears twice");
  expect_error("cpus;mem:1", "expected name:value");
  expect_error("cpus:1;;mem:1", "empty item");
  expect_error("cpus(web:1", "expected name(role)");
  expect_error("cpus(a//b):1", "empty path component");
  expect_error("cpus(-x):1", "must not start with '-'");
  expect_error("cpus(a b):1", "forbidden character");
  expect_error("gpus:1.5", "whole number");
  expect_error("cpus:0.0001", "precision");
  expect_error("ports:[1-10];ports(web):[5-6]", "overlap");
  expect_error("%%%:1", "not a valid resource name");
  expect_error("%%%", "expected name:value");
}

BOOST_AUTO_TEST_CASE(custom_resources_come_from_the_schema) {
  troupe::resource_schema schema;
  schema.kinds["devices"] = troupe::resource_kind::set;
  auto r = resources::parse("devices:{gpu0,gpu1};cpus:1", schema);
  BOOST_REQUIRE(r);
  BOOST_CHECK_EQUAL(r->to_string(), "cpus:1;devices:{gpu0,gpu1}");
  BOOST_CHECK(!resources::parse("devices:{a,a}", schema));
  BOOST_CHECK(!resources::parse("devices:{a}")); // unknown without the schema
}

BOOST_AUTO_TEST_CASE(arithmetic_is_exact_in_fixed_point) {
  auto a = parse_ok("cpus:0.1;mem:100;ports:[1000-2000]");
  auto b = parse_ok("cpus:0.2;mem:50;ports:[1500-1600]");
  auto sum = a + b;
  BOOST_CHECK_EQUAL(sum.scalar("cpus"), 0.3); // exact: no 0.30000000000000004
  BOOST_CHECK_EQUAL(sum.scalar("mem"), 150.0);
  BOOST_CHECK(sum - b == a + parse_ok("ports:[1500-1600]") - parse_ok("ports:[1500-1600]"));
  auto diff = a - b;
  BOOST_CHECK_EQUAL(diff.scalar("cpus"), 0.0); // saturates at zero
  BOOST_CHECK_EQUAL(diff.scalar("mem"), 50.0);
  BOOST_CHECK_EQUAL(diff.ranges("ports").to_string(), "[1000-1499,1601-2000]");
  BOOST_CHECK(a.contains(parse_ok("cpus:0.1;ports:[1000-1000,2000-2000]")));
  BOOST_CHECK(!a.contains(b));
  BOOST_CHECK(parse_ok("mem:50") <= a);
  BOOST_CHECK(!(parse_ok("mem:50;gpus:1") <= a));
}

BOOST_AUTO_TEST_CASE(reservations_are_separate_buckets) {
  auto agent = parse_ok("cpus:4;cpus(web):2;mem:1024");
  auto web_task = parse_ok("cpus(web):1");
  auto plain_task = parse_ok("cpus:3");
  BOOST_CHECK(agent.contains(web_task));
  BOOST_CHECK(agent.contains(plain_task));
  BOOST_CHECK(!agent.contains(parse_ok("cpus(web):3")));
  BOOST_CHECK(!agent.contains(parse_ok("cpus(db):1")));
  BOOST_CHECK_EQUAL(agent.flatten().scalar("cpus"), 6.0);
  BOOST_CHECK(agent.flatten().reserved().empty());
}

BOOST_AUTO_TEST_CASE(per_role_views) {
  auto r = parse_ok("cpus:1;cpus(eng):2;cpus(eng/web):4;cpus(ops):8");
  BOOST_CHECK_EQUAL(r.allocatable_to("eng/web").scalar("cpus"), 7.0); // *, eng, eng/web
  BOOST_CHECK_EQUAL(r.allocatable_to("eng").scalar("cpus"), 3.0);     // *, eng
  BOOST_CHECK_EQUAL(r.allocatable_to("engineering").scalar("cpus"), 1.0);
  BOOST_CHECK_EQUAL(r.allocatable_to("ops").scalar("cpus"), 9.0);
  BOOST_CHECK_EQUAL(r.unreserved().scalar("cpus"), 1.0);
  BOOST_CHECK_EQUAL(r.reserved().scalar("cpus"), 14.0);
}

BOOST_AUTO_TEST_CASE(minimum_allocatable_alternatives) {
  troupe::min_allocatable def;
  BOOST_CHECK(def.allows(parse_ok("cpus:0.01")));
  BOOST_CHECK(def.allows(parse_ok("mem:32")));
  BOOST_CHECK(def.allows(parse_ok("cpus(web):0.5")));
  BOOST_CHECK(!def.allows(parse_ok("mem:31;ports:[1-100]")));
  BOOST_CHECK(!def.allows(resources{}));
  auto custom = troupe::min_allocatable::parse("cpus:1;mem:128|gpus:1");
  BOOST_REQUIRE(custom);
  BOOST_CHECK(!custom->allows(parse_ok("cpus:1;mem:64")));
  BOOST_CHECK(custom->allows(parse_ok("cpus:1;mem:128")));
  BOOST_CHECK(custom->allows(parse_ok("gpus:1")));
  BOOST_CHECK(!troupe::min_allocatable::parse("cpus:1||mem:2"));
  BOOST_CHECK(!troupe::min_allocatable::parse("cpus:x"));
}

BOOST_AUTO_TEST_CASE(protobuf_and_json_round_trip) {
  auto r = parse_ok("cpus:4;cpus(web):1.5;ports:[31000-32000]");
  auto back = resources::from_proto(r.to_proto());
  BOOST_REQUIRE(back);
  BOOST_CHECK(*back == r);
  auto json = r.to_json();
  BOOST_CHECK(json.front() == '[');
  auto parsed = resources::parse_json(json);
  BOOST_REQUIRE_MESSAGE(parsed, json);
  BOOST_CHECK(*parsed == r);
  auto mesos_style = resources::parse_json(
    R"([{"name":"cpus","type":"SCALAR","scalar":{"value":2}},
        {"name":"ports","type":"RANGES","ranges":{"range":[{"begin":80,"end":90}]}}])");
  BOOST_REQUIRE(mesos_style);
  BOOST_CHECK(*mesos_style == parse_ok("cpus:2;ports:[80-90]"));
}

BOOST_AUTO_TEST_CASE(dynamic_reservations_survive_protobuf) {
  troupe::v1::ResourceList list;
  auto* res = list.add_resources();
  res->set_name("cpus");
  res->set_type(troupe::v1::Value::SCALAR);
  res->mutable_scalar()->set_value(1);
  auto* info = res->add_reservations();
  info->set_type(troupe::v1::ReservationInfo::DYNAMIC);
  info->set_role("db");
  info->set_principal("ops");
  auto r = resources::from_proto(list.resources());
  BOOST_REQUIRE(r);
  BOOST_CHECK_EQUAL(r->reserved("db").scalar("cpus"), 1.0);
  BOOST_CHECK(!r->contains(parse_ok("cpus(db):1"))); // static != dynamic
  auto again = resources::parse_json(r->to_json());
  BOOST_REQUIRE(again);
  BOOST_CHECK(*again == *r);
}

BOOST_AUTO_TEST_CASE(bad_protobuf_and_json_are_rejected) {
  auto check = [](const std::string& json, const std::string& needle) {
    auto r = resources::parse_json(json);
    BOOST_REQUIRE_MESSAGE(!r, json);
    auto msg = troupe::error_message(r.error());
    BOOST_CHECK_MESSAGE(msg.find(needle) != std::string::npos, msg << " lacks " << needle);
  };
  check(R"([{"name":"cpus","type":"SCALAR","scalar":{"value":-1}}])", "negative");
  check(R"([{"name":"cpus","type":"SCALAR","scalar":{"value":"NaN"}}])", "NaN");
  check(R"([{"name":"cpus","type":"RANGES"}])", "expected SCALAR");
  check(R"([{"name":"bogus","type":"SCALAR","scalar":{"value":1}}])", "unknown resource name");
  check(R"([{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":5,"end":9},{"begin":7,"end":8}]}}])",
        "overlap");
  check(R"([{"name":"cpus","type":"SCALAR","reservations":[{"type":"STATIC","role":"*"}]}])",
        "role '*'");
  check(R"({"resources": [ {"nme": 1} ]})", "invalid resources JSON");
  check("garbage", "invalid resources JSON");
}

BOOST_AUTO_TEST_CASE(dynamic_reservations_are_undone_and_made_again_on_another_total) {
  auto dyn = [](const std::string& name, int64_t millis, const std::string& role) {
    resources out;
    out.add(resource_key{name, {reservation{v1::ReservationInfo::DYNAMIC, role, "p", {}}}},
            resource_value{resource_kind::scalar, millis, {}, {}});
    return out;
  };
  auto total = resources::parse("cpus:1;mem:512;cpus(web):1").value() + dyn("cpus", 2000, "eng");
  BOOST_CHECK(has_dynamic_reservations(total));
  BOOST_CHECK(dynamic_reservations(total) == dyn("cpus", 2000, "eng"));
  BOOST_CHECK(without_dynamic_reservations(total) == resources::parse("cpus:3;mem:512;cpus(web):1").value());
  // Made again on a total whose static reservations changed (same unreserved amounts).
  auto now = resources::parse("cpus:3;mem:512;cpus(db):1").value();
  auto kept = with_dynamic_reservations(now, total);
  BOOST_REQUIRE(kept);
  BOOST_CHECK(*kept == resources::parse("cpus:1;mem:512;cpus(db):1").value()
                         + dyn("cpus", 2000, "eng"));
  // Not enough left to reserve from: an error, nothing made.
  BOOST_CHECK(!with_dynamic_reservations(resources::parse("cpus:1;mem:512").value(), total));
  BOOST_CHECK(!has_dynamic_reservations(now));
}

BOOST_AUTO_TEST_SUITE_END()
