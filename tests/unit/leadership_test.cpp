// HA plumbing that needs no ZooKeeper: zk:// URLs as --zk and --master take them, the HTTP
// answers of a master that does not serve (307 to the leader, 503 while none is known), and the
// agent registry's records recovered at the start of a term.
#include <boost/test/unit_test.hpp>

#include "troupe/master/agent_registry.hpp"
#include "troupe/messages/builders.hpp"
#include "troupe/runtime/election/election.hpp"
#include "troupe/tools/leadership.hpp"

using namespace troupe;
namespace election = troupe::runtime::election;

BOOST_AUTO_TEST_SUITE(leadership_test)

BOOST_AUTO_TEST_CASE(zk_urls_name_hosts_and_the_election_path) {
  auto zk = election::parse_zk_url("zk://127.0.0.1:2181,10.0.0.2:2182/troupe/prod");
  BOOST_REQUIRE(zk);
  BOOST_CHECK_EQUAL(zk->hosts, "127.0.0.1:2181,10.0.0.2:2182");
  BOOST_CHECK_EQUAL(zk->path, "/troupe/prod/leader");
  BOOST_CHECK_EQUAL(election::registry_root(*zk), "/troupe/prod/registry");
  BOOST_CHECK(election::is_zk_url("zk://h:1/p"));
  BOOST_CHECK(!election::is_zk_url("127.0.0.1:5050"));
  for (const auto* bad : {"127.0.0.1:2181/troupe", "zk://", "zk:///troupe", "zk://h:1",
                          "zk://h:1/", "zk://h/troupe", "zk://h:0/troupe", "zk://h:70000/t",
                          "zk://h:1,/t", "zk://h:1/a//b", "zk://h:x/t"})
    BOOST_CHECK_MESSAGE(!election::parse_zk_url(bad), bad << " was accepted");
}

BOOST_AUTO_TEST_CASE(a_master_that_does_not_serve_redirects_or_says_unavailable) {
  tools::leadership_view view;
  view.set_self("me");
  auto none = view.redirect("/api/v1/state");
  BOOST_REQUIRE(none);
  BOOST_CHECK_EQUAL(none->status, 503);

  v1::MasterInfo other;
  other.set_id("other");
  other.set_hostname("10.0.0.7");
  other.set_http_port(5050);
  view.set_leader(other);
  auto moved = view.redirect("/api/v1/state");
  BOOST_REQUIRE(moved);
  BOOST_CHECK_EQUAL(moved->status, 307);
  BOOST_REQUIRE_EQUAL(moved->headers.size(), 1u);
  BOOST_CHECK_EQUAL(moved->headers[0].first, "Location");
  BOOST_CHECK_EQUAL(moved->headers[0].second, "http://10.0.0.7:5050/api/v1/state");

  // Elected but its term not serving yet: never a redirect to itself.
  v1::MasterInfo me;
  me.set_id("me");
  me.set_hostname("127.0.0.1");
  me.set_http_port(5051);
  view.set_leader(me);
  BOOST_CHECK_EQUAL(view.redirect("/api/v1/state")->status, 503);

  view.set_term(&me);
  BOOST_CHECK(view.serving());
  BOOST_CHECK(!view.redirect("/api/v1/state"));
  view.set_term(nullptr);
  BOOST_CHECK(!view.serving());
}

BOOST_AUTO_TEST_CASE(recovered_agents_get_no_pings_until_they_reregister) {
  master::agent_registry reg{"m2", 3};
  auto info = make_agent_info("h", 1, resources::parse("cpus:1").value());
  info.mutable_id()->set_value("m1-S0");
  reg.recover(info, resources::parse("cpus:1").value(), master::agent_status::recovered);
  BOOST_CHECK(reg.next_ping_round().pings.empty());
  auto back = reg.readmit(info, resources::parse("cpus:1").value());
  BOOST_REQUIRE(back);
  BOOST_CHECK(back->was_unknown); // the allocator has not seen it in this term
  BOOST_CHECK(!back->was_unreachable);
  BOOST_CHECK_EQUAL(reg.next_ping_round().pings.size(), 1u);

  info.mutable_id()->set_value("m1-S1");
  reg.recover(info, {}, master::agent_status::recovered);
  reg.mark_unreachable(info.id());
  BOOST_CHECK(reg.find(info.id())->status == master::agent_status::unreachable);
  auto again = reg.readmit(info, {});
  BOOST_REQUIRE(again);
  BOOST_CHECK(again->was_unreachable);

  info.mutable_id()->set_value("m1-S2");
  reg.recover(info, {}, master::agent_status::gone);
  BOOST_CHECK(!reg.readmit(info, {})); // gone stays gone across terms
}

BOOST_AUTO_TEST_SUITE_END()
