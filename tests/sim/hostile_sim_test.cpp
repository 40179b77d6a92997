// The hostile end of the fault envelope: on every link 10 % of messages lost, 10 % duplicated,
// 30 % free to overtake earlier ones, delays of 1-400 ms; chaos points armed; and on top,
// repeated fail-overs, agents crashing, stopping and partitioned, connections broken. Every
// invariant of the harness must hold for every seed (tests/support/sim/README.md): nothing
// from the agent's stream after a terminal state, every update an executor reported reaches
// the framework, unreachable tasks settle when their agent returns, the batch finishes with no
// copy given up. Each scenario runs $TROUPE_SIM_SEEDS seeds (default 1,000) from seed 1 (or
// $TROUPE_SEED); a failure prints the seed and the replay command.
//
// Found and fixed by these sweeps (seed of the first sighting, scenario):
//  - a late duplicate of TASK_RUNNING reached the framework after TASK_FINISHED (852,
//    failovers): the scheduler driver now holds back stream updates after a task's end;
//  - a status stream stalled for the whole run (990, failovers and partitions): the update
//    retry grew to 10 min; capped at 1 min, so a healed cluster converges in minutes;
//  - tasks stayed TASK_UNREACHABLE for ever (464, master crash and restart): the agent had
//    registered anew in a term whose "old ID gone" record was lost; a reregistering agent now
//    retires the older IDs at its address;
//  - TASK_UNKNOWN for a task whose agent was unreachable, then the agent brought it back
//    (339, single master): a kill of a task on an agent not back yet waits for it;
//  - a copy gave up after three machine losses (898): losses of the machine are not attempts.
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <string>

#include "sweep_check.hpp"

using namespace std::chrono_literals;
using namespace troupe;

namespace {

sim::cluster_spec hostile(uint32_t masters, uint32_t agents, uint32_t tasks,
                          caf::timespan task_duration) {
  sim::cluster_spec spec;
  spec.masters = masters;
  spec.agents = agents;
  spec.tasks = tasks;
  spec.task_duration = task_duration;
  test::make_hostile(spec);
  return spec;
}

// (These were swept to 2,000 seeds before landing; explore further with troupe-sim or
// TROUPE_SEED.)
void sweep(const std::string& name, const sim::cluster_spec& spec, const char* plan) {
  test::check_sweep("hostile_sim_test", name, spec, plan);
}

} // namespace

BOOST_AUTO_TEST_SUITE(hostile_sim_test)

// Three masters failing over back and forth, an agent machine crashing and rebooting, the
// framework's connection broken.
BOOST_AUTO_TEST_CASE(failovers_back_and_forth) {
  sweep("failovers_back_and_forth", hostile(3, 3, 20, 2s), R"(
    5s fail-over master-2
    12s crash agent-1
    20s restart agent-1
    25s disconnect framework master-2
    30s fail-over master-3
    45s fail-over master-1)");
}

// Agents stopped, partitioned away and crashed while the leadership moves; connections of
// the framework and an agent broken.
BOOST_AUTO_TEST_CASE(agents_lost_while_leadership_moves) {
  sweep("agents_lost_while_leadership_moves", hostile(3, 4, 30, 5s), R"(
    3s fail-over master-2
    6s stop agent-2
    9s partition agent-3 | master-1 master-2 master-3
    10s disconnect framework master-2
    14s restart agent-2
    16s fail-over master-3
    20s heal
    22s disconnect agent-1 master-3
    26s fail-over master-1
    30s crash agent-4
    40s restart agent-4
    45s fail-over master-2)");
}

// The leader crashes and comes back, agents partitioned from it, an agent machine reboots.
BOOST_AUTO_TEST_CASE(leader_crash_partitions_and_reboots) {
  sweep("leader_crash_partitions_and_reboots", hostile(3, 3, 20, 8s), R"(
    2s crash master-1
    4s restart master-1
    5s fail-over master-1
    7s partition agent-1 agent-2 | master-1
    8s fail-over master-2
    12s heal
    13s crash agent-3
    15s disconnect framework master-2
    18s restart agent-3
    25s stop agent-1
    28s restart agent-1
    30s fail-over master-3)");
}

// One-way cuts, a partitioned leader, broken connections, three fail-overs in three seconds,
// an agent stopped and another crashed at once.
BOOST_AUTO_TEST_CASE(cuts_partitions_and_a_failover_storm) {
  sweep("cuts_partitions_and_a_failover_storm", hostile(3, 5, 40, 3s), R"(
    1s cut master-1 agent-1
    2s cut framework master-1
    4s disconnect framework master-1
    5s fail-over master-2
    6s heal
    8s partition master-2 | agent-1 agent-2 agent-3
    9s fail-over master-3
    11s disconnect agent-4 master-3
    12s disconnect agent-5 master-3
    14s heal
    15s fail-over master-2
    16s fail-over master-3
    17s fail-over master-1
    20s stop agent-3
    21s crash agent-2
    25s restart agent-3
    26s restart agent-2
    27s disconnect framework master-1
    40s fail-over master-2)");
}

// A single master on a lagging registry crashing twice (unsynced writes lost), an agent
// machine rebooting, an agent partitioned for 30 s.
BOOST_AUTO_TEST_CASE(a_single_master_crashing_twice) {
  sweep("a_single_master_crashing_twice", hostile(1, 3, 20, 4s), R"(
    3s crash master-1
    6s restart master-1
    8s crash agent-1
    10s disconnect framework master-1
    12s restart agent-1
    14s crash master-1
    15s restart master-1
    20s partition agent-2 | master-1
    50s heal)");
}

BOOST_AUTO_TEST_SUITE_END()
