// The leader connector in virtual time, over a stand-in transport connector whose "proxies"
// are local actors the test can end (a connection reset): a client following the leader gets a
// new handle when its connection breaks, without any new announcement, and nothing once the
// leader has left.
#include <boost/test/unit_test.hpp>

#include <memory>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include "troupe/messages/json.hpp"
#include "troupe/messages/proto.hpp"
#include "troupe/runtime/election/leader_connector.hpp"
#include "troupe/runtime/transport.hpp"
#include "troupe/test/deterministic_fixture.hpp"

using namespace std::chrono_literals;
using namespace troupe;
namespace election = troupe::runtime::election;

namespace {

struct connector_fixture : test::deterministic_fixture {
  /// Every "connection" the transport made, in order (each a stand-in proxy).
  std::shared_ptr<std::vector<caf::actor>> connections = std::make_shared<std::vector<caf::actor>>();
  /// Every handle the client was handed, in order.
  std::shared_ptr<std::vector<caf::actor>> handed = std::make_shared<std::vector<caf::actor>>();
  caf::actor transport;
  caf::actor client;
  election::leader_listener connector;

  connector_fixture() {
    auto made = connections;
    transport = sys.spawn([made](caf::event_based_actor* self) -> caf::behavior {
      return {
        [self, made](runtime::connect_atom, const std::string&, uint16_t) {
          auto proxy = self->spawn([]() -> caf::behavior { return {[](int) {}}; });
          made->push_back(proxy);
          return proxy;
        },
      };
    });
    auto got = handed;
    client = sys.spawn([got]() -> caf::behavior {
      return {
        [got](election::leader_atom, caf::actor& master, const v1::MasterInfo&) {
          got->push_back(master);
        },
      };
    });
    connector = election::spawn_leader_connector(sys, transport, client, 500ms);
    run();
  }

  ~connector_fixture() override {
    for (auto& c : *connections)
      caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
    for (auto* a : {&transport, &client})
      caf::anon_send_exit(*a, caf::exit_reason::user_shutdown);
    run();
  }

  void announce(const std::optional<std::string>& data) {
    caf::anon_send(connector, election::leader_atom::value, data);
    run();
  }

  static std::string leader_json() {
    v1::MasterInfo info;
    info.set_id("m1");
    info.set_hostname("127.0.0.1");
    info.set_actor_port(5050);
    return to_json(info);
  }

  /// Ends the proxy the client holds, as a connection reset would.
  void reset_connection() {
    BOOST_REQUIRE(!handed->empty());
    caf::anon_send_exit(handed->back(), caf::exit_reason::remote_link_unreachable);
    run();
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(leader_connector_test, connector_fixture)

BOOST_AUTO_TEST_CASE(a_broken_connection_is_made_again_without_a_new_announcement) {
  announce(leader_json());
  BOOST_REQUIRE_EQUAL(handed->size(), 1u);
  reset_connection();
  BOOST_CHECK_EQUAL(handed->size(), 1u); // not before the backoff
  advance(500ms);
  BOOST_REQUIRE_EQUAL(handed->size(), 2u);
  BOOST_CHECK(handed->at(1) != handed->at(0));
  reset_connection(); // and again: every break is repaired
  advance(500ms);
  BOOST_CHECK_EQUAL(handed->size(), 3u);
  // The same announcement again changes nothing.
  announce(leader_json());
  BOOST_CHECK_EQUAL(handed->size(), 3u);
}

BOOST_AUTO_TEST_CASE(a_leader_that_left_is_not_reconnected_to) {
  announce(leader_json());
  BOOST_REQUIRE_EQUAL(handed->size(), 1u);
  announce(std::nullopt); // no leader now
  reset_connection();
  advance(5s);
  BOOST_CHECK_EQUAL(handed->size(), 1u);
  BOOST_CHECK_EQUAL(connections->size(), 1u);
}

BOOST_AUTO_TEST_CASE(the_connector_ends_with_its_client) {
  announce(leader_json());
  caf::anon_send_exit(client, caf::exit_reason::user_shutdown);
  run();
  reset_connection(); // nobody to hand a new handle to
  advance(5s);
  BOOST_CHECK_EQUAL(connections->size(), 1u);
}

BOOST_AUTO_TEST_SUITE_END()
