// The registry as records in a runtime::store (DESIGN.md §6): one small record per key, never a
// single huge document, so a write costs the same with 10 agents as with 40,000.
//
// Keys
//   epoch                 uint64 (decimal) — the last leadership epoch handed out
//   agents/<agent id>     internal::AdmittedAgent
//   unreachable/<id>      internal::UnreachableAgent
//   gone/<id>             internal::GoneAgent
//   weights/<role>        internal::RoleWeight
//   quotas/<role>         internal::RoleQuota
//   frameworks/<id>       internal::FrameworkLease
//
// Pure functions over a store the caller owns (the registrar actor calls them; tests call them
// on a memory_store).
#pragma once

#include <cstdint>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "troupe/messages/internal.hpp"
#include "troupe/runtime/store/store.hpp"

namespace troupe::master {

/// Reads every record into one Registry (epoch = the stored one). Errors: the store's, or
/// errc::invalid_message naming a record that does not parse (nothing is skipped silently).
caf::expected<internal::Registry> load_registry(runtime::store& st);

/// A term's hold on the registry: its epoch and the version of the `epoch` record it wrote.
/// Every write of the term is a commit guarded by that version, so once a newer term has
/// begun (rewritten `epoch`) nothing of the older one can land.
struct term_token {
  uint64_t epoch = 0;
  uint64_t version = 0;
};

/// Starts a leadership term: the term's epoch is max(`at_least`, stored epoch + 1); it is stored
/// with compare-and-set (a concurrent term start makes this one fail with version_conflict) and
/// synced before it is returned. `held` (not 0): the epoch this node's previous term wrote — a
/// restart of a term; any other stored epoch means a newer term began elsewhere, and the
/// restart must not fence it out: errc::stale_epoch.
caf::expected<term_token> begin_term(runtime::store& st, uint64_t at_least, uint64_t held = 0);

/// The records `op` changes (see the key list), appended to `out`. An operation with no case
/// set is errc::invalid_argument (nothing appended).
caf::error registry_writes(const internal::RegistryOperation& op,
                           std::vector<runtime::store_write>& out);

/// Writes the records `writes` (from registry_writes) as one store commit fenced by `term`:
/// all or none. Errors: errc::stale_epoch (a newer term began), the store's.
caf::error commit_writes(runtime::store& st, const term_token& term,
                         const std::vector<runtime::store_write>& writes);

/// Writes `ops` as one store commit fenced by `term`: all of them or none. Errors:
/// errc::stale_epoch (a newer term began: this one must end), the store's (retry), and
/// invalid_argument for an operation with no case (nothing written; drop it and retry).
caf::error commit_operations(runtime::store& st, const term_token& term,
                             const std::vector<internal::RegistryOperation>& ops);

/// Applies one operation without fencing (tests, benchmarks).
caf::error apply_operation(runtime::store& st, const internal::RegistryOperation& op);

} // namespace troupe::master
