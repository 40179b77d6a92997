// Whole clusters on the simulated network: the example framework runs its tasks to completion
// under seeded delays, duplicates and reordering on every link, under message loss, and when an
// agent is cut off while tasks launch; the invariants hold at every virtual second. Sweeps run
// $TROUPE_SIM_SEEDS seeds (default 1,000) from the fixture's seed; a failure prints the run's
// seed and stops the sweep (replay: TROUPE_SEED=<fixture seed> sim_tests --run_test=<case>).
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <cstdlib>

#include <caf/scoped_actor.hpp>

#include "troupe/actors/common/task_transitions.hpp"
#include "troupe/master/master_actor.hpp"
#include "troupe/test/deterministic_fixture.hpp"
#include "troupe/test/sim_cluster.hpp"

using namespace std::chrono_literals;
using namespace troupe;

namespace {

struct cluster_fixture : test::deterministic_fixture {
  std::unique_ptr<test::sim_cluster> cluster;

  void start(uint64_t run_seed, test::sim_cluster_spec spec) {
    if (cluster) { // a previous run's nodes and timers go first
      cluster->stop();
      run();
      sched.clock().cancel_all();
      run();
      cluster.reset();
    }
    cluster = std::make_unique<test::sim_cluster>(
      sys, run_seed, std::move(spec),
      "/dev/shm/troupe-sim-" + std::to_string(getpid()) + "-" + std::to_string(run_seed));
    cluster->start();
  }

  ~cluster_fixture() override {
    if (cluster)
      cluster->stop();
    run();
    sched.clock().cancel_all();
    run();
    cluster.reset();
  }

  v1::MasterState state() {
    caf::scoped_actor self{sys};
    self->send(cluster->master(), master::state_atom::value);
    run();
    v1::MasterState out;
    self->receive([&](v1::MasterState& st) { out = std::move(st); },
                  caf::after(0s) >> [] { BOOST_FAIL("no state from the master"); });
    return out;
  }

  /// Advances second by second until the framework is done or `limit` passed, checking the
  /// invariants each second. Returns the problems found (empty: all held).
  std::vector<std::string> run_until_done(caf::timespan limit) {
    std::vector<std::string> problems;
    auto until = now() + limit;
    while (!cluster->done() && now() < until && problems.empty()) {
      advance(1s);
      problems = test::sim_cluster::check_state(state());
      for (auto& p : cluster->check_updates(false))
        problems.push_back(std::move(p));
    }
    if (problems.empty() && !cluster->done()) {
      problems.push_back("the framework did not finish within the limit");
      auto st = state();
      for (const auto& t : st.tasks())
        if (!common::is_terminal(t.state()))
          problems.push_back("  at the master: " + t.task_id().value() + " "
                             + v1::TaskState_Name(t.state()) + " on " + t.agent_id().value());
      for (const auto& f : st.frameworks())
        problems.push_back("  framework " + f.info().id().value() + " connected "
                           + std::to_string(f.connected()) + ", " + std::to_string(f.offers())
                           + " offers, " + std::to_string(f.active_tasks()) + " active tasks");
      for (const auto& [task, states] : cluster->outcome().updates)
        if (states.empty() || !common::is_terminal(states.back()))
          problems.push_back("  the framework saw " + task + " last as "
                             + (states.empty() ? "nothing" : v1::TaskState_Name(states.back())));
    }
    for (auto& p : cluster->check_updates(true))
      problems.push_back(std::move(p));
    if (cluster->done() && cluster->outcome().gave_up > 0) {
      problems.push_back(std::to_string(cluster->outcome().gave_up) + " copies gave up");
      for (const auto& [task, states] : cluster->outcome().updates) {
        std::string seen;
        for (auto s : states)
          seen += " " + v1::TaskState_Name(s);
        problems.push_back("  " + task + ":" + seen);
      }
    }
    return problems;
  }

  /// Runs `spec` for `seeds` consecutive seeds from the fixture's: `faults` injects what the
  /// scenario does after start, then the batch must finish within `limit` with every
  /// invariant held and no copy given up. Stops at the first failing seed (printed).
  template <class Faults>
  void sweep(const test::sim_cluster_spec& spec, uint64_t seeds, caf::timespan limit,
             Faults&& faults);
};

// Seeds per sweep: $TROUPE_SIM_SEEDS, else 1,000 (about 12 s per scenario on 2 cores).
uint64_t sweep_seeds() {
  if (const char* env = std::getenv("TROUPE_SIM_SEEDS"); env != nullptr && *env != '\0')
    return std::stoull(env);
  return 1000;
}

std::string joined(const std::vector<std::string>& xs) {
  std::string out;
  for (const auto& x : xs)
    out += "\n  " + x;
  return out;
}

} // namespace

template <class Faults>
void cluster_fixture::sweep(const test::sim_cluster_spec& spec, uint64_t seeds,
                            caf::timespan limit, Faults&& faults) {
  for (uint64_t i = 0; i < seeds; ++i) {
    auto run_seed = seed + i;
    start(run_seed, spec);
    faults();
    auto problems = run_until_done(limit);
    BOOST_CHECK_MESSAGE(problems.empty(), "seed " << run_seed << ":" << joined(problems));
    BOOST_CHECK_EQUAL(cluster->outcome().finished, spec.tasks);
    BOOST_CHECK_EQUAL(cluster->outcome().gave_up, 0u);
    if (!problems.empty())
      break;
  }
}

BOOST_FIXTURE_TEST_SUITE(cluster_sim_test, cluster_fixture)

// Delays of 1-30 ms, 5 % duplicates and the reordering they cause, on every link.
BOOST_AUTO_TEST_CASE(the_batch_finishes_under_delays_duplicates_and_reordering) {
  test::sim_cluster_spec spec;
  spec.faults.min_delay = 1ms;
  spec.faults.max_delay = 30ms;
  spec.faults.duplicate = 0.05;
  sweep(spec, sweep_seeds(), 10min, [] {});
}

// 2 % of all messages lost on every link (plus delays): every exchange must be retried by
// someone — registration, subscription, offers (timeout), launches, updates, acknowledgements.
// Fixed on the way: lost RunTask (resent), lost accept/revive (reconciled), lost Subscribed
// (the retried Subscribe gets the same framework), and a lost accept counted as a failed
// attempt (seed 14276085696096778485: three lost accepts in a row made 4 copies give up).
BOOST_AUTO_TEST_CASE(the_batch_finishes_under_message_loss) {
  test::sim_cluster_spec spec;
  spec.faults.min_delay = 1ms;
  spec.faults.max_delay = 30ms;
  spec.faults.drop = 0.02;
  sweep(spec, sweep_seeds(), 30min, [] {});
}

// An agent is cut off from the master while the first tasks launch, then healed: its tasks
// become unreachable and are relaunched elsewhere (or finish when it comes back); every copy
// still finishes and nothing is allocated twice.
BOOST_AUTO_TEST_CASE(an_agent_partitioned_during_launch) {
  test::sim_cluster_spec spec;
  spec.task_duration = 20s;
  spec.faults.max_delay = 20ms;
  sweep(spec, sweep_seeds() / 10, 10min, [this] {
    advance(1500ms); // registered, first offers out, launches under way
    cluster->net().partition({test::sim_cluster::agent_node(1)},
                             {test::sim_cluster::master_node(1), "framework"});
    advance(20s);
    cluster->net().heal();
  });
}

// The master fails over while offers are out and tasks launch: master-1 is deposed, master-2
// recovers the registry, agents and the framework follow it; every copy still finishes.
BOOST_AUTO_TEST_CASE(the_master_fails_over_mid_offer) {
  test::sim_cluster_spec spec;
  spec.masters = 2;
  spec.task_duration = 10s;
  spec.faults.max_delay = 20ms;
  sweep(spec, sweep_seeds() / 10, 10min, [this] {
    advance(1200ms); // offers out, first accepts on their way
    cluster->fail_over(2);
    advance(1s); // the new term recovers
    cluster->announce_leader();
  });
}

BOOST_AUTO_TEST_SUITE_END()
