// The HA store backend: one znode per key under a root path in ZooKeeper (runtime/README.md
// "Store"). Keys are percent-encoded into a single path segment (every byte outside
// [A-Za-z0-9_-] becomes %XX, '.' included so that "." and ".." stay legal), so '/' in a key
// never creates a hierarchy; list() decodes the children of the root, filters and sorts them.
//
// Versions: store version = znode data version + 1 (ZooKeeper counts from 0). put with
// expected 0 is a create, with N a setData(version N-1), unconditional a setData(-1) or a create;
// erase with N is a delete(version N-1). ZooKeeper checks the version on the server, so the
// compare-and-set holds across clients; NODEEXISTS/BADVERSION/NONODE become
// errc::version_conflict.
//
// Values: at most max_zookeeper_value_size bytes (1 MiB - 4 KiB), below store's max_value_size,
// because ZooKeeper's default jute.maxbuffer (0xfffff bytes) bounds the whole request packet.
//
// Synchronous calls on the caller's thread (zookeeper.h stays in the source: pimpl). Never call
// it from a ZooKeeper callback. Connection failures → errc::unavailable; other ZooKeeper errors →
// errc::io_error; both carry zerror()'s text.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "troupe/runtime/store/store.hpp"

namespace troupe::runtime {

/// Largest value zookeeper_store accepts: 1 MiB - 4 KiB (room for the path and packet headers
/// under ZooKeeper's default jute.maxbuffer of 0xfffff bytes).
constexpr size_t max_zookeeper_value_size = max_value_size - 4096;

class zookeeper_store : public store {
public:
  /// Connects to `hosts` (ZooKeeper connect string), waits up to `connect_timeout` for the
  /// session and creates `root` (and its parents) when missing. Errors: invalid_argument (bad
  /// root), unavailable (no session within the timeout; names the hosts), io_error.
  static caf::expected<std::unique_ptr<zookeeper_store>>
  open(std::string hosts, std::string root = "/troupe/store",
       std::chrono::milliseconds session_timeout = std::chrono::seconds{10},
       std::chrono::milliseconds connect_timeout = std::chrono::seconds{5});

  /// Closes the session.
  ~zookeeper_store() override;

  zookeeper_store(const zookeeper_store&) = delete;
  zookeeper_store& operator=(const zookeeper_store&) = delete;

  /// See store::get.
  caf::expected<std::optional<entry>> get(std::string_view key) override;

  /// See store::put. Values over max_zookeeper_value_size → invalid_argument.
  caf::expected<uint64_t> put(std::string_view key, std::string value,
                              std::optional<uint64_t> expected_version) override;

  /// See store::erase.
  caf::error erase(std::string_view key, std::optional<uint64_t> expected_version) override;

  /// See store::list.
  caf::expected<std::vector<std::string>> list(std::string_view prefix) override;

  /// Every write is durable once it returns (a quorum acknowledged it); sync() additionally
  /// runs a ZooKeeper sync on the root, so later reads see every write committed before it,
  /// by any client. Errors: unavailable.
  caf::error sync() override;

  /// See store::commit: one zoo_multi, its first operation a check of the guard znode's
  /// version, so a write of a fenced term cannot land between a check and the write. The guard
  /// must exist (guard_version ≥ 1).
  caf::error commit(std::string_view guard_key, uint64_t guard_version,
                    const std::vector<store_write>& writes) override;

  /// The root znode.
  const std::string& root() const;

  /// A key's znode name under the root (percent-encoding), and back (nullopt: not ours).
  static std::string encode_key(std::string_view key);
  static std::optional<std::string> decode_key(std::string_view name);

private:
  struct impl;

  explicit zookeeper_store(std::unique_ptr<impl> self);

  std::unique_ptr<impl> self_;
};

} // namespace troupe::runtime
