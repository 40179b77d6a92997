// The master node's leadership (DESIGN.md §3 "Supervision trees", "Leadership and fencing"):
// the actor published on the master's actor port. It contends through an election backend and,
// while this node leads, runs one leadership term (leader_term.hpp: registrar, offers, master
// under a one_for_all supervisor). It is typed: it serves `master_entry_actor` by delegating
// each message to the serving term's master (sender and request kept), so agents and schedulers
// talk to "the master at host:port" across terms.
//
// Flow
//   (contend_atom, MasterInfo) -> contender contends with the MasterInfo as JSON
//   elected(epoch) -> spawn leader_term (monitored) -> its master recovers the registry
//                  -> (master, MasterInfo with the term epoch) -> serving
//   lost           -> the term stops serving at once: messages are dropped (requests get
//                     errc::unavailable). With a suspend_grace, its master is paused (no timer,
//                     no event acts) and waits that long for an election with the *same* epoch
//                     (a ZooKeeper reconnect within the session: the election guarantees nobody
//                     else led meanwhile) and resumes; otherwise the term is stopped.
//   term restarts  its master dies -> not serving until the restarted master serves (new epoch)
//   term gives up  (restart intensity, or fenced by a newer term) -> step down: the contender is
//                  stopped (its znode goes), and after `retry` a new one contends again
// `on_term` is called (on the candidate's thread) with the term's MasterInfo when a term
// starts serving and with nullptr when it stops: the HTTP edge redirects or answers 503 from it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "troupe/master/leader_term.hpp"
#include "troupe/master/master_actor.hpp"
#include "troupe/runtime/election/election.hpp"
#include "troupe/runtime/store/store.hpp"

namespace troupe::master {

/// The candidate: the entry point, an election listener, and told when to contend.
using candidate_actor = master_entry_actor::extend_with<runtime::election::leadership_listener>
  ::extend<
    /// Owner -> candidate: contend with this info (the bound ports). Idempotent.
    caf::reacts_to<runtime::election::contend_atom, v1::MasterInfo>>;

struct candidate_config {
  /// The template of every term's master (info without epoch; registry and registrar unset).
  master_config master;
  /// Makes the contender, which reports to the given listener (the candidate). Called again
  /// after each step-down.
  std::function<runtime::election::contender_actor(caf::actor_system&,
                                                   runtime::election::leadership_listener)>
    make_contender;
  /// Where the registry lives (shared by the terms of this process).
  std::shared_ptr<runtime::store> store;
  bool detached_registrar = true;               ///< false under the deterministic scheduler
  caf::timespan retry = std::chrono::seconds{1}; ///< step-down to contending again
  caf::timespan suspend_grace{0};               ///< see the file comment (ZooKeeper: about a
                                                ///< third of the session timeout)
  /// Restart policy of each term (leader_term_config::default_supervision()).
  runtime::supervisor_config term_supervision = leader_term_config::default_supervision();
  std::function<void(const v1::MasterInfo*)> on_term; ///< optional, see the file comment
};

/// Spawns the candidate (and its contender, linked). It contends once told
/// (contend_atom, v1::MasterInfo) — the info with the bound ports.
candidate_actor spawn_master_candidate(caf::actor_system& sys, candidate_config cfg);

} // namespace troupe::master
