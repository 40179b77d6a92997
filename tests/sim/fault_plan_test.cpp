// The fault plan language: every fault parses with its nodes, delay and time (s, ms, bare
// seconds), comments and blank lines are skipped, faults sort by time keeping plan order on
// ties; malformed lines are refused with the line number and what is wrong; a plan that names
// a node the cluster lacks is refused when injected.
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include "troupe/messages/errc.hpp"
#include "troupe/sim/cluster.hpp"
#include "troupe/sim/fault_plan.hpp"
#include "troupe/test/deterministic_fixture.hpp"

using namespace std::chrono_literals;
using namespace troupe;

BOOST_AUTO_TEST_SUITE(fault_plan_test)

BOOST_AUTO_TEST_CASE(every_fault_parses_and_sorts_by_time) {
  auto plan = sim::fault_plan::parse(R"(
    # a comment
    20s heal
    1.5s partition agent-1 agent-2 | master-1 framework   # trailing comment
    800ms clog agent-3 master-1 250ms
    2 cut agent-2 master-1
    4s crash master-2
    4s stop agent-1
    9s restart agent-1
    1.2s fail-over master-2
    30s disconnect framework master-1
  )");
  BOOST_REQUIRE_MESSAGE(plan, (plan ? "" : error_message(plan.error())));
  const auto& f = plan->faults();
  BOOST_REQUIRE_EQUAL(f.size(), 9u);
  BOOST_CHECK(f[0].kind == sim::fault_kind::clog);
  BOOST_CHECK(f[0].at == 800ms);
  BOOST_CHECK(f[0].delay == 250ms);
  BOOST_CHECK(f[0].nodes == (std::vector<std::string>{"agent-3", "master-1"}));
  BOOST_CHECK(f[1].kind == sim::fault_kind::fail_over);
  BOOST_CHECK(f[2].kind == sim::fault_kind::partition);
  BOOST_CHECK(f[2].at == 1500ms);
  BOOST_CHECK(f[2].nodes == (std::vector<std::string>{"agent-1", "agent-2"}));
  BOOST_CHECK(f[2].others == (std::vector<std::string>{"master-1", "framework"}));
  BOOST_CHECK(f[3].kind == sim::fault_kind::cut);
  BOOST_CHECK(f[3].at == 2s);
  BOOST_CHECK(f[4].kind == sim::fault_kind::crash); // 4s ties keep plan order
  BOOST_CHECK(f[5].kind == sim::fault_kind::stop);
  BOOST_CHECK(f[6].kind == sim::fault_kind::restart);
  BOOST_CHECK(f[7].kind == sim::fault_kind::heal);
  BOOST_CHECK(f[8].kind == sim::fault_kind::disconnect);
  BOOST_CHECK(f[8].nodes == (std::vector<std::string>{"framework", "master-1"}));
  BOOST_CHECK_EQUAL(sim::describe(f[4]), "t=4000ms crash master-2");
}

BOOST_AUTO_TEST_CASE(malformed_lines_are_refused_with_their_line_and_reason) {
  struct bad_case {
    const char* text;
    const char* says;
  };
  for (auto c : {bad_case{"crash agent-1", "line 1"}, bad_case{"-1s heal", "<time>"},
                 bad_case{"1s explode agent-1", "unknown fault \"explode\""},
                 bad_case{"1s partition agent-1 master-1", "two groups"},
                 bad_case{"1s cut agent-1", "cut FROM TO"},
                 bad_case{"1s clog a b soon", "not a delay"},
                 bad_case{"1s heal now", "nothing after"},
                 bad_case{"\n\n1s crash", "line 3"}}) {
    auto plan = sim::fault_plan::parse(c.text);
    BOOST_REQUIRE_MESSAGE(!plan, c.text);
    auto msg = error_message(plan.error());
    BOOST_CHECK_MESSAGE(msg.find(c.says) != std::string::npos, msg << " lacks " << c.says);
  }
  BOOST_CHECK_THROW(sim::fault_plan::of("soon crash agent-1"), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(faults_naming_missing_nodes_are_refused_when_injected) {
  test::deterministic_fixture f;
  {
    sim::cluster c{f.sys, 1, {}, "/dev/shm/troupe-plan-test-" + std::to_string(getpid())};
    c.start();
    auto report = c.run(f, sim::fault_plan::of("1s crash agent-9"), 60s);
    BOOST_REQUIRE_EQUAL(report.problems.size(), 1u);
    BOOST_CHECK_MESSAGE(report.problems[0].find("no node agent-9") != std::string::npos,
                        report.problems[0]);
    BOOST_CHECK(c.inject(sim::fault_plan::of("1s stop master-1").faults()[0]));
    BOOST_CHECK(c.inject(sim::fault_plan::of("1s restart agent-1").faults()[0])); // running
    BOOST_CHECK(!c.inject(sim::fault_plan::of("1s stop agent-1").faults()[0]));
    BOOST_CHECK(c.inject(sim::fault_plan::of("1s stop agent-1").faults()[0])); // stopped
    c.stop();
    f.run();
    f.sched.clock().cancel_all();
    f.run();
  }
}

// A plan is checked against the spec before it runs: every fault names nodes that exist, in
// a state that allows it.
BOOST_AUTO_TEST_CASE(plans_that_do_not_fit_the_cluster_are_refused_before_running) {
  sim::cluster_spec spec; // 1 master, 3 agents, the example framework
  struct bad_case {
    const char* plan;
    const char* says;
  };
  for (auto c : {bad_case{"1s cut agent1 master-1", "no node agent1"},
                 bad_case{"1s clog agent-9 master-1 1s", "no node agent-9"},
                 bad_case{"1s partition agent-1 | agent-1 master-1", "both sides"},
                 bad_case{"1s stop master-1", "only agents stop"},
                 bad_case{"1s restart agent-1", "is running"},
                 bad_case{"1s crash agent-1\n2s crash agent-1", "already down"},
                 bad_case{"1s fail-over master-2", "no node master-2"},
                 bad_case{"1s restart framework", "only masters and agents restart"}}) {
    auto err = sim::cluster::check(spec, sim::fault_plan::of(c.plan));
    BOOST_REQUIRE_MESSAGE(err, c.plan);
    auto msg = error_message(err);
    BOOST_CHECK_MESSAGE(msg.find(c.says) != std::string::npos, msg << " lacks " << c.says);
  }
  BOOST_CHECK(
    !sim::cluster::check(spec, sim::fault_plan::of("1s stop agent-1\n2s restart agent-1")));
  auto bad_resources = spec;
  bad_resources.agent_resources = "cpus:x";
  BOOST_CHECK(sim::cluster::check(bad_resources));
  auto bad_delay = spec;
  bad_delay.faults.min_delay = 50ms;
  bad_delay.faults.max_delay = 10ms;
  BOOST_CHECK(sim::cluster::check(bad_delay));
}

// The ZooKeeper verbs parse, and fit only a cluster with the simulated ZooKeeper.
BOOST_AUTO_TEST_CASE(zookeeper_faults_need_a_cluster_with_zookeeper) {
  auto plan = sim::fault_plan::parse("5s expire master-1\n6s freeze master-2\n9s thaw master-2\n"
                                     "10s partition master-1 | zk");
  BOOST_REQUIRE(plan);
  BOOST_REQUIRE_EQUAL(plan->faults().size(), 4u);
  BOOST_CHECK(plan->faults()[0].kind == sim::fault_kind::expire);
  BOOST_CHECK(plan->faults()[1].kind == sim::fault_kind::freeze);
  BOOST_CHECK(plan->faults()[2].kind == sim::fault_kind::thaw);
  sim::cluster_spec spec;
  spec.masters = 2;
  auto err = sim::cluster::check(spec, *plan);
  BOOST_REQUIRE(err);
  BOOST_CHECK_MESSAGE(error_message(err).find("simulated ZooKeeper") != std::string::npos,
                      error_message(err));
  spec.zookeeper = true;
  BOOST_CHECK_MESSAGE(!sim::cluster::check(spec, *plan), error_message(sim::cluster::check(spec, *plan)));
  struct bad_case {
    const char* plan;
    const char* says;
  };
  for (auto c : {bad_case{"1s expire agent-1", "only masters"},
                 bad_case{"1s thaw master-1", "not frozen"},
                 bad_case{"1s freeze master-1\n2s freeze master-1", "frozen already"},
                 bad_case{"1s fail-over master-2", "the election decides"}}) {
    auto e = sim::cluster::check(spec, sim::fault_plan::of(c.plan));
    BOOST_REQUIRE_MESSAGE(e, c.plan);
    BOOST_CHECK_MESSAGE(error_message(e).find(c.says) != std::string::npos,
                        error_message(e) << " lacks " << c.says);
  }
}

BOOST_AUTO_TEST_SUITE_END()
