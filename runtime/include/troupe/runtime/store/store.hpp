// The durable key-value seam (DESIGN.md §6): versioned key → bytes with compare-and-set. The
// registrar (later) keeps the registry here, one small record per key. Backends: memory_store
// (tests, simulation; can lose unsynced writes), leveldb_store (embedded default), ZooKeeper
// (zookeeper_store.hpp, HA).
//
// Semantics every backend shares (tests/unit/store_test.cpp checks both against a std::map):
//   - a key's version is 1 after its first put and grows by 1 on every put; erase removes the key
//     and its version, so a key created again starts at 1 again;
//   - expected_version: nullopt = unconditional, 0 = "the key must not exist", N = "the key must
//     be at version N"; a mismatch changes nothing and returns errc::version_conflict;
//   - keys: non-empty, at most max_key_size bytes, printable ASCII (0x20..0x7e); values: at most
//     max_value_size bytes of anything; a bad key, prefix or value changes nothing and returns
//     errc::invalid_argument naming the problem;
//   - list() is sorted bytewise (std::string order);
//   - commit(guard, writes): all of the writes or none, and only while the guard key is still
//     at the version the caller holds (a term's fencing token: the registry's epoch key).
//     ZooKeeper: one multi with a check of the guard's znode version; memory and LevelDB:
//     checked and applied under the store's lock (LevelDB: one WriteBatch).
// Synchronous and thread-compatible: one owner (an actor) calls it; calls may block on disk.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

namespace troupe::runtime {

/// Longest accepted key, in bytes.
constexpr size_t max_key_size = 1024;

/// Largest accepted value, in bytes (1 MiB).
constexpr size_t max_value_size = size_t{1} << 20;

/// A stored value and its version (≥ 1).
struct entry {
  std::string value;
  uint64_t version = 0;

  friend bool operator==(const entry& x, const entry& y) {
    return x.version == y.version && x.value == y.value;
  }
};

/// One write of a commit: a put (`value` set) or an erase (nullopt), with the expected_version
/// rules of put and erase.
struct store_write {
  std::string key;
  std::optional<std::string> value;
  std::optional<uint64_t> expected_version;
};

/// What a commit does to one key (each key once, in first-write order).
struct resolved_write {
  std::string key;
  std::optional<entry> before; ///< its entry before the commit (nullopt: absent)
  std::optional<entry> after;  ///< and after (nullopt: absent; version already advanced)
};

/// Checks a commit against the current entries (`read`) and computes what it does: the guard
/// first (`guard_key` must be at `guard_version`, else errc::stale_epoch), then every write in
/// order as put/erase would (a later write to a key sees the earlier one). Errors:
/// stale_epoch, invalid_argument, version_conflict, and read's own.
caf::expected<std::vector<resolved_write>>
resolve_commit(const std::function<caf::expected<std::optional<entry>>(std::string_view)>& read,
               std::string_view guard_key, uint64_t guard_version,
               const std::vector<store_write>& writes);

/// Checks a key: errc::invalid_argument naming the problem, or none.
caf::error validate_key(std::string_view key);

/// Checks a list() prefix: like a key, except that it may be empty.
caf::error validate_prefix(std::string_view prefix);

/// Checks a value's size: errc::invalid_argument, or none.
caf::error validate_value(std::string_view value);

/// Checks `expected_version` against the current entry (nullptr = missing): none on a match,
/// else errc::version_conflict saying what was expected and what was found.
caf::error check_version(std::string_view key, const entry* current,
                         std::optional<uint64_t> expected_version);

/// A versioned key-value store with compare-and-set.
class store {
public:
  virtual ~store();

  /// The entry under `key`, nullopt when absent. Errors: invalid_argument (bad key), io_error.
  virtual caf::expected<std::optional<entry>> get(std::string_view key) = 0;

  /// Writes `value` under `key` if `expected_version` matches (see the file comment) and returns
  /// the new version. Errors: invalid_argument, version_conflict, io_error.
  virtual caf::expected<uint64_t> put(std::string_view key, std::string value,
                                      std::optional<uint64_t> expected_version)
    = 0;

  /// Removes `key` if `expected_version` matches. Unconditional erase (nullopt) of a missing key
  /// succeeds and changes nothing; 0 succeeds only when the key is missing. Errors:
  /// invalid_argument, version_conflict, io_error.
  virtual caf::error erase(std::string_view key, std::optional<uint64_t> expected_version) = 0;

  /// Every key starting with `prefix` ("" = all keys), sorted. Errors: invalid_argument, io_error.
  virtual caf::expected<std::vector<std::string>> list(std::string_view prefix) = 0;

  /// A durable point: every write that returned before this call survives a crash once it
  /// returns. Errors: io_error.
  virtual caf::error sync() = 0;

  /// Applies `writes` atomically — all or none — if `guard_key` is at `guard_version` (see
  /// resolve_commit). Errors: stale_epoch (the guard moved: a newer writer holds the store),
  /// invalid_argument, version_conflict, io_error.
  virtual caf::error commit(std::string_view guard_key, uint64_t guard_version,
                            const std::vector<store_write>& writes)
    = 0;
};

} // namespace troupe::runtime
