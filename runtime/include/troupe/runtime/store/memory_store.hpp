// The in-memory store backend for tests and the simulator. Besides the store interface it can
// simulate a crash: crash() forgets every write made since the last sync(), as a disk without
// fsync would.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "troupe/runtime/store/store.hpp"

namespace troupe::runtime {

class memory_store : public store {
public:
  /// Starts empty (and synced).
  memory_store() = default;

  /// See store::get.
  caf::expected<std::optional<entry>> get(std::string_view key) override;

  /// See store::put.
  caf::expected<uint64_t> put(std::string_view key, std::string value,
                              std::optional<uint64_t> expected_version) override;

  /// See store::erase.
  caf::error erase(std::string_view key, std::optional<uint64_t> expected_version) override;

  /// See store::list.
  caf::expected<std::vector<std::string>> list(std::string_view prefix) override;

  /// See store::commit.
  caf::error commit(std::string_view guard_key, uint64_t guard_version,
                    const std::vector<store_write>& writes) override;

  /// Makes every write so far survive crash(). Never fails.
  caf::error sync() override;

  /// Simulated crash: restores the state of the last sync() (or the empty start).
  void crash();

  /// Number of keys touched since the last sync() (for tests).
  size_t unsynced() const {
    return undo_.size();
  }

private:
  /// Remembers `key`'s synced state before its first change after a sync().
  void remember(const std::string& key);

  std::map<std::string, entry, std::less<>> entries_;

  /// key → its entry at the last sync() (nullopt = absent then); one record per touched key.
  std::map<std::string, std::optional<entry>> undo_;
};

} // namespace troupe::runtime
