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

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "troupe/messages/internal.hpp"
#include "troupe/runtime/store/store.hpp"

namespace troupe::master {

/// Reads every record into one Registry (epoch = the stored one). Errors: the store's, or
/// errc::invalid_message naming a record that does not parse (nothing is skipped silently).
caf::expected<internal::Registry> load_registry(runtime::store& st);

/// Starts a leadership term: the term's epoch is max(`at_least`, stored epoch + 1); it is stored
/// with compare-and-set (a concurrent term start makes this one fail with version_conflict) and
/// synced before it is returned.
caf::expected<uint64_t> begin_term(runtime::store& st, uint64_t at_least);

/// Fencing for writes of the term with `epoch`: errc::stale_epoch when the stored epoch is not
/// `epoch` any more (a newer term began elsewhere). The store's error when it cannot say.
/// (A check before writing, not an atomic guard: a term starting between the check and the
/// write can still see one write of the old term.)
caf::error check_term(runtime::store& st, uint64_t epoch);

/// Applies one operation: the records it changes are written (see the key list). An operation
/// with no case set is errc::invalid_argument.
caf::error apply_operation(runtime::store& st, const internal::RegistryOperation& op);

} // namespace troupe::master
