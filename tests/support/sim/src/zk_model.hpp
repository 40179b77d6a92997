// The simulated ZooKeeper's data (zookeeper.hpp): sessions, ephemeral sequential members and
// one-shot exists-watches. Pure: no actors, no clock of its own (times are passed in).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor_clock.hpp>
#include <caf/timespan.hpp>

namespace troupe::sim {

class zk_model {
public:
  using time_point = caf::actor_clock::time_point;

  /// A new session of `client_node` (IDs 1, 2, ...).
  uint64_t open(const std::string& client_node, caf::timespan timeout, time_point now);

  bool alive(uint64_t session) const;

  /// The server heard from the session (any request keeps it alive).
  void touch(uint64_t session, time_point now);

  /// How long until the session expires if nothing is heard (≤ 0: due); nullopt if not alive.
  std::optional<caf::timespan> remaining(uint64_t session, time_point now) const;

  /// Ends the session: its ephemerals are deleted (their watches fire). `expired` counts it.
  void end(uint64_t session, bool expired);

  /// Creates an ephemeral sequential child "<parent>/<prefix><10 digits>" owned by `session`
  /// and returns its name (without the parent) — or the one the session already owns there
  /// (a retried create).
  std::string create_sequential(uint64_t session, const std::string& parent,
                                const std::string& prefix, std::string data);

  /// The children of `parent`, sorted by name.
  std::vector<std::string> children(const std::string& parent) const;

  /// Whether `path` exists; if it does, `session` gets a one-shot watch on its deletion.
  bool exists_watch(uint64_t session, const std::string& path);

  /// Watches fired since the last call: (session, path deleted).
  std::vector<std::pair<uint64_t, std::string>> take_fired();

  /// Live sessions of `client_node`.
  std::vector<uint64_t> sessions_of(const std::string& client_node) const;

  uint64_t opened() const {
    return next_session_ - 1;
  }
  uint64_t expired() const {
    return expired_;
  }

private:
  struct session {
    std::string node;
    caf::timespan timeout{0};
    time_point last_heard;
    std::set<std::string> ephemerals; ///< full paths
  };
  struct znode {
    std::string data;
    uint64_t owner = 0;
  };

  void remove(const std::string& path);

  std::map<uint64_t, session> sessions_;
  std::map<std::string, znode> nodes_;                  ///< by full path
  std::map<std::string, uint64_t> counters_;            ///< per parent: the next sequence
  std::map<std::string, std::set<uint64_t>> watches_;   ///< path -> sessions watching it
  std::vector<std::pair<uint64_t, std::string>> fired_;
  uint64_t next_session_ = 1;
  uint64_t expired_ = 0;
};

} // namespace troupe::sim
