// The simulated network behind the transport seam (DESIGN.md §5): whole clusters of nodes in one
// actor system on CAF's deterministic (testing) scheduler, every cross-node message routed through
// one seeded network that can drop, delay, duplicate and reorder them, cut links (one way or
// both), and take nodes down. Actor code cannot tell it from the middleman: a node's
// transport_for(node) publishes and connects exactly like make_middleman_transport.
//
// How it works: connect() hands out a proxy — "actor X as seen from node N", one per (X, N), so
// handles stay stable — whose enqueue routes the message: the sender is replaced by its own
// proxy as seen from the receiver's node (replies cross the network too), and delivery is a
// scheduled message on the virtual clock after the link's latency. All randomness comes from the
// one generator seeded here, and the testing scheduler runs everything on one thread in (time,
// insertion) order: the same seed and the same calls give the same run, bit for bit
// (trace_hash()).
//
// Vocabulary
//   node       a name ("master-1", "agent-7"); actors belong to the node whose transport
//              published them or through whose proxy they first sent something
//   FIFO       messages between two actors arrive in the order sent (as CAF guarantees),
//              unless sim_faults::reorder lets one overtake
//   cut        a one-way link that drops everything (partition = both ways between groups)
//   down       a crashed node: its endpoints vanish, messages to and from it are dropped
//
// Only for the testing scheduler: routing runs inside the sender's enqueue, unsynchronized.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "troupe/runtime/transport.hpp"

namespace troupe::runtime {

/// What a link does to each message.
struct sim_faults {
  double drop = 0.0;                                    ///< probability a message is lost
  double duplicate = 0.0;                               ///< probability it arrives twice
  /// Probability a message may overtake earlier ones between the same two actors. Otherwise
  /// (the default) each sender -> receiver pair is FIFO, as CAF guarantees.
  double reorder = 0.0;
  caf::timespan min_delay = std::chrono::milliseconds{1}; ///< latency, uniform in
  caf::timespan max_delay = std::chrono::milliseconds{1}; ///< [min_delay, max_delay]
};

/// Counts over the whole run.
struct sim_stats {
  uint64_t delivered = 0;  ///< deliveries scheduled (a duplicate counts twice)
  uint64_t dropped = 0;    ///< lost to faults, cuts or down nodes
  uint64_t duplicated = 0; ///< messages delivered twice
};

class sim_network {
public:
  /// `faults` apply to every link without an override. The network must outlive every actor
  /// that holds one of its proxies; destroy it before the actor system.
  sim_network(caf::actor_system& sys, uint64_t seed, sim_faults faults = {});
  ~sim_network();

  sim_network(const sim_network&) = delete;
  sim_network& operator=(const sim_network&) = delete;

  /// The transport of node `node`: publish() makes actors reachable at host:port (port 0: the
  /// next free one from 10000); connect()/the connector return proxies as seen from `node`
  /// (errc::unavailable when nothing is published there, the node is down or the link is cut).
  std::unique_ptr<transport> transport_for(const std::string& node);

  /// Faults of every link without an override.
  void set_faults(sim_faults faults);

  /// Faults of the link from -> to only (e.g. clog it with a long delay) until heal().
  void set_link_faults(const std::string& from, const std::string& to, sim_faults faults);

  /// Faults of every link to or from `node` (a link override wins); heal() keeps them. E.g.
  /// TCP-like links to a coordinator while the rest of the network is hostile.
  void set_node_faults(const std::string& node, sim_faults faults);

  /// True when both nodes are up and nothing is cut between them, either way (a request could
  /// be answered).
  bool reachable(const std::string& from, const std::string& to) const;

  /// Drops everything from -> to (one way) until heal().
  void cut(const std::string& from, const std::string& to);

  /// Cuts both ways between every node of `a` and every node of `b`.
  void partition(const std::vector<std::string>& a, const std::vector<std::string>& b);

  /// Removes every cut and link override.
  void heal();

  /// Breaks every connection between nodes `a` and `b`, as a TCP reset would: the proxies of
  /// each side's actors as the other side sees them die now (monitors get down messages with
  /// remote_link_unreachable), and later connects make new ones. Messages still flow (unless
  /// cut): whoever reconnects gets through.
  void disconnect(const std::string& a, const std::string& b);

  /// The node is down: its endpoints are unpublished and messages to and from it are dropped
  /// (kill its actors yourself). bring_up() lets a restarted node publish again.
  void take_down(const std::string& node);
  void bring_up(const std::string& node);

  const sim_stats& stats() const;

  /// FNV-1a over every routing decision (time, nodes, message types, verdict, delay): equal
  /// hashes mean equal runs.
  uint64_t trace_hash() const;

  /// Keeps the routing decisions as text lines (off by default; for --trace).
  void set_tracing(bool on);
  const std::vector<std::string>& trace() const;

  struct impl;

private:
  std::shared_ptr<impl> impl_;
};

} // namespace troupe::runtime
