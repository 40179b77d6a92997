// The master node's main actor: agents register and are pinged, frameworks subscribe and
// receive offers, accepts are validated and become RunTask messages, status updates flow to
// frameworks and acknowledgements back to agents. It spawns and links its allocator (so the
// two live and die together, as one leadership term) and one offer actor per outstanding offer.
//
// The wire side is protocols::master_actor (messages/include/troupe/protocols/master.hpp); this
// header adds what only actors of the master node send it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "troupe/allocator/allocator_actor.hpp"
#include "troupe/master/offer_actor.hpp"
#include "troupe/master/registrar.hpp"
#include "troupe/messages/proto.hpp"
#include "troupe/protocols/master.hpp"

namespace troupe::master {

/// Names the state snapshot request.
using state_atom = caf::atom_constant<caf::atom("state")>;

/// Names the master's pause: its candidate lost the election and waits for a re-election.
using pause_atom = caf::atom_constant<caf::atom("pause")>;

/// What a master node publishes (its candidate serves it): the wire protocol and the state.
using master_entry_actor = protocols::master_actor::extend<
  /// Local tools, HTTP edge, tests -> master: a snapshot of agents, frameworks, tasks, offers.
  caf::replies_to<state_atom>::with<v1::MasterState>>;

using master_node_actor = master_entry_actor::extend<
  /// Allocator -> master: the offers of one allocation pass.
  caf::reacts_to<allocator::offer_batch>,
  /// Offer actor -> master: an offer expired (its resources are back at the allocator).
  caf::reacts_to<offer_expired_atom, v1::OfferID>,
  /// Candidate -> master: pause (true) or resume (false). A paused master acts on nothing: its
  /// timers (pings, heartbeats, reregistration and failover deadlines) wait, allocations go
  /// straight back to the allocator, and no event reaches a framework. (Its candidate forwards
  /// nothing to it meanwhile.)
  caf::reacts_to<pause_atom, bool>>;

struct master_config {
  v1::MasterInfo info;                                      ///< id, hostname, ports, epoch
  caf::timespan ping_interval = std::chrono::seconds{5};   ///< agent liveness probe period
  uint64_t max_missed_pings = 5;                            ///< misses before unreachable
  caf::timespan heartbeat_interval = std::chrono::seconds{15}; ///< to subscribed schedulers
  caf::timespan default_refuse = std::chrono::seconds{5};  ///< decline filter when unset
  offer_config offers;                                      ///< offer timeout (default 30 s)
  allocator::allocator_config allocator;                    ///< interval, minimum, seed
  uint64_t completed_tasks_kept = 1000;                     ///< finished tasks kept for /state
  std::string node = "master";                              ///< logger name
  // Leadership term (HA). Without a registrar nothing is persisted (tests, one-off masters).
  registrar_actor registrar;               ///< durable registry writes of this term
  internal::Registry registry;             ///< what the term recovered: admitted agents await
                                           ///< reregistration, framework leases run on
  caf::timespan agent_reregister_timeout = std::chrono::seconds{60}; ///< then: unreachable
  /// Recover at start (a leadership term's master): ask `registrar` for the registry of a term
  /// elected with this epoch; other messages wait until it answers (an exit does not). The
  /// term's epoch is the registry's. A failed recovery ends the master with the store's error (its term's
  /// supervisor decides). 0: `registry` is given (or there is none).
  uint64_t recover_epoch = 0;
  /// With recover_epoch: the epoch this node's previous start of the term wrote (0: none). A
  /// registry past it (a newer term began elsewhere) ends the master with errc::stale_epoch.
  uint64_t recover_held_epoch = 0;
  /// Called on the master's thread once it serves: its handle and info (with the epoch).
  std::function<void(const master_node_actor&, const v1::MasterInfo&)> on_serving;
  double recovery_removal_limit = 1.0;     ///< largest fraction of recovered agents marked
                                           ///< unreachable at once; above it the master waits
                                           ///< another timeout and says why (safety limit)
};

/// Spawns the master and its (linked) allocator. With `recover_epoch`, the master recovers
/// the registry first and serves after.
master_node_actor spawn_master(caf::actor_system& sys, master_config cfg);

} // namespace troupe::master
