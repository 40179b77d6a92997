// Connection resets on a real cluster (cluster_fixture.hpp): the TCP connections of both
// agents and of a running framework to the master are killed with `ss -K` (a reset, as a
// middlebox or a restarted proxy would cause) while tasks run; nothing tells anyone to
// reconnect, no leader changes. The agents' leader connectors notice the dead connection and
// connect again, the agents reregister, the framework's driver subscribes again, and every task
// finishes once.
#include "cluster_fixture.hpp"

#include <unistd.h>

#include <cstdio>
#include <sstream>

using namespace troupe;
using namespace troupe::test;

namespace {

// Output of a shell command (empty when it cannot run).
std::string run_and_read(const std::string& command) {
  std::string out;
  if (auto* pipe = ::popen(command.c_str(), "r")) {
    char buf[4096];
    while (auto n = std::fread(buf, 1, sizeof buf, pipe))
      out.append(buf, n);
    ::pclose(pipe);
  }
  return out;
}

// The local ports of `pid`'s established TCP connections to 127.0.0.1:`port`.
std::vector<std::string> ports_to(int pid, unsigned long port) {
  std::vector<std::string> out;
  std::istringstream lines{run_and_read("ss -tnpH state established dport = :"
                                        + std::to_string(port) + " 2>/dev/null")};
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find("pid=" + std::to_string(pid) + ",") == std::string::npos)
      continue;
    std::istringstream fields{line};
    std::string field;
    while (fields >> field)
      if (field.rfind("127.0.0.1:", 0) == 0) { // the first address is the local one
        out.push_back(field.substr(10));
        break;
      }
  }
  return out;
}

// Resets every connection of `pid` to the master's actor port (both ends); returns how many.
size_t reset_connections(int pid, unsigned long master_port) {
  size_t n = 0;
  for (const auto& local : ports_to(pid, master_port)) {
    run_and_read("ss -K -tnH '( sport = :" + local + " or dport = :" + local
                 + " )' >/dev/null 2>&1");
    ++n;
  }
  return n;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(connection_reset_test, cluster_fixture)

BOOST_AUTO_TEST_CASE(reset_connections_heal_on_their_own) {
  if (geteuid() != 0 || run_and_read("command -v ss").empty()) {
    BOOST_TEST_MESSAGE("skipped: killing sockets (ss -K) needs root and iproute2");
    return;
  }
  auto master_port = std::stoul(master_at.substr(master_at.rfind(':') + 1));
  auto log = dir + "/example.log";
  test::child_process example{{tools + "/troupe", "example", "--master", master_at, "--tasks",
                               "8", "--command", "sleep 4", "--cpus", "0.5", "--mem", "16",
                               "--timeout", "90"},
                              log};
  wait_until(
    [&] {
      auto st = state();
      return std::count_if(st.tasks().begin(), st.tasks().end(),
                           [](auto& t) { return t.state() == v1::TASK_RUNNING; })
             >= 4;
    },
    20s, "tasks running");
  // Every agent's and the framework's connection to the master, reset at once.
  size_t reset = reset_connections(example.pid(), master_port);
  for (auto& a : agents)
    reset += reset_connections(a->pid(), master_port);
  BOOST_CHECK_GE(reset, 3u);
  await_example(example, log, 8);
  // The agents came back by themselves (no leader change, nobody announced anything).
  wait_until([&] { return registered_agents() == 2; }, 10s, "both agents registered again");
  for (int i = 1; i <= 2; ++i) {
    auto agent_log = slurp(dir + "/agent" + std::to_string(i) + ".log");
    BOOST_CHECK_MESSAGE(agent_log.find("lost the connection to the master") != std::string::npos,
                        agent_log);
    BOOST_CHECK_MESSAGE(agent_log.find("reregistered with master") != std::string::npos,
                        agent_log);
  }
  // And the cluster still runs new work.
  BOOST_CHECK_EQUAL(troupe({"run", "--master", master_at, "--", "true"}, dir + "/after.log"), 0);
}

BOOST_AUTO_TEST_SUITE_END()
