// The registrar: the one writer of the registry during a leadership term (DESIGN.md §3, §6).
// It lives in the term's subtree and owns no state of its own beyond its queue: every record is
// in the store (registry_store.hpp names the keys).
//
// Flow
//   term start   (recover_atom, election epoch) -> begin_term + load_registry -> Registry
//                (its epoch is the term's epoch, already durable)
//   serving      RegistryOperation ... (one-way, applied in arrival order; the master acts
//                without waiting: a lost write only means the next term learns the fact again
//                from the agent or framework itself)
// Writes are fenced atomically: each batch (up to max_batch queued operations) is one store
// commit guarded by the version of the `epoch` record this term wrote (ZooKeeper: one multi
// with a version check on that znode). Once a newer term has begun, no write of this one
// lands: the registrar ends with errc::stale_epoch and its term with it. A failing commit is
// retried every `retry` (later operations wait behind it, so the order holds), except an
// operation the store refuses as malformed (dropped, logged); each success is synced. The
// store's calls may block: in production the registrar runs detached.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "troupe/messages/internal.hpp"
#include "troupe/runtime/store/store.hpp"

namespace troupe::master {

/// Names the term start.
using recover_atom = caf::atom_constant<caf::atom("recover")>;

/// Names a write whose sender waits until it is durable.
using durable_atom = caf::atom_constant<caf::atom("durable")>;

using registrar_actor = caf::typed_actor<
  /// Leader term -> registrar: start a term elected with `epoch`; replies with the registry,
  /// whose epoch is this term's (max(epoch, stored + 1), stored and synced). Errors: the
  /// store's (the term cannot start).
  caf::replies_to<recover_atom, uint64_t>::with<internal::Registry>,
  /// Leader term -> registrar: the same for a restart of a term whose previous start wrote
  /// epoch `held`: errc::stale_epoch when the registry has moved past it (registry_store.hpp).
  caf::replies_to<recover_atom, uint64_t, uint64_t>::with<internal::Registry>,
  /// Master -> registrar: apply this operation durably (in order; retried until stored).
  caf::reacts_to<internal::RegistryOperation>,
  /// Master -> registrar: the same, answered `true` once stored and synced (operator updates
  /// are acknowledged only then); errc::invalid_argument if the store refuses it.
  caf::replies_to<durable_atom, internal::RegistryOperation>::with<bool>>;

struct registrar_config {
  std::shared_ptr<runtime::store> store;          ///< where the registry lives (required)
  caf::timespan retry = std::chrono::seconds{1}; ///< delay before retrying a failed write
  size_t max_batch = 256;                        ///< operations per store commit (≥ 1)
  size_t max_batch_bytes = 256 * 1024;           ///< records per commit, about (one operation
                                                 ///< may exceed it alone)
  bool detached = true;                          ///< own thread (the store may block)
  std::string node = "master";                   ///< logger name
};

registrar_actor spawn_registrar(caf::actor_system& sys, registrar_config cfg);

} // namespace troupe::master
