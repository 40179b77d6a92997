// The daemons' flag helpers: agent attributes in Mesos syntax, and the defaults that reach the
// actors' configs.
#include <boost/test/unit_test.hpp>

#include "troupe/messages/errc.hpp"
#include "troupe/tools/node_flags.hpp"

using namespace troupe;

BOOST_AUTO_TEST_SUITE(node_flags_test)

BOOST_AUTO_TEST_CASE(attributes_of_every_kind_parse) {
  auto attrs = tools::parse_attributes("rack:r1;level:3.5;keys:[1000-1500,2000-2001];os:{a,b}");
  BOOST_REQUIRE(attrs);
  BOOST_REQUIRE_EQUAL(attrs->size(), 4u);
  BOOST_CHECK_EQUAL((*attrs)[0].name(), "rack");
  BOOST_CHECK_EQUAL((*attrs)[0].type(), v1::Value::TEXT);
  BOOST_CHECK_EQUAL((*attrs)[0].text().value(), "r1");
  BOOST_CHECK_EQUAL((*attrs)[1].type(), v1::Value::SCALAR);
  BOOST_CHECK_EQUAL((*attrs)[1].scalar().value(), 3.5);
  BOOST_CHECK_EQUAL((*attrs)[2].type(), v1::Value::RANGES);
  BOOST_REQUIRE_EQUAL((*attrs)[2].ranges().range_size(), 2);
  BOOST_CHECK_EQUAL((*attrs)[2].ranges().range(1).end(), 2001u);
  BOOST_CHECK_EQUAL((*attrs)[3].type(), v1::Value::SET);
  BOOST_CHECK_EQUAL((*attrs)[3].set().item_size(), 2);
  BOOST_CHECK(tools::parse_attributes("")->empty());
}

BOOST_AUTO_TEST_CASE(malformed_attributes_are_errors_naming_the_part) {
  for (const char* text : {"rack", "rack:", ":r1", "keys:[5-1]", "keys:[1-x]", "a:1;a:2"}) {
    auto attrs = tools::parse_attributes(text);
    BOOST_REQUIRE_MESSAGE(!attrs, text);
    BOOST_CHECK_MESSAGE(error_message(attrs.error()).find("--attributes") != std::string::npos,
                        error_message(attrs.error()));
  }
}

BOOST_AUTO_TEST_CASE(detected_resources_parse_and_include_ports) {
  auto text = tools::detect_resources("/tmp");
  auto res = resources::parse(text);
  BOOST_REQUIRE_MESSAGE(res, text);
  BOOST_CHECK_NE(text.find("cpus:"), std::string::npos);
  BOOST_CHECK_NE(text.find("ports:[31000-32000]"), std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
