// The embedded store backend (the default when no ZooKeeper is configured): one LevelDB database
// in a directory. Each record is an 8-byte big-endian version followed by the value. Every write
// is synchronous (fsync before it returns), so sync() has nothing left to do. LevelDB has no
// compare-and-set: the read-check-write of put/erase runs under a mutex, which is enough because
// LevelDB's LOCK file keeps every other process (and a second open in this one) out of the
// directory. LevelDB headers stay in the source (pimpl).
#pragma once

#include <memory>
#include <string>

#include "troupe/runtime/store/store.hpp"

namespace troupe::runtime {

class leveldb_store : public store {
public:
  /// Opens (creating when missing, parents included) the database in `dir`. Errors: io_error
  /// with LevelDB's reason, e.g. when another leveldb_store (in any process) holds `dir`.
  static caf::expected<std::unique_ptr<leveldb_store>> open(std::string dir);

  /// Closes the database (releasing its lock).
  ~leveldb_store() override;

  leveldb_store(const leveldb_store&) = delete;
  leveldb_store& operator=(const leveldb_store&) = delete;

  /// See store::get. A record shorter than its version prefix is io_error (corruption).
  caf::expected<std::optional<entry>> get(std::string_view key) override;

  /// See store::put. The write is fsynced before it returns.
  caf::expected<uint64_t> put(std::string_view key, std::string value,
                              std::optional<uint64_t> expected_version) override;

  /// See store::erase. The deletion is fsynced before it returns.
  caf::error erase(std::string_view key, std::optional<uint64_t> expected_version) override;

  /// See store::list.
  caf::expected<std::vector<std::string>> list(std::string_view prefix) override;

  /// No-op: every write is already durable when it returns.
  caf::error sync() override;

  /// See store::commit: one synced WriteBatch under the store's lock.
  caf::error commit(std::string_view guard_key, uint64_t guard_version,
                    const std::vector<store_write>& writes) override;

  /// The directory of the database.
  const std::string& dir() const;

private:
  struct impl;

  explicit leveldb_store(std::unique_ptr<impl> self);

  /// get() without validation or locking.
  caf::expected<std::optional<entry>> read(std::string_view key);

  std::unique_ptr<impl> self_;
};

} // namespace troupe::runtime
