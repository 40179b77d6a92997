// The HTTP edge on real processes: troupe-master --http-port 0 serves /health, /api/v1/master
// (naming the actor and HTTP ports it bound), /api/v1/state (MasterState JSON from the
// state_view), /metrics (Prometheus text) and 404 for anything else; a troupe-agent that joins
// shows up there and on its own /api/v1/state; `troupe agents` takes the HTTP address (and
// still the actor address).
#include <boost/test/unit_test.hpp>

#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "troupe/messages/json.hpp"
#include "troupe/messages/proto.hpp"
#include "troupe/runtime/errors.hpp"
#include "troupe/runtime/http_client.hpp"
#include "integration_helpers.hpp"
#include "troupe/test/child_process.hpp"

using namespace std::chrono_literals;
using namespace troupe;
namespace fs = std::filesystem;

namespace {

using test::slurp;
using test::tools_dir;

struct http_edge_fixture {
  std::string dir = test::temp_path("troupe-http-edge");
  std::string tools = tools_dir();
  std::unique_ptr<test::child_process> master;
  std::unique_ptr<test::child_process> agent;
  uint16_t actor_port = 0;
  uint16_t http_port = 0;

  http_edge_fixture() {
    fs::create_directories(dir);
    master = std::make_unique<test::child_process>(
      std::vector<std::string>{tools + "/troupe-master", "--port", "0", "--port-file",
                               dir + "/master.port", "--http-port", "0", "--http-port-file",
                               dir + "/master.http", "--ping-interval", "0.3"},
      dir + "/master.log");
    auto port = test::read_number_file(dir + "/master.port", 10s);
    auto http = test::read_number_file(dir + "/master.http", 10s);
    BOOST_REQUIRE_MESSAGE(port && http, "the master did not start; see " << dir << "/master.log");
    actor_port = static_cast<uint16_t>(*port);
    http_port = static_cast<uint16_t>(*http);
    // The leadership term starts once the registry is recovered; its first snapshot follows.
    wait_until([&] { return get("/api/v1/state").status == 200; }, 5s, "a serving master");
  }

  ~http_edge_fixture() {
    agent.reset();
    master.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  /// Starts one agent against the master's actor port, with its HTTP API on any port.
  uint16_t start_agent() {
    agent = std::make_unique<test::child_process>(
      std::vector<std::string>{tools + "/troupe-agent", "--master",
                               "127.0.0.1:" + std::to_string(actor_port), "--port", "0",
                               "--http-port", "0", "--http-port-file", dir + "/agent.http",
                               "--work-dir", dir + "/agent", "--resources",
                               "cpus:2;mem:1024;disk:1024;ports:[31000-31100]"},
      dir + "/agent.log");
    auto http = test::read_number_file(dir + "/agent.http", 10s);
    BOOST_REQUIRE_MESSAGE(http, "the agent did not start; see " << dir << "/agent.log");
    return static_cast<uint16_t>(*http);
  }

  runtime::http_reply get(const std::string& path, uint16_t port = 0) {
    auto reply = runtime::http_get({"127.0.0.1", port == 0 ? http_port : port}, path, 3s);
    // Boost may format the message of a passing check too: render only what exists.
    BOOST_REQUIRE_MESSAGE(reply, "GET " << path << ": "
                                        << (reply ? "" : runtime::render(reply.error())));
    return *reply;
  }

  /// /api/v1/state, parsed; fails the test on anything but a 200 with a MasterState.
  v1::MasterState state() {
    auto reply = get("/api/v1/state");
    BOOST_REQUIRE_EQUAL(reply.status, 200);
    v1::MasterState st;
    auto err = from_json(reply.body, st);
    BOOST_REQUIRE_MESSAGE(!err, "not a MasterState: " << (err ? runtime::render(err) : "") << "\n"
                                                       << reply.body);
    return st;
  }

  template <class Pred>
  void wait_until(Pred pred, std::chrono::milliseconds timeout, const std::string& what) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
      BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline,
                            "timed out waiting for: " << what << " (logs in " << dir << ")");
      std::this_thread::sleep_for(50ms);
    }
  }

  /// Runs `troupe args...`; returns its exit code and leaves its output in `log`.
  int troupe(std::vector<std::string> args, const std::string& log) {
    args.insert(args.begin(), tools + "/troupe");
    test::child_process p{args, log};
    auto status = p.wait_for(20s);
    BOOST_REQUIRE_MESSAGE(status, "troupe " << args[1] << " did not finish; see " << log);
    return WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(http_edge_test, http_edge_fixture)

BOOST_AUTO_TEST_CASE(the_master_serves_health_info_state_metrics_and_404) {
  auto health = get("/health");
  BOOST_CHECK_EQUAL(health.status, 200);
  BOOST_CHECK_EQUAL(health.body, R"({"status":"ok"})");
  BOOST_CHECK_EQUAL(health.content_type, "application/json");

  auto info_reply = get("/api/v1/master");
  BOOST_REQUIRE_EQUAL(info_reply.status, 200);
  v1::MasterInfo info;
  BOOST_REQUIRE_MESSAGE(!from_json(info_reply.body, info), info_reply.body);
  BOOST_CHECK_EQUAL(info.actor_port(), actor_port);
  BOOST_CHECK_EQUAL(info.http_port(), http_port);
  BOOST_CHECK_EQUAL(info.hostname(), "127.0.0.1");
  BOOST_CHECK(!info.id().empty());
  BOOST_CHECK(!info.version().empty());
  BOOST_CHECK_GE(info.epoch(), 1u);

  // The first snapshot arrives right after start; until then the state answers 503.
  wait_until([&] { return get("/api/v1/state").status == 200; }, 5s, "a first state snapshot");
  auto st = state();
  BOOST_CHECK_EQUAL(st.agents_size(), 0);
  BOOST_CHECK_EQUAL(st.master().id(), info.id());
  BOOST_CHECK_EQUAL(st.master().actor_port(), actor_port); // bound port, not the flag's 0
  BOOST_CHECK_EQUAL(st.master().http_port(), http_port);

  auto metrics = get("/metrics");
  BOOST_CHECK_EQUAL(metrics.status, 200);
  BOOST_CHECK_MESSAGE(metrics.content_type.find("text/plain") == 0, metrics.content_type);
  BOOST_CHECK_MESSAGE(metrics.body.find("troupe_master_agents{status=\"registered\"} 0")
                        != std::string::npos,
                      metrics.body);

  auto missing = get("/api/v1/nope");
  BOOST_CHECK_EQUAL(missing.status, 404);
  BOOST_CHECK_EQUAL(missing.body, R"({"error":"no such endpoint: /api/v1/nope"})");
}

BOOST_AUTO_TEST_CASE(an_agent_appears_in_state_metrics_and_the_cli) {
  auto agent_http = start_agent();
  std::string agent_id;
  wait_until(
    [&] {
      auto st = state();
      if (st.agents_size() != 1 || st.agents(0).status() != "registered")
        return false;
      agent_id = st.agents(0).info().id().value();
      return true;
    },
    10s, "one registered agent in /api/v1/state");
  BOOST_CHECK(!agent_id.empty());
  wait_until(
    [&] {
      return get("/metrics").body.find("troupe_master_agents{status=\"registered\"} 1")
             != std::string::npos;
    },
    5s, "troupe_master_agents{status=\"registered\"} 1 in /metrics");

  // The agent's own API.
  // /health says "registering" until the agent's own snapshot shows its ID (refreshed often).
  wait_until([&] { return get("/health", agent_http).body == R"({"status":"ok"})"; }, 5s,
             "the agent's /health saying ok");
  wait_until([&] { return get("/api/v1/state", agent_http).body.find(agent_id)
                          != std::string::npos; },
             5s, "the agent's /api/v1/state naming its ID");
  auto agent_state = get("/api/v1/state", agent_http).body;
  BOOST_CHECK_MESSAGE(agent_state.find("\"tasks\":[]") != std::string::npos, agent_state);
  BOOST_CHECK_MESSAGE(get("/metrics", agent_http).body.find("troupe_agent_registered 1")
                        != std::string::npos,
                      "troupe_agent_registered 1");

  // The CLI, given the HTTP address (reads /api/v1/state) or the actor address (asks the
  // master actor): the same table.
  for (auto port : {http_port, actor_port}) {
    auto log = dir + "/agents-" + std::to_string(port) + ".log";
    BOOST_CHECK_EQUAL(troupe({"agents", "--master", "127.0.0.1:" + std::to_string(port)}, log),
                      0);
    auto out = slurp(log);
    BOOST_CHECK_MESSAGE(out.find(agent_id) != std::string::npos
                          && out.find("registered") != std::string::npos,
                        out);
  }
}

BOOST_AUTO_TEST_CASE(the_cli_reports_an_address_where_nothing_answers) {
  // Port 1 (tcpmux): nothing listens there on a test host, so neither HTTP nor actors answer.
  auto log = dir + "/agents-nowhere.log";
  BOOST_CHECK_EQUAL(troupe({"agents", "--master", "127.0.0.1:1", "--wait", "1"}, log), 3);
  auto out = slurp(log);
  BOOST_CHECK_MESSAGE(out.find("cannot reach the master") != std::string::npos, out);
}

BOOST_AUTO_TEST_SUITE_END()
