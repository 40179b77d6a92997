// A real cluster on 127.0.0.1 (see cluster_fixture.hpp): the example framework runs tasks to
// completion, `troupe run` exits with the command's status, and the tasks of a SIGKILLed agent
// go UNREACHABLE and are replaced on the other agent - with "per agent, offered + used <= total"
// checked while they run.
#include "cluster_fixture.hpp"

#include <set>
#include <sstream>

using namespace troupe;
using namespace troupe::test;

BOOST_FIXTURE_TEST_SUITE(cluster_test, cluster_fixture)

BOOST_AUTO_TEST_CASE(fifty_tasks_of_the_example_framework_finish) {
  auto log = dir + "/example.log";
  auto rc = troupe({"example", "--master", master_at, "--tasks", "50", "--command", "sleep 0.2",
                    "--cpus", "0.1", "--mem", "16", "--timeout", "100"},
                   log, 110s);
  auto out = slurp(log);
  // Every task runs once: none needs a relaunch (issue 24: a lost Subscribe left one in a few
  // hundred STAGING until the executor registration timeout failed it).
  BOOST_CHECK_MESSAGE(count(out, ": TASK_FAILED") == 0, out);
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

BOOST_AUTO_TEST_CASE(a_task_over_its_memory_fails_with_the_memory_reason) {
  if (geteuid() != 0) {
    BOOST_TEST_MESSAGE("skipped: agents run without cgroups when not root");
    return;
  }
  auto st = state();
  for (const auto& a : st.agents())
    BOOST_REQUIRE_EQUAL(a.info().isolation(), "cgroups");
  auto log = dir + "/oom.log";
  auto rc = troupe({"run", "--master", master_at, "--mem", "32", "--", "sh", "-c",
                    "x=$(head -c 300000000 /dev/zero | tr '\\0' a); echo survived"},
                   log);
  auto out = slurp(log);
  BOOST_CHECK_NE(rc, 0);
  BOOST_CHECK_MESSAGE(out.find("TASK_FAILED") != std::string::npos
                        && out.find("REASON_CONTAINER_LIMITATION_MEMORY") != std::string::npos
                        && out.find("memory limit of 64 MiB exceeded") != std::string::npos,
                      out);
}

BOOST_AUTO_TEST_CASE(a_daemon_escaping_its_task_dies_with_the_container_and_is_reaped) {
  if (geteuid() != 0) {
    BOOST_TEST_MESSAGE("skipped: agents run without cgroups when not root");
    return;
  }
  // A sleep nobody else runs: its argument marks it.
  auto seconds = std::to_string(500000 + getpid() % 100000);
  auto marker = std::string{"sleep"} + '\0' + seconds;
  auto rc = troupe({"run", "--master", master_at, "--", "sh", "-c",
                    "setsid sleep " + seconds + " & sleep 0.3; exit 0"},
                   dir + "/escape.log");
  BOOST_CHECK_EQUAL(rc, 0);
  // The task ended: its container's cgroup was destroyed with the escaped daemon in it, and the
  // agent (a child subreaper that adopted it) reaped it.
  // A zombie has no cmdline any more: count the agents' zombie children instead.
  std::set<pid_t> agent_pids;
  for (auto& a : agents)
    agent_pids.insert(a->pid());
  auto escaped = [&] {
    int alive = 0, zombies = 0;
    for (const auto& p : test::list_processes()) {
      if (p.state == 'Z' && agent_pids.count(p.ppid) > 0)
        ++zombies;
      else if (slurp("/proc/" + std::to_string(p.pid) + "/cmdline").find(marker)
               != std::string::npos)
        ++alive;
    }
    return std::make_pair(alive, zombies);
  };
  wait_until([&] { return escaped() == std::make_pair(0, 0); }, 5s,
             "the escaped daemon gone and reaped");
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
  auto index = agent_index(victim) - 1;
  agents[index]->signal(SIGKILL);
  agents[index]->wait_for(5s);
  auto out = await_example(example, log, 6);
  BOOST_CHECK_GE(count(out, ": TASK_UNREACHABLE"), per_agent[victim]);
  auto st = state();
  for (const auto& a : st.agents())
    if (a.info().id().value() == victim)
      BOOST_CHECK_EQUAL(a.status(), "unreachable");
}

BOOST_AUTO_TEST_CASE(listings_fit_100_columns_and_speak_json_for_scripts) {
  BOOST_REQUIRE_EQUAL(troupe({"run", "--master", master_at, "--", "true"}, dir + "/run.log"), 0);
  for (const char* what : {"agents", "frameworks", "tasks"}) {
    auto log = dir + "/" + what + ".log";
    BOOST_CHECK_EQUAL(troupe({what, "--master", master_at}, log), 0);
    std::istringstream lines{slurp(log)};
    for (std::string line; std::getline(lines, line);)
      BOOST_CHECK_MESSAGE(line.size() <= 100, what << ": " << line.size() << " columns: " << line);
  }
  auto log = dir + "/tasks.json";
  BOOST_CHECK_EQUAL(troupe({"tasks", "--master", master_at, "--state", "finished", "--output",
                            "json"},
                           log),
                    0);
  auto json = slurp(log);
  BOOST_CHECK_MESSAGE(json.rfind("[{", 0) == 0
                        && json.find("\"TASK_FINISHED\"") != std::string::npos
                        && json.find("troupe-run") != std::string::npos,
                      json);
  auto running = dir + "/running.json";
  BOOST_CHECK_EQUAL(troupe({"tasks", "--master", master_at, "--state", "running", "-o", "json"},
                           running),
                    0);
  BOOST_CHECK_EQUAL(slurp(running), "[]\n");
  BOOST_CHECK_EQUAL(troupe({"tasks", "--master", master_at, "--state", "sleeping"},
                           dir + "/bad.log"),
                    2);
}

BOOST_AUTO_TEST_SUITE_END()

