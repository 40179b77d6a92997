// 1,000 real tasks on one agent, as a user runs them (issue 24): `troupe local --agents 1` with
// 64 cpus, then `troupe example --tasks 1000 --command /bin/true --cpus 1` from another
// process, with POSIX isolation and (as root) with cgroups. Every task must finish: before the
// fix 1-37 of every 1,000 stayed STAGING for ever (CAF misattributed an executor's connection
// accepted on a reused socket descriptor, and the agent answered its one Subscribe into the
// void). Each run also checks that nothing the cluster started outlives it.
#include <boost/test/results_collector.hpp>
#include <boost/test/unit_test.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "integration_helpers.hpp"
#include "troupe/runtime/http_client.hpp"
#include "troupe/test/child_process.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace troupe;

namespace {

using test::slurp;
using test::tools_dir;

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

// The distinct task IDs of the example's lines "<task>: <state>..." that contain `what`.
size_t tasks_in(const std::string& text, const std::string& what) {
  std::set<std::string> ids;
  std::istringstream lines{text};
  for (std::string line; std::getline(lines, line);)
    if (auto at = line.find(what); at != std::string::npos)
      ids.insert(line.substr(0, at));
  return ids.size();
}

struct real_tasks_fixture {
  std::string dir = test::temp_path("troupe-real-tasks");
  std::string tools = tools_dir();
  std::unique_ptr<test::child_process> local;

  real_tasks_fixture() {
    fs::create_directories(dir);
  }

  ~real_tasks_fixture() {
    if (local && local->running()) {
      local->signal(SIGTERM); // the agent's containerizer removes its containers
      if (!local->wait_for(20s))
        local->signal(SIGKILL);
    }
    local.reset();
    auto id = boost::unit_test::framework::current_test_case().p_id;
    if (!boost::unit_test::results_collector.results(id).passed()) {
      auto text = slurp(dir + "/local.log");
      auto cut = text.size() > 8000 ? text.size() - 8000 : 0;
      std::cout << "---- last lines of local.log ----\n" << text.substr(cut) << std::endl;
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  /// Starts `troupe local` with one 64-cpu agent and waits until its agent is registered.
  void start(const std::string& isolation) {
    local = std::make_unique<test::child_process>(
      std::vector<std::string>{tools + "/troupe", "local", "--agents", "1", "--port", "0",
                               "--http-port", "0", "--http-port-file", dir + "/http.port",
                               "--agent-resources",
                               "cpus:64;mem:65536;disk:100000;ports:[31000-32000]",
                               "--isolation", isolation, "--work-dir", dir + "/work"},
      dir + "/local.log");
    auto port = test::read_number_file(dir + "/http.port", 30s);
    BOOST_REQUIRE_MESSAGE(port, "troupe local did not start");
    http = {"127.0.0.1", static_cast<uint16_t>(*port)};
    auto deadline = std::chrono::steady_clock::now() + 30s;
    for (;;) {
      auto reply = runtime::http_get(http, "/api/v1/state", 2s);
      if (reply && reply->status == 200 && reply->body.find("\"registered\"") != std::string::npos)
        break;
      BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline,
                            "the agent did not register in 30 s");
      std::this_thread::sleep_for(100ms);
    }
  }

  /// Runs the example framework with `tasks` tasks of `command`; returns its exit status and
  /// leaves its output in example.log.
  int example(int tasks, const std::string& command) {
    test::child_process ex{{tools + "/troupe", "example", "--master",
                            http.host + ":" + std::to_string(http.port), "--tasks",
                            std::to_string(tasks), "--command", command, "--cpus", "1", "--mem",
                            "16", "--timeout", "240"},
                           dir + "/example.log"};
    auto status = ex.wait_for(260s);
    BOOST_REQUIRE_MESSAGE(status, "the example framework did not end in 260 s");
    return WIFEXITED(*status) ? WEXITSTATUS(*status) : 128 + WTERMSIG(*status);
  }

  void all_finish(const std::string& isolation) {
    start(isolation);
    auto begin = std::chrono::steady_clock::now();
    auto rc = example(1000, "/bin/true");
    auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    auto out = slurp(dir + "/example.log");
    BOOST_CHECK_EQUAL(rc, 0);
    BOOST_CHECK_MESSAGE(out.find("example: 1000 finished, 0 gave up") != std::string::npos,
                        out.substr(out.size() > 3000 ? out.size() - 3000 : 0));
    // Updates are delivered at least once (a resent update can reach the framework twice on a
    // loaded machine): count tasks, not lines.
    BOOST_CHECK_EQUAL(tasks_in(out, ": TASK_FINISHED"), 1000u);
    BOOST_CHECK_EQUAL(count(out, ": TASK_FAILED"), 0u);
    BOOST_TEST_MESSAGE(isolation << ": 1,000 tasks in " << seconds << " s");
    std::cout << isolation << ": 1,000 /bin/true tasks finished in " << seconds << " s"
              << std::endl;
  }

  runtime::endpoint http;
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(real_tasks_test, real_tasks_fixture)

BOOST_AUTO_TEST_CASE(a_thousand_tasks_all_finish_with_posix_isolation) {
  all_finish("posix");
}

BOOST_AUTO_TEST_CASE(a_thousand_tasks_all_finish_with_cgroups_isolation) {
  if (geteuid() != 0) {
    BOOST_TEST_MESSAGE("skipped: cgroups isolation needs root");
    return;
  }
  all_finish("cgroups");
}

BOOST_AUTO_TEST_SUITE_END()
