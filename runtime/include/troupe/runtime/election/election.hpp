// Leader election (DESIGN.md §3 "Leadership and fencing"): a contender (this node may lead)
// and a detector (who leads). Both report to listener actors; neither ever exits the process.
//
// Flow
//   contender   contend(data)  -> ... -> listener gets (elected_atom, epoch) when this node leads
//                                         and (lost_atom) the moment it stops leading
//   detector    spawn          -> ... -> listener gets (leader_atom, data | nullopt) on every
//                                         change of leader (and once for the first observation)
//
// Backends
//   standalone  this node always leads (epoch 1); tests appoint / depose through an extended
//               interface.
//   ZooKeeper   ephemeral+sequential znodes `member_<seq>` under `zk_config::path` (parents are
//               created), lowest sequence leads, each contender watches its predecessor, the
//               detector watches the children and reads the lowest one's data (the leader's
//               MasterInfo JSON). The epoch of a term is the winner's sequence number + 1
//               (sequences start at 0; epoch 0 is left for "no epoch"): sequence
//               numbers under one parent only grow (ZooKeeper keeps a per-parent counter that
//               deletions never reset), so a failover always yields a larger epoch — as long as
//               nobody deletes the election znode itself (that would restart the counter).
//               The contender steps down (lost) on the first disconnect of its session and
//               contends again when it reconnects: a reconnect within the session finds its znode
//               still lowest and resumes with the *same* epoch (no other node can have led in
//               between — its znode never went away); an expired session gets a new handle and a
//               new znode, hence a larger epoch. Stopping the actor closes the session, which
//               deletes its znode at once (clean step-down in tens of ms).
//
// Listener messages carry std::optional, which CAF 0.17 cannot serialize: listeners are local
// actors (the master node's election supervisor), never remote.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/expected.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::optional<std::string>)

namespace troupe::runtime::election {

/// Names the contend message of contender_actor.
using contend_atom = caf::atom_constant<caf::atom("contend")>;
/// Names the "you lead" report to a leadership_listener.
using elected_atom = caf::atom_constant<caf::atom("elected")>;
/// Names the "you no longer lead" report to a leadership_listener.
using lost_atom = caf::atom_constant<caf::atom("lost")>;
/// Names the leader report to a leader_listener and the detector's query.
using leader_atom = caf::atom_constant<caf::atom("leader")>;
/// Names the standalone test hook that lets the contender lead.
using appoint_atom = caf::atom_constant<caf::atom("appoint")>;
/// Names the standalone test hook that takes leadership away.
using depose_atom = caf::atom_constant<caf::atom("depose")>;

/// What a contender reports to (the master node's election supervisor).
using leadership_listener = caf::typed_actor<
  /// Contender -> listener: this node leads from now on; `epoch` is strictly larger than the
  /// epoch of any term another node held before. Never sent twice without a lost in between.
  caf::reacts_to<elected_atom, uint64_t>,
  /// Contender -> listener: this node stopped leading (znode gone, session disconnected or
  /// expired, contender stopped). Sent only after an elected.
  caf::reacts_to<lost_atom>>;

/// What a detector reports to (HTTP redirects, agents and schedulers finding the master).
using leader_listener = caf::typed_actor<
  /// Detector -> listener: the leader changed; its data (MasterInfo JSON) or nullopt when none
  /// leads. Sent once for the first observation, then only on changes.
  caf::reacts_to<leader_atom, std::optional<std::string>>>;

/// A contender: may lead.
using contender_actor = caf::typed_actor<
  /// Owner -> contender: start contending with `data` (the MasterInfo as JSON), the payload the
  /// detectors see while this node leads. Idempotent; a later call replaces the data.
  caf::reacts_to<contend_atom, std::string>>;

/// A detector: knows who leads.
using detector_actor = caf::typed_actor<
  /// Anyone -> detector: the leader as last observed (nullopt: none or not yet known).
  /// Idempotent.
  caf::replies_to<leader_atom>::with<std::optional<std::string>>>;

/// The standalone contender with its test hooks.
using standalone_contender_actor = contender_actor::extend<
  /// Test -> contender: lead (again) once contending; every new term gets epoch + 1.
  /// Idempotent while leading. Contenders start appointed.
  caf::reacts_to<appoint_atom>,
  /// Test -> contender: stop leading (lost to the listener if it led). Idempotent.
  caf::reacts_to<depose_atom>>;

/// The standalone detector with its test hook.
using standalone_detector_actor = detector_actor::extend<
  /// Test -> detector: the leader is now `data` (reported to the listener if it changed).
  caf::reacts_to<leader_atom, std::optional<std::string>>>;

/// Where and how to reach ZooKeeper.
struct zk_config {
  /// Comma-separated host:port list, e.g. "127.0.0.1:2181,127.0.0.1:2182".
  std::string hosts;
  /// The election znode; members are its `member_` children. Created with its parents.
  std::string path = "/troupe/election";
  /// Requested session timeout (the server clamps it to [2, 20] × its tickTime by default).
  std::chrono::milliseconds session_timeout{2000};
  /// Contenders: the lowest member leads only while at least this many members contend (a
  /// master that finds itself alone — e.g. a misconfigured or half-deployed cluster — waits;
  /// a leader whose peers drop below the quorum steps down). 1 = no such condition.
  size_t quorum = 1;
};

/// True when `text` is a ZooKeeper URL (starts with "zk://").
bool is_zk_url(const std::string& text);

/// Parses "zk://host:port[,host:port...]/path" (the troupe/Mesos form). The election lives in
/// `<path>/leader`; `registry_root` tells where the registry goes (`<path>/registry`). Errors:
/// errc::invalid_argument naming the problem (missing hosts, bad port, path not absolute).
caf::expected<zk_config> parse_zk_url(const std::string& text);

/// The registry's root znode for a parsed URL's election path ("/a/leader" -> "/a/registry").
std::string registry_root(const zk_config& election);

/// Spawns a standalone contender: leads as soon as it is told to contend (epoch 1).
standalone_contender_actor spawn_standalone_contender(caf::actor_system& sys,
                                                      leadership_listener listener);

/// Spawns a standalone detector that reports `leader` at once.
standalone_detector_actor spawn_standalone_detector(caf::actor_system& sys,
                                                    std::optional<std::string> leader,
                                                    leader_listener listener);

/// Spawns a ZooKeeper contender (a detached actor: it makes blocking ZooKeeper calls). It opens
/// its session at once and contends after the first contend message. Stop it with
/// anon_send_exit: the session is closed, its znode vanishes, and a leading contender sends lost.
contender_actor spawn_zookeeper_contender(caf::actor_system& sys, zk_config cfg,
                                          leadership_listener listener);

/// Spawns a ZooKeeper detector (detached). Stop it with anon_send_exit.
detector_actor spawn_zookeeper_detector(caf::actor_system& sys, zk_config cfg,
                                        leader_listener listener);

} // namespace troupe::runtime::election
