// HA glue shared by the daemons and the CLI: who leads, as the HTTP edge of a master needs it
// (standby masters redirect to the leader or answer 503), and following the leader from
// agents, schedulers and the CLI (`--master zk://host:port[,host:port]/path`).
#pragma once

#include <mutex>
#include <optional>
#include <string>

#include <caf/actor.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "troupe/messages/proto.hpp"
#include "troupe/runtime/election/election.hpp"
#include "troupe/runtime/http_server.hpp"
#include "troupe/runtime/transport.hpp"

namespace troupe::tools {

/// What a master's HTTP edge knows about leadership. Thread-safe: the candidate and the
/// detector write, HTTP threads read.
class leadership_view {
public:
  /// This master's ID (its own announcement is no leader to redirect to).
  void set_self(std::string id);

  /// The candidate's on_term: this master's serving term (nullptr: not serving).
  void set_term(const v1::MasterInfo* serving);

  /// The detector's report: who leads (nullopt: nobody).
  void set_leader(std::optional<v1::MasterInfo> leader);

  /// nullopt while this master serves (answer locally). Otherwise 307 to the same path on the
  /// leader's HTTP port when another master leads, or 503 with Retry-After when none serves.
  std::optional<runtime::http_response> redirect(const std::string& path) const;

  /// Whether this master serves a term.
  bool serving() const;

private:
  mutable std::mutex mtx_;
  std::optional<v1::MasterInfo> serving_;
  std::optional<v1::MasterInfo> leader_;
  std::string self_id_;
};

/// A detector listener that feeds `view` (the view must outlive the actor).
runtime::election::leader_listener spawn_leadership_listener(caf::actor_system& sys,
                                                             leadership_view& view);

/// Makes `client` (an agent or a scheduler driver) follow the leader named in ZooKeeper: a
/// leader connector plus a ZooKeeper detector. Stop the returned detector on shutdown.
runtime::election::detector_actor follow_master(caf::actor_system& sys, runtime::transport& tp,
                                                const runtime::election::zk_config& zk,
                                                caf::actor client);

/// Makes `client` follow a master at a fixed actor address: a leader connector that keeps
/// trying to connect (backing off, one warning per attempt) until it can, then hands the
/// client the handle. Stop the returned detector on shutdown.
caf::actor follow_fixed_master(caf::actor_system& sys, runtime::transport& tp,
                               const runtime::endpoint& at, caf::actor client);

/// Blocking, for the CLI: the leader's MasterInfo as ZooKeeper names it, waiting up to
/// `timeout` for one. errc::unavailable when none leads in time.
caf::expected<v1::MasterInfo> find_leader(const runtime::election::zk_config& zk,
                                          caf::timespan timeout);

} // namespace troupe::tools
