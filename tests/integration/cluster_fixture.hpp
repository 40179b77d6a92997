// The fixture of the cluster tests: a real cluster on 127.0.0.1 - troupe-master and two
// troupe-agent processes (tasks run through troupe-executor) - plus helpers to run `troupe`
// subcommands as processes, read the master's state and check the invariant "per agent,
// offered + used <= total". Every process and sandbox is removed on every exit path.
#pragma once

#include <boost/test/results_collector.hpp>
#include <boost/test/unit_test.hpp>

#include <iostream>

#include <dirent.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include "integration_helpers.hpp"
#include "troupe/isolation/cgroups.hpp"
#include "troupe/master/master_actor.hpp"
#include "troupe/messages/registration.hpp"
#include "troupe/runtime/node_config.hpp"
#include "troupe/runtime/transport.hpp"
#include "troupe/test/child_process.hpp"
#include "troupe/tools/node_flags.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace troupe::test {

// Processes whose environment names a sandbox under `dir`: executors and their tasks.
inline std::vector<int> processes_under(const std::string& dir) {
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
  bool force_log_dump = false; ///< print the nodes' logs even when the case passed

  explicit cluster_fixture(const std::string& ping_interval = "0.3",
                           const std::string& max_missed = "3") {
    fs::create_directories(dir);
    master = std::make_unique<test::child_process>(
      std::vector<std::string>{tools + "/troupe-master", "--port", "0", "--http-port", "0",
                               "--port-file",
                               dir + "/master.port", "--ping-interval", ping_interval,
                               "--max-missed-pings", max_missed, "--allocation-interval", "0.1",
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
    // A clean stop first: each agent's containerizer kills and removes its containers.
    for (auto& a : agents)
      if (a && a->running()) {
        a->signal(SIGTERM);
        a->wait_for(5s);
      }
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
    remove_cgroups();
    dump_logs_if_failed();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  /// A failed case prints the tail of every node's log (the directory is removed after).
  void dump_logs_if_failed() {
    auto id = boost::unit_test::framework::current_test_case().p_id;
    if (boost::unit_test::results_collector.results(id).passed() && !force_log_dump)
      return;
    for (const auto& name : {"master.log", "agent1.log", "agent2.log"}) {
      auto text = slurp(dir + "/" + name);
      auto cut = text.size() > 6000 ? text.size() - 6000 : 0;
      std::cout << "---- last lines of " << name << " ----\n" << text.substr(cut) << std::endl;
    }
  }

  /// Removes what SIGKILLed agents left in cgroups (their executors end by themselves).
  void remove_cgroups() {
    if (geteuid() != 0)
      return; // the agents ran without cgroups
    auto layout = isolation::cgroup_layout::from_system();
    if (!layout)
      return;
    for (int i = 1; i <= 2; ++i) {
      isolation::cgroup_manager cgroups{*layout,
                                        tools::agent_cgroup_root(dir + "/agent" + std::to_string(i))};
      for (const auto& c : cgroups.list())
        cgroups.destroy(c, 2000ms);
      BOOST_CHECK(cgroups.list().empty());
      cgroups.cleanup_root();
    }
  }

  /// Starts agent i (1-based) on `port` (0 = any), replacing a previous agent i.
  void start_agent(int i, unsigned long port = 0) {
    auto name = "agent" + std::to_string(i);
    if (agents.size() < static_cast<size_t>(i))
      agents.resize(i);
    agents[i - 1] = (std::make_unique<test::child_process>(
      std::vector<std::string>{tools + "/troupe-agent", "--master", master_at, "--port",
                               std::to_string(port), "--http-port", "0",
                               "--work-dir", dir + "/" + name, "--resources",
                               "cpus:2;mem:1024;disk:1024;ports:[31000-31100]",
                               "--executor-recovery-timeout", "1",
                               "--executor-register-timeout", "10", "--port-file",
                               dir + "/" + name + ".port"},
      dir + "/" + name + ".log"));
  }

  /// The agent process (1-based) whose actor port is the one the master lists for `agent_id`.
  int agent_index(const std::string& agent_id) {
    auto st = state();
    for (const auto& a : st.agents())
      if (a.info().id().value() == agent_id)
        for (int i = 1; i <= static_cast<int>(agents.size()); ++i)
          if (test::read_number_file(dir + "/agent" + std::to_string(i) + ".port", 1s)
              == a.info().actor_port())
            return i;
    BOOST_FAIL("no agent process for " << agent_id);
    return 0;
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
  /// Waits for a `troupe example` process (checking the invariant meanwhile), requires it to
  /// exit 0 with all `tasks` finished and none given up; returns its output.
  std::string await_example(test::child_process& example, const std::string& log, int tasks) {
    while (example.running()) {
      check_invariant();
      std::this_thread::sleep_for(100ms);
    }
    auto status = example.wait_for(1s);
    auto out = slurp(log);
    BOOST_REQUIRE(status);
    BOOST_CHECK_MESSAGE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0, out);
    BOOST_CHECK_MESSAGE(out.find("example: " + std::to_string(tasks) + " finished, 0 gave up")
                          != std::string::npos,
                        out);
    return out;
  }

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

inline int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1))
    ++n;
  return n;
}

} // namespace troupe::test
