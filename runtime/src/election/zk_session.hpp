// One ZooKeeper session for an election actor (private to runtime/src/election; the only header
// that includes zookeeper.h, so every TU including it is compiled with -DTHREADED).
//
// The C client runs watchers on its own completion thread. The session's watcher only forwards
// (zk_event_atom, generation, type, state) into the owning actor; every zoo_* call happens on
// the actor's thread. `generation` grows with every new handle, so events of a closed handle
// that are still in the mailbox are recognised and dropped.
#pragma once

#include <zookeeper/zookeeper.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/atom.hpp>
#include <caf/weak_intrusive_ptr.hpp>
#include <caf/actor_control_block.hpp>

#include "troupe/runtime/election/election.hpp"

namespace troupe::runtime::election {

/// Names a forwarded ZooKeeper watcher event: (generation, type, state).
using zk_event_atom = caf::atom_constant<caf::atom("zkevent")>;
/// Names a delayed retry of the actor's current step: (generation).
using zk_retry_atom = caf::atom_constant<caf::atom("zkretry")>;

/// One election member znode: `member_<seq>`.
struct zk_member {
  std::string name;  ///< child name, e.g. member_0000000007
  uint64_t sequence; ///< the 10-digit suffix
};

class zk_session {
public:
  /// `owner` receives the forwarded events; nothing is opened yet.
  zk_session(caf::actor_control_block* owner, zk_config cfg);

  /// Closes the handle (zookeeper_close: the server deletes our ephemeral znodes at once).
  ~zk_session();

  zk_session(const zk_session&) = delete;
  zk_session& operator=(const zk_session&) = delete;

  /// Closes any current handle and opens a new one (new generation). False when the client
  /// refused the configuration (bad host string); retry later.
  bool open();

  /// Closes the current handle, if any. Blocks until the client's threads are gone.
  void close();

  /// The current handle (nullptr when closed).
  zhandle_t* handle() const {
    return zh_;
  }

  uint64_t generation() const {
    return generation_;
  }

  const zk_config& config() const {
    return cfg_;
  }

  /// The session id (0 when none was established yet).
  int64_t session_id() const;

  /// Creates `cfg.path` and its parents (persistent, empty); ZOK when they exist afterwards.
  int ensure_path();

  /// Lists the members under `cfg.path`, lowest sequence first. With `watch`, arms a child watch
  /// that forwards to the owner.
  int list_members(std::vector<zk_member>& out, bool watch);

  /// Checks that `child` of `cfg.path` exists and, with `watch`, arms an existence watch.
  int watch_member(const std::string& child, struct Stat* stat = nullptr);

  /// Arms an existence watch on `cfg.path` itself (the detector waits for its creation).
  int watch_path();

  /// Reads the data of `child` of `cfg.path`.
  int read_member(const std::string& child, std::string& data);

  /// `cfg.path` + "/" + child.
  std::string child_path(const std::string& child) const;

private:
  struct context {
    caf::weak_actor_ptr owner;
    uint64_t generation;
  };

  static void forward(zhandle_t* zh, int type, int state, const char* path, void* ctx);

  caf::weak_actor_ptr owner_;
  zk_config cfg_;
  zhandle_t* zh_ = nullptr;
  uint64_t generation_ = 0;
  std::unique_ptr<context> ctx_;
};

/// True for return codes that mean "wait for the session to come back" rather than a failure.
bool zk_connection_problem(int rc);

} // namespace troupe::runtime::election
