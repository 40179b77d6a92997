// Wire messages between two real OS processes over CAF's middleman on 127.0.0.1: the peer is
// `troupe-demo serve` (an echo actor), this process is the client. Covers typed
// request/response, one-way with replies to the sender, every message type, corrupted bytes
// (garbage on the socket, undecodable payloads) and the peer dying.
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include "troupe/messages/builders.hpp"
#include "troupe/messages/type_ids.hpp"
#include "troupe/protocols/echo.hpp"
#include "troupe/runtime/errors.hpp"
#include "troupe/runtime/node_config.hpp"
#include "troupe/runtime/transport.hpp"
#include "troupe/test/child_process.hpp"
#include "troupe/test/deterministic_fixture.hpp"
#include "troupe/test/proto_filler.hpp"

using namespace std::chrono_literals;
using namespace troupe;

namespace {

std::string demo_binary() {
  auto& suite = boost::unit_test::framework::master_test_suite();
  BOOST_REQUIRE_MESSAGE(suite.argc >= 2, "usage: integration_tests -- <path to troupe-demo>");
  return suite.argv[suite.argc - 1];
}

// A bytes-only stand-in registered under the name of a real troupe type: what a buggy or
// hostile peer could put on the wire.
struct forged_payload {
  std::string bytes;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, forged_payload& x) {
  return f(caf::meta::type_name("forged_payload"), x.bytes);
}

struct forging_config : caf::actor_system_config {
  forging_config() {
    add_message_type<forged_payload>("troupe::v1::RunTask");
    load<caf::io::middleman>();
    set("scheduler.max-threads", size_t{1});
  }
};

// Starts the peer process and a client actor system connected to it.
struct two_processes {
  std::string port_file = test::temp_path("echo-port");
  std::string log_file = test::temp_path("echo-log");
  std::unique_ptr<test::child_process> peer;
  uint16_t port = 0;
  runtime::node_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<runtime::transport> tp;
  caf::actor echo_dyn;
  protocols::echo_actor echo;

  two_processes() {
    peer = std::make_unique<test::child_process>(
      std::vector<std::string>{demo_binary(), "--node-name", "echo-peer", "serve", "--port-file",
                               port_file},
      log_file);
    auto p = test::read_number_file(port_file, 10s);
    BOOST_REQUIRE_MESSAGE(p, "the peer did not publish within 10 s (log: " << log_file << ")");
    port = static_cast<uint16_t>(*p);
    sys = std::make_unique<caf::actor_system>(cfg);
    tp = runtime::make_middleman_transport(*sys);
    auto hdl = tp->connect({"127.0.0.1", port});
    if (!hdl)
      BOOST_FAIL("connect: " << runtime::render(hdl.error()));
    echo_dyn = *hdl;
    echo = caf::actor_cast<protocols::echo_actor>(echo_dyn);
  }

  ~two_processes() {
    echo_dyn = nullptr;
    echo = nullptr;
    tp.reset();
    sys.reset();
    peer.reset();
    std::remove(port_file.c_str());
    std::remove(log_file.c_str());
  }

  std::pair<uint64_t, uint64_t> stats(caf::scoped_actor& self) {
    std::pair<uint64_t, uint64_t> result{0, 0};
    self->request(echo, 5s, protocols::echo_stats_atom::value)
      .receive([&](uint64_t one_way, uint64_t undecodable) { result = {one_way, undecodable}; },
               [&](const caf::error& err) { BOOST_FAIL("stats: " << runtime::render(err)); });
    return result;
  }

  bool ping(caf::scoped_actor& self, uint64_t seq) {
    v1::Ping ping;
    ping.set_seq(seq);
    bool ok = false;
    self->request(echo, 5s, ping).receive([&](const v1::Pong& pong) { ok = pong.seq() == seq; },
                                          [&](const caf::error&) { ok = false; });
    return ok;
  }
};

template <class F, caf::type_id_t... Is>
void for_each_type(F&& f, std::integer_sequence<caf::type_id_t, Is...>) {
  (f(typename caf::type_by_id<caf::id_block::troupe_messages::begin + Is>::type{}), ...);
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(wire_two_process_test, two_processes)

BOOST_AUTO_TEST_CASE(typed_request_response) {
  caf::scoped_actor self{*sys};
  for (uint64_t i = 0; i < 200; ++i)
    BOOST_REQUIRE_MESSAGE(ping(self, i), "ping " << i << " failed");
}

BOOST_AUTO_TEST_CASE(one_way_messages_get_replies_in_order) {
  caf::scoped_actor self{*sys};
  constexpr uint64_t n = 2000;
  for (uint64_t i = 0; i < n; ++i) {
    auto status = make_task_status(make_task_id("t" + std::to_string(i % 7)), v1::TASK_RUNNING,
                                   v1::TaskStatus::SOURCE_EXECUTOR, 1.0);
    self->send(echo, make_status_update(make_framework_id("fw"), make_agent_id("a"),
                                        v1::ExecutorID{}, status, "u" + std::to_string(i)));
  }
  uint64_t next = 0;
  bool in_order = true;
  bool timed_out = false;
  while (next < n && !timed_out)
    self->receive(
      [&](const v1::StatusUpdateAcknowledgement& ack) {
        in_order = in_order && ack.uuid() == "u" + std::to_string(next);
        ++next;
      },
      caf::after(10s) >> [&] { timed_out = true; });
  BOOST_CHECK_EQUAL(next, n);
  BOOST_CHECK(in_order);
  BOOST_CHECK_EQUAL(stats(self).first, n);
}

BOOST_AUTO_TEST_CASE(every_message_type_round_trips_between_processes) {
  caf::scoped_actor self{*sys};
  runtime::seeded_random rng{test::test_seed(), "wire_two_process"};
  size_t ok = 0;
  for_each_type(
    [&](auto sample) {
      using T = decltype(sample);
      T x;
      test::fill_message(x, rng);
      // The two types of the echo's typed interface are answered, not reflected.
      if constexpr (std::is_same_v<T, v1::Ping>) {
        self->request(echo, 5s, x).receive(
          [&](const v1::Pong& pong) { ok += pong.seq() == x.seq() ? 1 : 0; },
          [&](const caf::error& err) { BOOST_ERROR("Ping: " << runtime::render(err)); });
        return;
      }
      if constexpr (std::is_same_v<T, v1::StatusUpdate>) {
        x.mutable_status()->set_state(v1::TASK_RUNNING);
        x.mutable_status()->set_source(v1::TaskStatus::SOURCE_EXECUTOR);
        *x.mutable_status()->mutable_task_id() = make_task_id("t1");
        *x.mutable_framework_id() = make_framework_id("fw");
        x.mutable_status()->set_uuid("uuid-every-type");
        self->send(echo, x);
        self->receive(
          [&](const v1::StatusUpdateAcknowledgement& ack) {
            ok += ack.uuid() == x.status().uuid() && ack.task_id() == x.status().task_id() ? 1 : 0;
          },
          caf::after(5s) >> [&] { BOOST_ERROR("StatusUpdate: no acknowledgement"); });
        return;
      }
      self->request(echo_dyn, 5s, x)
        .receive(
          [&](const T& y) {
            BOOST_CHECK_MESSAGE(y == x, x.GetTypeName() << " changed between processes");
            ++ok;
          },
          [&](const caf::error& err) {
            BOOST_ERROR(x.GetTypeName() << ": " << runtime::render(err));
          });
    },
    std::make_integer_sequence<caf::type_id_t, message_type_count>{});
  BOOST_CHECK_EQUAL(ok, message_type_count);
}

BOOST_AUTO_TEST_CASE(the_connector_connects_from_inside_an_actor) {
  // The non-blocking path actors use: request the transport's connector, then talk.
  struct outcome {
    bool connected = false;
    bool ponged = false;
    std::string error;
  };
  auto result = std::make_shared<outcome>();
  auto connector = tp->connector();
  auto target = port;
  auto client = sys->spawn([=](caf::event_based_actor* self) {
    self->request(connector, 5s, runtime::connect_atom::value, std::string{"127.0.0.1"}, target)
      .then(
        [=](const caf::actor& hdl) {
          result->connected = true;
          v1::Ping ping;
          ping.set_seq(99);
          self->request(caf::actor_cast<protocols::echo_actor>(hdl), 5s, ping)
            .then([=](const v1::Pong& pong) { result->ponged = pong.seq() == 99; },
                  [=](const caf::error& err) { result->error = runtime::render(err); });
        },
        [=](const caf::error& err) { result->error = runtime::render(err); });
  });
  // Nothing listens on port 1: the connector answers with an error instead of hanging.
  auto refused = std::make_shared<std::string>();
  auto prober = sys->spawn([=](caf::event_based_actor* self) {
    self->request(connector, 5s, runtime::connect_atom::value, std::string{"127.0.0.1"},
                  uint16_t{1})
      .then([=](const caf::actor&) { *refused = "connected?"; },
            [=](const caf::error& err) { *refused = runtime::render(err); });
  });
  caf::scoped_actor self{*sys};
  self->wait_for(client, prober);
  BOOST_CHECK_MESSAGE(result->connected && result->ponged, result->error);
  BOOST_CHECK_MESSAGE(refused->find("troupe::unavailable") == 0, *refused);
}

BOOST_AUTO_TEST_CASE(garbage_on_the_socket_does_not_hurt_the_peer) {
  for (int round = 0; round < 3; ++round) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    BOOST_REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    BOOST_REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    std::string junk(4096, '\0');
    for (size_t i = 0; i < junk.size(); ++i)
      junk[i] = static_cast<char>((i * 131 + round * 17) & 0xff);
    (void) !::write(fd, junk.data(), junk.size());
    ::close(fd);
  }
  caf::scoped_actor self{*sys};
  BOOST_CHECK(ping(self, 42));
  BOOST_CHECK(peer->running());
}

BOOST_AUTO_TEST_CASE(undecodable_payload_is_dropped_and_counted) {
  forging_config forge_cfg;
  caf::actor_system forger{forge_cfg};
  auto hdl = forger.middleman().remote_actor("127.0.0.1", port);
  if (!hdl)
    BOOST_FAIL("forger connect: " << forger.render(hdl.error()));
  {
    caf::scoped_actor forge_self{forger};
    forge_self->send(*hdl, forged_payload{std::string(64, '\xff')});
  }
  caf::scoped_actor self{*sys};
  uint64_t undecodable = 0;
  for (int i = 0; i < 100 && undecodable == 0; ++i) {
    undecodable = stats(self).second;
    if (undecodable == 0)
      std::this_thread::sleep_for(20ms);
  }
  BOOST_CHECK_EQUAL(undecodable, 1u);
  BOOST_CHECK(ping(self, 7));
  caf::anon_send_exit(*hdl, caf::exit_reason::user_shutdown); // only drops our proxy
}

BOOST_AUTO_TEST_CASE(peer_death_is_an_error_not_a_hang) {
  caf::scoped_actor self{*sys};
  BOOST_REQUIRE(ping(self, 1));
  // Liveness comes from monitoring the remote actor (CAF 0.17 fails requests to a dead node only
  // by their timeout), so: the monitor must fire promptly after kill -9.
  self->monitor(echo);
  peer->signal(SIGKILL);
  BOOST_REQUIRE(peer->wait_for(5s));
  auto t0 = std::chrono::steady_clock::now();
  bool down = false;
  caf::error reason;
  self->receive([&](caf::down_msg& msg) {
                  down = true;
                  reason = msg.reason;
                },
                caf::after(10s) >> [] {});
  auto waited = std::chrono::steady_clock::now() - t0;
  BOOST_REQUIRE_MESSAGE(down, "no down message within 10 s of killing the peer");
  BOOST_CHECK(reason == caf::exit_reason::remote_link_unreachable);
  BOOST_CHECK_MESSAGE(waited < 3s, "took "
                                     << std::chrono::duration_cast<std::chrono::milliseconds>(waited).count()
                                     << " ms to notice the dead peer");
  // A request with a finite timeout ends in an error, never a hang.
  v1::Ping ping;
  ping.set_seq(2);
  bool got_error = false;
  self->request(echo, 1s, ping).receive([&](const v1::Pong&) {},
                                        [&](const caf::error&) { got_error = true; });
  BOOST_CHECK(got_error);
}

BOOST_AUTO_TEST_CASE(the_peer_exits_cleanly_on_sigterm) {
  caf::scoped_actor self{*sys};
  BOOST_REQUIRE(ping(self, 1));
  peer->signal(SIGTERM);
  auto status = peer->wait_for(10s);
  BOOST_REQUIRE_MESSAGE(status, "the peer did not exit within 10 s of SIGTERM");
  BOOST_CHECK(WIFEXITED(*status));
  BOOST_CHECK_EQUAL(WEXITSTATUS(*status), 0);
}

BOOST_AUTO_TEST_SUITE_END()
