// The CLI as a person meets it when something is wrong (issue 14): no verb hangs on a master
// that is not there (a closed port) or that never answers (a listener that never accepts),
// each fails within its --wait with exit 3 and a sentence naming the address; usage mistakes
// exit 2; no internal error names (troupe::..., system_error, CAF atoms) reach the user. And
// an agent started before its master waits for it, then registers and runs a task.
#include <boost/test/unit_test.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "troupe/runtime/http_client.hpp"
#include "troupe/runtime/http_server.hpp"
#include "integration_helpers.hpp"
#include "troupe/test/child_process.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace troupe;

namespace {

using test::slurp;
using test::tools_dir;

/// A TCP listener on 127.0.0.1 that never accepts: connections complete in the kernel's
/// backlog and then hear nothing. Closed with the object.
struct silent_listener {
  int fd = -1;
  uint16_t port = 0;
  silent_listener() {
    fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    BOOST_REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    BOOST_REQUIRE(listen(fd, 64) == 0);
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
  }
  ~silent_listener() {
    close(fd);
  }
};

/// A port nothing listens on (bound and released at once).
uint16_t closed_port() {
  silent_listener l;
  auto port = l.port;
  return port;
}

struct result {
  int code = -1;
  double seconds = 0;
  std::string output;
};

struct cli_fixture {
  std::string dir = test::temp_path("troupe-cli-errors");
  std::string tools = tools_dir();

  cli_fixture() {
    fs::create_directories(dir);
  }
  ~cli_fixture() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  result troupe(std::vector<std::string> args, std::chrono::seconds limit = 30s) {
    args.insert(args.begin(), tools + "/troupe");
    auto log = dir + "/out-" + std::to_string(++runs) + ".log";
    auto start = std::chrono::steady_clock::now();
    test::child_process p{args, log};
    auto status = p.wait_for(limit);
    result r;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.output = slurp(log);
    BOOST_REQUIRE_MESSAGE(status, "troupe did not end within " << limit.count() << " s: "
                                                                << r.output);
    r.code = WIFEXITED(*status) ? WEXITSTATUS(*status) : 128 + WTERMSIG(*status);
    return r;
  }

  int runs = 0;
};

void check_plain(const result& r) {
  for (const char* internal : {"troupe::", "system_error", "caf::", "sec::", "errc::"})
    BOOST_CHECK_MESSAGE(r.output.find(internal) == std::string::npos,
                        "internal name '" << internal << "' in: " << r.output);
}

// Every verb that talks to a master, with its arguments before --master.
std::vector<std::vector<std::string>> verbs(const std::string& master, const std::string& wait) {
  std::vector<std::vector<std::string>> out;
  for (const char* verb : {"agents", "frameworks", "tasks", "weights", "quota", "example"})
    out.push_back({verb, "--master", master, "--wait", wait});
  out.push_back({"run", "--master", master, "--wait", wait, "--", "true"});
  return out;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(cli_errors_test, cli_fixture)

BOOST_AUTO_TEST_CASE(every_verb_fails_at_a_closed_port_within_its_wait) {
  auto at = "127.0.0.1:" + std::to_string(closed_port());
  for (const auto& args : verbs(at, "1")) {
    auto r = troupe(args);
    BOOST_TEST_CONTEXT(args[0]) {
      BOOST_CHECK_EQUAL(r.code, 3);
      BOOST_CHECK_LT(r.seconds, 6.0);
      BOOST_CHECK_MESSAGE(r.output.find("cannot reach the master at " + at) != std::string::npos
                            && r.output.find("nothing accepts connections") != std::string::npos,
                          r.output);
      check_plain(r);
    }
  }
  // The default --wait (10 s): a mistyped port fails well within 15 s.
  auto typo = troupe({"run", "--master", at, "--", "true"});
  BOOST_CHECK_EQUAL(typo.code, 3);
  BOOST_CHECK_LT(typo.seconds, 13.0);
  // --wait 0: one try, at once.

  auto r = troupe({"agents", "--master", at, "--wait", "0"});
  BOOST_CHECK_EQUAL(r.code, 3);
  BOOST_CHECK_LT(r.seconds, 2.0);
}

BOOST_AUTO_TEST_CASE(every_verb_fails_at_a_silent_listener_within_its_wait) {
  silent_listener silent;
  auto at = "127.0.0.1:" + std::to_string(silent.port);
  for (const auto& args : verbs(at, "2")) {
    auto r = troupe(args);
    BOOST_TEST_CONTEXT(args[0]) {
      BOOST_CHECK_EQUAL(r.code, 3);
      BOOST_CHECK_LT(r.seconds, 8.0);
      BOOST_CHECK_MESSAGE(r.output.find("cannot reach the master at " + at) != std::string::npos
                            && r.output.find("no answer") != std::string::npos,
                          r.output);
      check_plain(r);
    }
  }
}

BOOST_AUTO_TEST_CASE(usage_mistakes_exit_2_in_plain_words) {
  struct usage_case {
    std::vector<std::string> args;
    std::string says;
  };
  for (const auto& c : std::vector<usage_case>{
         {{}, "subcommand is required"},
         {{"bogus"}, "bogus"},
         {{"run", "--cpus", "-1", "--", "true"}, "--cpus -1: must be a positive number"},
         {{"run", "--mem", "0", "--", "true"}, "--mem 0: must be a positive number"},
         {{"example", "--tasks", "x"}, "--tasks"},
         {{"run", "--master", "nonsense", "--", "true"}, "'nonsense' is not an address"},
         {{"agents", "--master", "127.0.0.1:99999"}, "not an address"},
         {{"weights", "--master", "127.0.0.1:1", "--set", "eng=-1"}, "eng"}}) {
    auto r = troupe(c.args);
    BOOST_TEST_CONTEXT((c.args.empty() ? std::string{"(none)"} : c.args[0])) {
      BOOST_CHECK_EQUAL(r.code, 2);
      BOOST_CHECK_MESSAGE(r.output.find(c.says) != std::string::npos, r.output);
      check_plain(r);
    }
  }
  auto version = troupe({"--version"});
  BOOST_CHECK_EQUAL(version.code, 0);
  BOOST_CHECK_EQUAL(version.output.rfind("troupe ", 0), 0u);
  auto help = troupe({"--help"});
  BOOST_CHECK_EQUAL(help.code, 0);
  BOOST_CHECK_MESSAGE(help.output.find("Exit codes") != std::string::npos, help.output);
}

BOOST_AUTO_TEST_CASE(an_agent_started_before_its_master_waits_registers_and_runs_a_task) {
  auto port = closed_port();
  auto master_at = "127.0.0.1:" + std::to_string(port);
  test::child_process agent{{tools + "/troupe-agent", "--master", master_at, "--port", "0",
                             "--http-port", "0", "--http-port-file", dir + "/agent.http",
                             "--work-dir", dir + "/agent", "--isolation", "posix",
                             "--resources", "cpus:2;mem:1024;disk:1024;ports:[31000-31100]"},
                            dir + "/agent.log"};
  auto agent_http = test::read_number_file(dir + "/agent.http", 30s);
  BOOST_REQUIRE_MESSAGE(agent_http, "the agent did not start: " << slurp(dir + "/agent.log"));
  runtime::endpoint health_at{"127.0.0.1", static_cast<uint16_t>(*agent_http)};
  auto health = [&] {
    auto r = runtime::http_get(health_at, "/health", 2s);
    return r ? r->body : std::string{};
  };
  BOOST_CHECK_MESSAGE(health().find("registering") != std::string::npos, health());
  std::this_thread::sleep_for(5s);
  BOOST_REQUIRE(agent.running()); // it waits; it does not exit
  test::child_process master{{tools + "/troupe-master", "--port", std::to_string(port),
                              "--http-port", "0", "--http-port-file", dir + "/master.http"},
                             dir + "/master.log"};
  auto master_http = test::read_number_file(dir + "/master.http", 30s);
  BOOST_REQUIRE_MESSAGE(master_http, "the master did not start: " << slurp(dir + "/master.log"));
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (health().find("\"ok\"") == std::string::npos
         && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  BOOST_REQUIRE_MESSAGE(health().find("\"ok\"") != std::string::npos,
                        "the agent did not register: " << slurp(dir + "/agent.log"));
  auto r = troupe({"run", "--master", "127.0.0.1:" + std::to_string(*master_http), "--", "sh",
                   "-c", "exit 7"});
  BOOST_CHECK_EQUAL(r.code, 7);
  // While waiting it said so, one line per attempt, backing off (≈ 0.5 + 1 + 2 + 2 s): a
  // handful of lines in 5 s, not one per 100 ms.
  auto log = slurp(dir + "/agent.log");
  size_t lines = 0;
  for (auto at = log.find("cannot reach the master"); at != std::string::npos;
       at = log.find("cannot reach the master", at + 1))
    ++lines;
  BOOST_CHECK_GE(lines, 2u);
  BOOST_CHECK_LE(lines, 6u);
  check_plain(result{0, 0, log});
  agent.signal(SIGTERM);
  agent.wait_for(10s);
  master.signal(SIGTERM);
  master.wait_for(10s);
}

BOOST_AUTO_TEST_CASE(bash_completion_comes_from_the_cli_definition) {
  auto r = troupe({"completion", "bash"});
  BOOST_REQUIRE_EQUAL(r.code, 0);
  BOOST_CHECK(r.output.find("complete -o default -F _troupe troupe") != std::string::npos);
  for (const char* word : {"local", "run", "tasks)", "--state", "--output", "--wait"})
    BOOST_CHECK_MESSAGE(r.output.find(word) != std::string::npos, word << " missing");
  std::ofstream{dir + "/completion.bash"} << r.output;
  test::child_process check{{"/bin/bash", "-n", dir + "/completion.bash"}, dir + "/bash-n.log"};
  auto status = check.wait_for(10s);
  BOOST_REQUIRE(status);
  BOOST_CHECK_MESSAGE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0, slurp(dir + "/bash-n.log"));
  BOOST_CHECK_EQUAL(troupe({"completion", "fish"}).code, 2);
}

BOOST_AUTO_TEST_CASE(daemons_say_what_is_wrong_in_words) {
  silent_listener taken; // a port in use
  auto port = std::to_string(taken.port);
  struct daemon_case {
    std::vector<std::string> args;
    int code;
    std::string says;
  };
  for (const auto& c : std::vector<daemon_case>{
         {{"troupe-master", "--port", port, "--http-port", "0"}, 1, "cannot listen on"},
         {{"troupe-master", "--port", "0", "--http-port", port}, 1, port},
         {{"troupe-agent", "--master", "127.0.0.1:1", "--port", port, "--http-port", "0",
           "--work-dir", dir + "/a1", "--isolation", "posix"},
          1, "cannot listen on"},
         {{"troupe-agent", "--master", "nowhere", "--work-dir", dir + "/a2"}, 2, "nowhere"},
         {{"troupe-master", "--ping-interval", "-3"}, 2, "--ping-interval"},
         {{"troupe", "local", "--port", port, "--http-port", "0", "--work-dir", dir + "/l"},
          1, "cannot listen on"}}) {
    auto args = c.args;
    args[0] = tools + "/" + args[0];
    auto log = dir + "/daemon-" + std::to_string(++runs) + ".log";
    test::child_process p{args, log};
    auto status = p.wait_for(20s);
    BOOST_REQUIRE_MESSAGE(status, c.args[0] << " did not exit: " << slurp(log));
    result r{WIFEXITED(*status) ? WEXITSTATUS(*status) : -1, 0, slurp(log)};
    BOOST_TEST_CONTEXT(c.args[0] << " " << c.args[1]) {
      BOOST_CHECK_EQUAL(r.code, c.code);
      BOOST_CHECK_MESSAGE(r.output.find(c.says) != std::string::npos, r.output);
      check_plain(r);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_starting_master_is_waited_for_as_its_retry_after_says) {
  // A stand-in master HTTP API: 503 with Retry-After: 1 for its first two answers (a master
  // starting), then its MasterInfo and a state with one agent.
  std::atomic<int> asked{0};
  runtime::http_server http;
  http.add_get("/api/v1/master", [&asked] {
    if (asked++ < 2)
      return runtime::http_response{503, "application/json",
                                    R"({"error":"no state snapshot yet"})", {{"Retry-After", "1"}}};
    return runtime::http_response{
      200, "application/json", R"({"id":"m1","hostname":"127.0.0.1","actorPort":1})", {}};
  });
  http.add_get("/api/v1/state", [] {
    return runtime::http_response{
      200, "application/json",
      R"({"agents":[{"info":{"id":{"value":"m1-S0"},"hostname":"h1","actorPort":5065},)"
      R"("status":"registered"}]})",
      {}};
  });
  auto port = http.start("127.0.0.1", 0);
  BOOST_REQUIRE(port);
  auto r = troupe({"agents", "--master", "127.0.0.1:" + std::to_string(*port), "--wait", "10"});
  BOOST_CHECK_EQUAL(r.code, 0);
  BOOST_CHECK_MESSAGE(r.output.find("m1-S0") != std::string::npos, r.output);
  BOOST_CHECK_GE(asked.load(), 3);
  BOOST_CHECK_GE(r.seconds, 1.8); // two Retry-After pauses of 1 s
  // Not ready within --wait: exit 3, saying it may still be starting.
  asked = -100;
  auto late = troupe({"agents", "--master", "127.0.0.1:" + std::to_string(*port), "--wait", "2"});
  BOOST_CHECK_EQUAL(late.code, 3);
  BOOST_CHECK_MESSAGE(late.output.find("not ready yet") != std::string::npos
                        && late.output.find("--wait") != std::string::npos,
                      late.output);
  check_plain(late);
  http.stop();
}

BOOST_AUTO_TEST_SUITE_END()
