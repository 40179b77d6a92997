// An agent restarted with the same work dir while its task runs: the executor reconnects, the
// task survives and its final update reaches the framework exactly once.
#include "cluster_fixture.hpp"

using namespace troupe;
using namespace troupe::test;

namespace {

// Slow pings: a restarting agent is back long before the master would call it unreachable.
struct restart_fixture : cluster_fixture {
  restart_fixture() : cluster_fixture("1", "10") {
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(agent_restart_test, restart_fixture)

BOOST_AUTO_TEST_CASE(a_task_survives_an_agent_restart_and_finishes_exactly_once) {
  auto log = dir + "/example.log";
  test::child_process example{{tools + "/troupe", "example", "--master", master_at, "--tasks",
                               "1", "--command", "sleep 3; echo done", "--attempts", "1",
                               "--timeout", "60"},
                              log};
  std::string agent_id;
  wait_until(
    [&] {
      auto st = state();
      for (const auto& t : st.tasks())
        if (t.state() == v1::TASK_RUNNING)
          agent_id = t.agent_id().value();
      return !agent_id.empty();
    },
    20s, "the task running");
  auto i = agent_index(agent_id);
  auto port = test::read_number_file(dir + "/agent" + std::to_string(i) + ".port", 1s);
  BOOST_REQUIRE(port);
  agents[i - 1]->signal(SIGKILL);
  agents[i - 1]->wait_for(5s);
  fs::remove(dir + "/agent" + std::to_string(i) + ".port");
  // A container cgroup the agent's checkpoint does not know (as if left by a crash mid-launch):
  // the restarted agent must destroy it.
  std::optional<isolation::cgroup_manager> cgroups;
  if (geteuid() == 0)
    if (auto layout = isolation::cgroup_layout::from_system()) {
      cgroups.emplace(*layout, tools::agent_cgroup_root(dir + "/agent" + std::to_string(i)));
      isolation::cgroup_limits limits;
      limits.cpus = 0.1;
      limits.memory_bytes = 32ull << 20;
      BOOST_REQUIRE(!cgroups->create("orphan-1", limits));
    }
  start_agent(i, *port); // same work dir, same port: the executor reconnects
  auto status = example.wait_for(30s);
  auto out = slurp(log);
  BOOST_REQUIRE_MESSAGE(status, "the example did not finish: " << out);
  BOOST_CHECK_MESSAGE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0, out);
  BOOST_CHECK_EQUAL(count(out, ": TASK_FINISHED"), 1);
  BOOST_CHECK_EQUAL(count(out, ": TASK_FAILED"), 0);
  if (cgroups) {
    auto left = cgroups->list();
    BOOST_CHECK_MESSAGE(std::find(left.begin(), left.end(), "orphan-1") == left.end(),
                        "the orphaned container cgroup survived the agent's recovery");
  }
  auto agent_log = slurp(dir + "/agent" + std::to_string(i) + ".log");
  BOOST_CHECK_MESSAGE(agent_log.find("recovering agent " + agent_id) != std::string::npos,
                      agent_log);
  auto st = state();
  for (const auto& a : st.agents())
    if (a.info().id().value() == agent_id)
      BOOST_CHECK_EQUAL(a.status(), "registered");
}

BOOST_AUTO_TEST_SUITE_END()
