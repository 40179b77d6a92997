// A real cluster on 127.0.0.1: troupe-master, two troupe-agent processes running tasks through
// troupe-executor, and the example framework (`troupe example`) or `troupe run` as separate
// processes. Checks tasks run to completion, exit codes, recovery from a SIGKILLed agent, and
// the invariant "per agent, offered + used <= total" while they run.
#include <boost/test/unit_test.hpp>

#include <dirent.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include "troupe/master/master_actor.hpp"
#include "troupe/messages/registration.hpp"
#include "troupe/runtime/node_config.hpp"
#include "troupe/runtime/transport.hpp"
#include "troupe/test/child_process.hpp"

using namespace std::chrono_literals;
using namespace troupe;
namespace fs = std::filesystem;

namespace {

std::string tools_dir() {
  auto& suite = boost::unit_test::framework::master_test_suite();
  BOOST_REQUIRE_MESSAGE(suite.argc >= 2, "usage: integration_tests -- <path to troupe-demo>");
  return fs::path{suite.argv[suite.argc - 1]}.parent_path().string();
}

std::string slurp(const std::string& path) {
  std::ifstream in{path};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Processes whose environment names a sandbox under `dir`: executors and their tasks.
std::vector<int> processes_under(const std::string& dir) {
  std::vector<int> out;
  auto* proc = opendir("/proc");
  if (proc == nullptr)
    return out;
  while (auto* e = readdir(proc)) {
    int pid = atoi(e->d_name);
    if (pid <= 0)
      continue;
    auto env = slurp("/proc/" + std::to_string(pid) + "/environ");
    auto stat = slurp("/proc/" + std::to_string(pid) + "/stat");
    bool zombie = stat.find(") Z ") != std::string::npos;
    if (!zombie && env.find("TROUPE_SANDBOX=" + dir) != std::string::npos)
      out.push_back(pid);
  }
  closedir(proc);
  return out;
}

struct cluster_fixture {
  std::string dir = test::temp_path("troupe-cluster");
  std::string tools = tools_dir();
  std::unique_ptr<test::child_process> master;
  std::vector<std::unique_ptr<test::child_process>> agents;
  std::string master_at;
  runtime::node_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<runtime::transport> tp;
  caf::actor master_handle;

  cluster_fixture() {
    fs::create_directories(dir);
    master = std::make_unique<test::child_process>(
      std::vector<std::string>{tools + "/troupe-master", "--port", "0", "--port-file",
                               dir + "/master.port", "--ping-interval", "0.3",
                               "--max-missed-pings", "3", "--allocation-interval", "0.1",
                               "--offer-timeout", "5"},
      dir + "/master.log");
    auto port = test::read_number_file(dir + "/master.port", 10s);
    BOOST_REQUIRE_MESSAGE(port, "the master did not start; see " << dir << "/master.log");
    master_at = "127.0.0.1:" + std::to_string(*port);
    for (int i = 1; i <= 2; ++i)
      start_agent(i);
    sys = std::make_unique<caf::actor_system>(cfg);
    tp = runtime::make_middleman_transport(*sys, 5s);
    auto hdl = tp->connect({"127.0.0.1", static_cast<uint16_t>(*port)});
    BOOST_REQUIRE(hdl);
    master_handle = *hdl;
    wait_until([&] { return registered_agents() == 2; }, 10s, "both agents registered");
  }

  ~cluster_fixture() {
    agents.clear(); // SIGKILL whatever still runs
    master.reset();
    master_handle = nullptr;
    tp.reset();
    sys.reset();
    // Executors of killed agents end by themselves (recovery timeout 1 s) and take their tasks.
    for (int i = 0; i < 50 && !processes_under(dir).empty(); ++i)
      std::this_thread::sleep_for(100ms);
    auto left = processes_under(dir);
    BOOST_CHECK_MESSAGE(left.empty(), left.size() << " executor or task processes outlived "
                                                      "the cluster");
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  void start_agent(int i) {
    auto name = "agent" + std::to_string(i);
    agents.push_back(std::make_unique<test::child_process>(
      std::vector<std::string>{tools + "/troupe-agent", "--master", master_at, "--port", "0",
                               "--work-dir", dir + "/" + name, "--resources",
                               "cpus:2;mem:1024;disk:1024;ports:[31000-31100]",
                               "--executor-recovery-timeout", "1", "--port-file",
                               dir + "/" + name + ".port"},
      dir + "/" + name + ".log"));
  }

  v1::MasterState state() {
    caf::scoped_actor self{*sys};
    v1::MasterState out;
    self->request(master_handle, 5s, master::state_atom::value)
      .receive([&](v1::MasterState& st) { out = std::move(st); },
               [&](caf::error& err) { BOOST_FAIL("state: " << caf::to_string(err)); });
    return out;
  }

  size_t registered_agents() {
    auto st = state();
    return std::count_if(st.agents().begin(), st.agents().end(),
                         [](auto& a) { return a.status() == "registered"; });
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

  /// Per agent: resources in live offers + used by non-terminal tasks <= total.
  void check_invariant() {
    auto st = state();
    for (const auto& a : st.agents()) {
      auto total = resources::from_proto(a.info().resources()).value();
      auto used = resources::from_proto(a.used()).value();
      auto offered = resources::from_proto(a.offered()).value();
      BOOST_CHECK_MESSAGE(total.contains(used + offered),
                          a.info().id().value() << ": used " << used.to_string() << " + offered "
                                                << offered.to_string() << " exceed "
                                                << total.to_string());
    }
  }

  /// Runs `args` (a troupe subcommand) to completion, checking the invariant meanwhile.
  int troupe(std::vector<std::string> args, const std::string& log,
             std::chrono::milliseconds timeout = 60s) {
    args.insert(args.begin(), tools + "/troupe");
    test::child_process p{args, log};
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (p.running() && std::chrono::steady_clock::now() < deadline) {
      check_invariant();
      std::this_thread::sleep_for(100ms);
    }
    auto status = p.wait_for(1s);
    BOOST_REQUIRE_MESSAGE(status, "troupe " << args[1] << " did not finish; see " << log);
    return WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
  }
};

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1))
    ++n;
  return n;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(cluster_test, cluster_fixture)

BOOST_AUTO_TEST_CASE(fifty_tasks_of_the_example_framework_finish) {
  auto log = dir + "/example.log";
  auto rc = troupe({"example", "--master", master_at, "--tasks", "50", "--command", "sleep 0.2",
                    "--cpus", "0.1", "--mem", "16", "--timeout", "50"},
                   log);
  auto out = slurp(log);
  BOOST_CHECK_EQUAL(rc, 0);
  BOOST_CHECK_MESSAGE(out.find("example: 50 finished, 0 gave up") != std::string::npos, out);
  BOOST_CHECK_EQUAL(count(out, ": TASK_FINISHED"), 50);
  // Every task's output is in its sandbox.
  auto st = state();
  BOOST_CHECK_EQUAL(st.frameworks_size(), 0); // torn down when done
}

BOOST_AUTO_TEST_CASE(troupe_run_exits_with_the_commands_status) {
  BOOST_CHECK_EQUAL(troupe({"run", "--master", master_at, "--", "sh", "-c", "exit 3"},
                           dir + "/run3.log"),
                    3);
  BOOST_CHECK_EQUAL(troupe({"run", "--master", master_at, "--", "true"}, dir + "/run0.log"), 0);
  auto missing = troupe({"run", "--master", master_at, "--", "/nonexistent/program"},
                        dir + "/run-missing.log");
  BOOST_CHECK_NE(missing, 0);
  auto out = slurp(dir + "/run-missing.log");
  BOOST_CHECK_MESSAGE(out.find("TASK_FAILED") != std::string::npos
                        && out.find("/nonexistent/program") != std::string::npos,
                      out);
}

BOOST_AUTO_TEST_CASE(tasks_of_a_killed_agent_go_unreachable_and_are_replaced) {
  auto log = dir + "/example.log";
  test::child_process example{{tools + "/troupe", "example", "--master", master_at, "--tasks",
                               "6", "--command", "sleep 3", "--cpus", "0.5", "--mem", "16",
                               "--timeout", "60"},
                              log};
  // Wait until all six run, then kill the agent with the most of them.
  std::map<std::string, int> per_agent;
  wait_until(
    [&] {
      per_agent.clear();
      auto st = state();
      for (const auto& t : st.tasks())
        if (t.state() == v1::TASK_RUNNING)
          ++per_agent[t.agent_id().value()];
      int running = 0;
      for (auto& [a, n] : per_agent)
        running += n;
      return running == 6;
    },
    20s, "six tasks running");
  auto victim = std::max_element(per_agent.begin(), per_agent.end(),
                                 [](auto& x, auto& y) { return x.second < y.second; })
                  ->first;
  // Which process is it? Match the agent's actor port with the agents' port files.
  uint32_t victim_port = 0;
  auto before = state();
  for (const auto& a : before.agents())
    if (a.info().id().value() == victim)
      victim_port = a.info().actor_port();
  auto port1 = test::read_number_file(dir + "/agent1.port", 1s);
  BOOST_REQUIRE(port1);
  auto index = *port1 == victim_port ? 0 : 1;
  agents[index]->signal(SIGKILL);
  agents[index]->wait_for(5s);
  while (example.running()) {
    check_invariant();
    std::this_thread::sleep_for(100ms);
  }
  auto status = example.wait_for(1s);
  auto out = slurp(log);
  BOOST_REQUIRE(status);
  BOOST_CHECK_MESSAGE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0, out);
  BOOST_CHECK_MESSAGE(out.find("example: 6 finished, 0 gave up") != std::string::npos, out);
  BOOST_CHECK_GE(count(out, ": TASK_UNREACHABLE"), per_agent[victim]);
  auto st = state();
  for (const auto& a : st.agents())
    if (a.info().id().value() == victim)
      BOOST_CHECK_EQUAL(a.status(), "unreachable");
}

BOOST_AUTO_TEST_SUITE_END()
