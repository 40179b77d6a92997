// A simulated ZooKeeper for the deterministic simulator (issue 15): the election and the
// registry of a simulated cluster go through it, so "one serving master per epoch" is tested
// against sessions that expire, partitions from the coordinator and leaders that still believe
// they lead.
//
//   server     one actor on node "zk", published at zk:2181. Sessions with a timeout T,
//              kept alive by any request; expired T after the server last heard from the
//              client (virtual time), which deletes the session's ephemeral znodes and fires
//              the watches on them. Ephemeral sequential members under an election path
//              (sequence = the parent's counter, never reused), one-shot exists-watches.
//   contender  implements runtime::election::contender_actor like the real ZooKeeper one,
//              talking to the server through the simulated network from its node:
//              pings every T/3; no answer for 2T/3 (or the connection broke) -> connection
//              loss: `lost` at once, and it reconnects with the same session — answered
//              "expired" once the server dropped it (then a new session, a new member, a larger
//              epoch), or resumed (same member, so the same epoch: the term resumes).
//   store      runtime::store over the registry's memory_store that refuses every call
//              (errc::unavailable) while its node cannot reach zk: a master cut off from the
//              coordinator cannot write, as with a real ZooKeeper store.
//   control    expire(node): the server expires the node's sessions now and closes their
//              connections (the client hears "connection loss" as a TCP reset would tell it,
//              then "expired"); freeze(node): the node's contender stops (sends, hears and
//              notices nothing) until thaw — the node itself runs on, believing it leads.
//
// Simplifications (written down in tests/support/sim/README.md): the store's versions and
// atomic guarded commits are the memory_store's (the same contract as the ZooKeeper store's
// multi), and reach zk instantly when reachable; agents and frameworks learn the leader from
// the harness once a term serves (no detector actors).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "troupe/runtime/election/election.hpp"
#include "troupe/runtime/sim_network.hpp"
#include "troupe/runtime/store/memory_store.hpp"

namespace troupe::sim {

class zk_model;

/// The simulated coordinator of one cluster: the server actor and its control plane. Lives on
/// the scheduler's one thread, like everything in the simulation.
class sim_zookeeper {
public:
  static constexpr const char* node = "zk";
  static constexpr uint16_t port = 2181;

  /// Spawns the server and publishes it on node "zk" of `net`.
  sim_zookeeper(caf::actor_system& sys, runtime::sim_network& net);
  ~sim_zookeeper();

  sim_zookeeper(const sim_zookeeper&) = delete;
  sim_zookeeper& operator=(const sim_zookeeper&) = delete;

  /// Expires every session of `client_node` now (its ephemerals go, watches fire).
  void expire(const std::string& client_node);

  /// Freezes (true) or thaws the ZooKeeper clients of `client_node`.
  void freeze(const std::string& client_node, bool on);
  bool frozen(const std::string& client_node) const;

  /// Sessions opened so far and those expired (for reports and tests).
  uint64_t sessions_opened() const;
  uint64_t sessions_expired() const;

  /// Stops the server.
  void stop();

  /// The frozen client nodes (read by the contenders).
  std::shared_ptr<const std::set<std::string>> frozen_nodes() const {
    return frozen_;
  }

private:
  runtime::sim_network& net_;
  std::shared_ptr<zk_model> model_;
  caf::actor server_;
  std::shared_ptr<std::set<std::string>> frozen_;
};

/// Spawns a contender on node `client_node`, reaching zk through `tp` (that node's transport),
/// with sessions of `session_timeout`, contending under "/troupe/leader".
runtime::election::contender_actor
spawn_zk_contender(caf::actor_system& sys, const sim_zookeeper& zk, runtime::transport& tp,
                   const std::string& client_node, caf::timespan session_timeout,
                   runtime::election::leadership_listener listener);

/// The registry as a master on `client_node` reaches it through ZooKeeper: `data`'s contract,
/// refused with errc::unavailable while the node cannot reach zk. Every write that lands is
/// checked against the registry's epoch: one by a term older than the newest begun is added
/// to `violations` ("no effect of an older epoch after a newer one began").
std::shared_ptr<runtime::store>
make_zk_store(std::shared_ptr<runtime::memory_store> data, runtime::sim_network& net,
              std::string client_node, std::shared_ptr<std::vector<std::string>> violations);

} // namespace troupe::sim
