// The simulated network: messages and replies cross it with its latency through stable
// proxies; seeded drops, duplicates and delays replay bit for bit; cuts are one-way,
// partitions both ways, heal restores; a down node is unreachable and drops what is sent to it.
#include <boost/test/unit_test.hpp>

#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "troupe/runtime/sim_network.hpp"
#include "troupe/test/deterministic_fixture.hpp"

using namespace std::chrono_literals;
using namespace troupe;

namespace {

// What the echo server and the client saw.
struct observations {
  std::vector<caf::actor_addr> senders;           ///< at the server, per message
  std::vector<int> replies;                       ///< at the client
  std::vector<caf::actor_clock::time_point> at;   ///< arrival of each reply
};

struct sim_fixture : test::deterministic_fixture {
  std::shared_ptr<observations> seen = std::make_shared<observations>();
  std::unique_ptr<runtime::sim_network> net;
  std::unique_ptr<runtime::transport> a, b;
  caf::actor server, client;
  uint16_t port = 0;

  explicit sim_fixture(uint64_t net_seed = 1, runtime::sim_faults faults = {}) {
    net = std::make_unique<runtime::sim_network>(sys, net_seed, faults);
    a = net->transport_for("a");
    b = net->transport_for("b");
    auto obs = seen;
    server = sys.spawn([obs](caf::event_based_actor* self) -> caf::behavior {
      return {[=](int x) {
        obs->senders.push_back(caf::actor_cast<caf::actor_addr>(self->current_sender()));
        self->send(caf::actor_cast<caf::actor>(self->current_sender()), x + 1);
      }};
    });
    port = b->publish(server, {"b", 0}).value();
    client = sys.spawn([obs](caf::event_based_actor* self) -> caf::behavior {
      return {[=](int x) { // a reply from the server
        obs->replies.push_back(x);
        obs->at.push_back(self->clock().now());
      }};
    });
  }

  ~sim_fixture() override {
    caf::anon_send_exit(server, caf::exit_reason::kill);
    caf::anon_send_exit(client, caf::exit_reason::kill);
    run();
    sched.clock().cancel_all();
    run();
    a.reset();
    b.reset();
    net.reset();
  }

  /// The server as node a sees it.
  caf::actor remote_server() {
    auto hdl = a->connect({"b", port});
    BOOST_REQUIRE_MESSAGE(hdl, "connect failed");
    return *hdl;
  }

  /// The client (on a) sends `x` to the server (on b).
  void ping(const caf::actor& to, int x) {
    caf::send_as(client, to, x);
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(sim_network_test)

BOOST_AUTO_TEST_CASE(messages_and_replies_cross_with_latency_through_stable_proxies) {
  runtime::sim_faults f;
  f.min_delay = f.max_delay = 5ms;
  sim_fixture s{1, f};
  auto to = s.remote_server();
  BOOST_CHECK(to != s.server); // a proxy, not the actor itself
  BOOST_CHECK(s.remote_server() == to); // one proxy per (actor, node)
  auto t0 = s.now();
  s.ping(to, 1);
  s.ping(to, 10);
  s.advance(20ms);
  BOOST_REQUIRE_EQUAL(s.seen->replies.size(), 2u);
  BOOST_CHECK_EQUAL(s.seen->replies[0], 2);
  BOOST_CHECK_EQUAL(s.seen->replies[1], 11);
  BOOST_CHECK(s.seen->at[0] - t0 == 10ms); // there and back
  // The server saw one stable sender: the client's proxy as node b sees it, not the client.
  BOOST_REQUIRE_EQUAL(s.seen->senders.size(), 2u);
  BOOST_CHECK(s.seen->senders[0] == s.seen->senders[1]);
  BOOST_CHECK(s.seen->senders[0] != caf::actor_cast<caf::actor_addr>(s.client));
  BOOST_CHECK_EQUAL(s.net->stats().delivered, 4u);
  BOOST_CHECK_EQUAL(s.net->stats().dropped, 0u);
  // Same node: no proxy, no network.
  auto local = s.b->connect({"b", s.port});
  BOOST_REQUIRE(local);
  BOOST_CHECK(*local == s.server);
  BOOST_CHECK(!s.a->connect({"b", 1}));
}

BOOST_AUTO_TEST_CASE(the_same_seed_replays_the_run_and_another_seed_differs) {
  runtime::sim_faults f;
  f.drop = 0.3;
  f.duplicate = 0.2;
  f.min_delay = 1ms;
  f.max_delay = 50ms;
  f.reorder = 0.5;
  struct outcome {
    uint64_t hash;
    std::vector<int> replies;
    runtime::sim_stats stats;
  };
  auto scenario = [&](uint64_t seed) {
    sim_fixture s{seed, f};
    auto to = s.remote_server();
    for (int i = 0; i < 200; ++i)
      s.ping(to, i * 10);
    s.advance(1s);
    return outcome{s.net->trace_hash(), s.seen->replies, s.net->stats()};
  };
  auto x = scenario(7), y = scenario(7), z = scenario(8);
  BOOST_CHECK_EQUAL(x.hash, y.hash);
  BOOST_CHECK(x.replies == y.replies);
  BOOST_CHECK_NE(x.hash, z.hash);
  // The faults happen, at about their rates (400 crossings at 30 % loss).
  BOOST_CHECK_GT(x.stats.dropped, 60u);
  BOOST_CHECK_LT(x.stats.dropped, 200u);
  BOOST_CHECK_GT(x.stats.duplicated, 10u);
  // Reordering: with 1-50 ms of jitter the replies do not come back in send order.
  BOOST_CHECK(!std::is_sorted(x.replies.begin(), x.replies.end()));
  // Without reorder each sender -> receiver pair is FIFO, whatever the jitter (duplicates
  // arrive right after their original).
  f.reorder = 0;
  auto fifo = scenario(7);
  BOOST_CHECK_GT(fifo.replies.size(), 100u);
  BOOST_CHECK(std::is_sorted(fifo.replies.begin(), fifo.replies.end()));
}

BOOST_AUTO_TEST_CASE(cuts_are_one_way_partitions_both_and_heal_restores) {
  sim_fixture s;
  auto to = s.remote_server();
  s.net->cut("b", "a"); // requests arrive, replies are lost
  s.ping(to, 1);
  s.advance(10ms);
  BOOST_CHECK_EQUAL(s.seen->senders.size(), 1u);
  BOOST_CHECK(s.seen->replies.empty());
  s.net->heal();
  s.net->partition({"a"}, {"b"});
  s.ping(to, 2);
  s.advance(10ms);
  BOOST_CHECK_EQUAL(s.seen->senders.size(), 1u); // the request did not arrive either
  BOOST_CHECK(!s.a->connect({"b", s.port}));      // nor does a new connection
  s.net->heal();
  s.ping(to, 3);
  s.advance(10ms);
  BOOST_REQUIRE_EQUAL(s.seen->replies.size(), 1u);
  BOOST_CHECK_EQUAL(s.seen->replies[0], 4);
  BOOST_CHECK_EQUAL(s.net->stats().dropped, 2u);
  // A clogged link delays instead of dropping.
  runtime::sim_faults slow;
  slow.min_delay = slow.max_delay = 200ms;
  s.net->set_link_faults("a", "b", slow);
  s.ping(to, 5);
  s.advance(100ms);
  BOOST_CHECK_EQUAL(s.seen->replies.size(), 1u);
  s.advance(200ms);
  BOOST_CHECK_EQUAL(s.seen->replies.size(), 2u);
}

BOOST_AUTO_TEST_CASE(a_down_node_is_unreachable_until_it_publishes_again) {
  sim_fixture s;
  auto to = s.remote_server();
  s.net->take_down("b");
  s.ping(to, 1);
  s.advance(10ms);
  BOOST_CHECK(s.seen->senders.empty());
  BOOST_CHECK(!s.a->connect({"b", s.port}));
  BOOST_CHECK(!s.b->publish(s.server, {"b", s.port}));
  s.net->bring_up("b");
  BOOST_REQUIRE(s.b->publish(s.server, {"b", s.port}));
  auto again = s.remote_server();
  s.ping(again, 1);
  s.advance(10ms);
  BOOST_CHECK_EQUAL(s.seen->replies.size(), 1u);
}

// When the server ends, a monitor on its proxy at node a sees it go (with its exit reason),
// but only after a reply it sent just before has arrived; the dead proxy drops what is sent
// to it and answers requests with request_receiver_down.
BOOST_AUTO_TEST_CASE(a_dead_target_takes_its_proxies_down_after_the_link_delay) {
  runtime::sim_faults f;
  f.min_delay = f.max_delay = 50ms;
  sim_fixture s{1, f};
  auto to = s.remote_server();
  auto downs = std::make_shared<std::vector<std::pair<caf::error, size_t>>>();
  auto seen = s.seen;
  auto watcher = s.sys.spawn([to, downs, seen](caf::event_based_actor* self) -> caf::behavior {
    self->monitor(to);
    self->set_down_handler([downs, seen](caf::down_msg& msg) {
      downs->emplace_back(msg.reason, seen->replies.size());
    });
    return {[](int) {}};
  });
  s.run();
  s.ping(to, 1);
  s.advance(60ms); // at the server, its reply on the way back
  caf::anon_send_exit(s.server, caf::exit_reason::user_shutdown);
  s.run();
  BOOST_CHECK(downs->empty()); // not yet: the news takes the link's delay
  s.advance(60ms);
  BOOST_REQUIRE_EQUAL(downs->size(), 1u);
  BOOST_CHECK(downs->front().first == caf::exit_reason::user_shutdown);
  BOOST_CHECK_EQUAL(downs->front().second, 1u); // the reply came first
  caf::scoped_actor self{s.sys};
  self->request(to, caf::infinite, 7).receive(
    [](int) { BOOST_FAIL("a dead proxy answered"); },
    [](caf::error& err) { BOOST_CHECK(err == caf::sec::request_receiver_down); });
  caf::anon_send_exit(watcher, caf::exit_reason::user_shutdown);
}

// disconnect breaks the connections between two nodes: a monitor on the proxy sees it go
// (remote_link_unreachable) at once, and a new connect gives a fresh proxy that works.
BOOST_AUTO_TEST_CASE(a_disconnect_breaks_the_proxies_and_a_reconnect_works) {
  sim_fixture s;
  auto to = s.remote_server();
  auto downs = std::make_shared<std::vector<caf::error>>();
  auto watcher = s.sys.spawn([to, downs](caf::event_based_actor* self) -> caf::behavior {
    self->monitor(to);
    self->set_down_handler([downs](caf::down_msg& msg) { downs->push_back(msg.reason); });
    return {[](int) {}};
  });
  s.run();
  s.net->disconnect("a", "b");
  s.advance(1ms);
  BOOST_REQUIRE_EQUAL(downs->size(), 1u);
  BOOST_CHECK(downs->front() == caf::exit_reason::remote_link_unreachable);
  s.ping(to, 1); // the dead proxy drops it
  s.advance(10ms);
  BOOST_CHECK(s.seen->replies.empty());
  auto again = s.remote_server();
  BOOST_CHECK(again != to);
  s.ping(again, 1);
  s.advance(10ms);
  BOOST_CHECK_EQUAL(s.seen->replies.size(), 1u);
  caf::anon_send_exit(watcher, caf::exit_reason::user_shutdown);
}

// What is in flight when the connection breaks is lost, as TCP would lose it: a message sent
// just before the disconnect never arrives; one sent on the new connection does.
BOOST_AUTO_TEST_CASE(messages_in_flight_across_a_disconnect_are_lost) {
  runtime::sim_faults slow;
  slow.min_delay = 50ms;
  slow.max_delay = 50ms;
  sim_fixture s{1, slow};
  auto to = s.remote_server();
  s.ping(to, 1);
  s.advance(10ms); // on the way
  s.net->disconnect("a", "b");
  s.advance(200ms);
  BOOST_CHECK(s.seen->senders.empty()); // the server never got it
  BOOST_CHECK(s.seen->replies.empty());
  auto again = s.remote_server();
  s.ping(again, 2);
  s.advance(200ms);
  BOOST_REQUIRE_EQUAL(s.seen->replies.size(), 1u);
  BOOST_CHECK_EQUAL(s.seen->replies.front(), 3);
  BOOST_CHECK_GE(s.net->stats().dropped, 1u); // counted as lost
}

BOOST_AUTO_TEST_SUITE_END()
