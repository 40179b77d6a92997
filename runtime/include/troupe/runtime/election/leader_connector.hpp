// Following the leader from another node (agents, scheduler drivers, the CLI): a detector's
// reports (the leader's MasterInfo as JSON) become actor handles.
//
// Flow
//   detector --(leader_atom, data)--> leader_connector --connect_atom--> transport connector
//            --(leader_atom, caf::actor master, v1::MasterInfo)--> client
//
// The connector parses the data, connects to the leader's hostname:actor_port through the
// transport's connector actor (retrying after `retry`, doubling to 4 x `retry`, while that
// leader stays the leader; one warning per attempt) and
// hands the client a handle. Reports that name the leader the client already has (same id and
// epoch) are dropped; a leader that vanishes without a successor is not reported (clients notice
// silence on their own). The connector watches the handle it handed out: when the connection
// breaks (a reset, a restart of the leader's process) while that leader still leads, it
// connects again with the same backoff and hands the client the new handle — clients reconnect
// without a leader change, on their own. The connector ends when its client does.
#pragma once

#include <chrono>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "troupe/runtime/election/election.hpp"

namespace troupe::runtime::election {

/// Spawns a leader connector for `client`, which must accept
/// (leader_atom, caf::actor, v1::MasterInfo). `connector` is a runtime::transport connector.
/// Returns the listener to give the detector.
leader_listener spawn_leader_connector(caf::actor_system& sys, caf::actor connector,
                                       caf::actor client,
                                       caf::timespan retry = std::chrono::milliseconds{500});

} // namespace troupe::runtime::election
