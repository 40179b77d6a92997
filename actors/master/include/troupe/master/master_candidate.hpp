// The master node's leadership (DESIGN.md §3 "Supervision trees", "Leadership and fencing"):
// the actor published on the master's actor port. It contends through an election backend and,
// while this node leads, runs one leadership term — registrar + master (+ the allocator the
// master links) — forwarding every other message to that term's master with its sender and
// message ID intact, so agents and schedulers talk to "the master at host:port" across terms.
//
// Flow
//   (contend_atom, MasterInfo) -> contender contends with the MasterInfo as JSON
//   elected(epoch) -> registrar (recover_atom, epoch) -> Registry (term epoch, durable)
//                  -> spawn_master(template + epoch + registry + registrar) -> serving
//   lost           -> the term stops serving at once: messages are dropped (requests get
//                     errc::unavailable). With a suspend_grace, its actors wait that long for
//                     an election with the *same* epoch (a ZooKeeper reconnect within the
//                     session: the election guarantees nobody else led meanwhile) and resume;
//                     otherwise — or without a grace — they are killed (never the process).
//   term master dies on its own -> a new term starts (recovering again, with a new epoch)
// `on_term` is called (on the candidate's thread) with the term's MasterInfo when a term
// starts serving and with nullptr when it ends: the HTTP edge redirects or answers 503 from it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "troupe/master/master_actor.hpp"
#include "troupe/runtime/election/election.hpp"
#include "troupe/runtime/store/store.hpp"

namespace troupe::master {

struct candidate_config {
  /// The template of every term's master (info without epoch; registry and registrar unset).
  master_config master;
  /// Makes the contender, which reports to the given listener (the candidate).
  std::function<runtime::election::contender_actor(caf::actor_system&,
                                                   runtime::election::leadership_listener)>
    make_contender;
  /// Where the registry lives (shared by the terms of this process).
  std::shared_ptr<runtime::store> store;
  bool detached_registrar = true;               ///< false under the deterministic scheduler
  caf::timespan retry = std::chrono::seconds{1}; ///< between failed term starts
  caf::timespan suspend_grace{0};               ///< see the file comment (ZooKeeper: about a
                                                ///< third of the session timeout)
  std::function<void(const v1::MasterInfo*)> on_term; ///< optional, see the file comment
};

/// Spawns the candidate (and its contender, linked). It contends once told
/// (contend_atom, v1::MasterInfo) — the info with the bound ports.
caf::actor spawn_master_candidate(caf::actor_system& sys, candidate_config cfg);

} // namespace troupe::master
