// The scheduler driver: what a framework author links to write a framework as a CAF actor.
//
//   auto driver = sdk::spawn_scheduler_driver(sys, cfg, [&](sdk::scheduler_driver_actor d) {
//     return sys.spawn(my_framework, d);   // a framework_actor
//   });
//
// The driver finds the master, subscribes (the master assigns the framework ID), and after a
// master or network failure reconnects and resubscribes with the same ID, backing off between
// attempts. It hands the framework typed events and acknowledges every status update after
// handing it on (so an update the framework never saw is resent by the agent). The framework
// sends calls - Accept, Decline, Kill, Reconcile, Revive, Suppress, Teardown, Shutdown,
// FrameworkMessage - to the driver, which fills in the framework ID. Calls made while not
// subscribed are answered with an Error event, never queued: after `subscribed` the framework
// reconciles, as every Mesos framework must.
#pragma once

#include <chrono>
#include <functional>

#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "troupe/messages/proto.hpp"
#include "troupe/runtime/backoff.hpp"
#include "troupe/runtime/election/election.hpp"
#include "troupe/runtime/supervision/supervisor.hpp"
#include "troupe/sdk/peer_locator.hpp"

namespace troupe::sdk {

/// Driver -> framework: the driver lost the master (it keeps trying to resubscribe).
using disconnected_atom = caf::atom_constant<caf::atom("disconn")>;

/// What a framework implements; every event comes from its driver.
using framework_actor = caf::typed_actor<
  /// (Re)subscribed; carries the framework ID to remember. Reconcile now.
  caf::reacts_to<v1::scheduler::Subscribed>,
  /// Offers, at most one per agent and role. Answer each with Accept or Decline, soon: an
  /// offer expires (Rescind) after the master's offer timeout.
  caf::reacts_to<v1::scheduler::Offers>,
  /// An offer is gone (agent lost, expired, ...); accepting it now gives TASK_DROPPED.
  caf::reacts_to<v1::scheduler::Rescind>,
  /// A task's status changed. The driver acknowledges it after delivering it.
  caf::reacts_to<v1::scheduler::Update>,
  /// A message from one of the framework's executors.
  caf::reacts_to<v1::scheduler::ExecutorMessage>,
  /// An agent or executor failed.
  caf::reacts_to<v1::scheduler::Failure>,
  /// The master refused a call (or the driver could not send one); the text says why. With
  /// `removed` set the master removed the framework (its failover timeout passed): the driver
  /// stops resubscribing with that ID; end, or start a new driver without it.
  caf::reacts_to<v1::scheduler::Error>,
  /// The driver lost the master; it resubscribes by itself and then sends Subscribed again.
  caf::reacts_to<disconnected_atom>>;

using scheduler_driver_actor = caf::typed_actor<
  /// Framework -> driver: a call; the driver sets framework_id and sends it to the master.
  /// Subscribe calls are the driver's own business and are refused.
  caf::reacts_to<v1::scheduler::Call>,
  /// Master -> driver: events (the wire side; protocols::scheduler_actor).
  caf::reacts_to<v1::scheduler::Event>,
  /// Leader connector -> driver: this master leads now (HA); the driver subscribes there.
  /// Ignored when its epoch is older than the newest the driver has seen.
  caf::reacts_to<runtime::election::leader_atom, caf::actor, v1::MasterInfo>>;

struct scheduler_driver_config {
  v1::FrameworkInfo framework;   ///< name, user, roles, failover_timeout; id for a failover
  peer_locator master;           ///< where the master is
  runtime::exponential_backoff reconnect{std::chrono::milliseconds{200},
                                         std::chrono::seconds{10}, 2.0};
  caf::timespan subscribe_timeout = std::chrono::seconds{5}; ///< resend Subscribe after this
  double heartbeat_misses = 3.0; ///< heartbeat intervals of silence before reconnecting
  bool auto_acknowledge = true;  ///< acknowledge updates after delivering them (stale stream
                                 ///< updates after a task ended are always acknowledged and
                                 ///< never handed on: sdk/update_guard.hpp)
  /// How the driver restarts a framework actor that crashed (see spawn_scheduler_driver);
  /// max_restarts = 0: never (the driver ends with it).
  runtime::supervisor_config framework_restarts = default_framework_restarts();

  /// 1 s doubling to 30 s, at most 3 restarts within 5 minutes.
  static runtime::supervisor_config default_framework_restarts();
};

/// Spawns the driver and, through `make_framework`, the framework it drives, linked to it.
///
/// Supervision: the framework ending normally ends the driver (and its subscription lapses
/// into the failover timeout). The framework crashing (an abnormal exit) is restarted by the
/// driver after `framework_restarts`' backoff, through `make_framework` again, and handed the
/// last Subscribed event, so it reconciles and carries on under the same framework ID: what
/// it kept in memory is lost (frameworks persist what they must not repeat). Meanwhile offers
/// are declined at once (no hoarding) and status updates are neither handed on nor
/// acknowledged (the agent resends them). Past the intensity the driver ends with
/// errc::supervisor_gave_up. The driver ending (stopped, or crashed) ends the framework.
scheduler_driver_actor
spawn_scheduler_driver(caf::actor_system& sys, scheduler_driver_config cfg,
                       std::function<framework_actor(scheduler_driver_actor)> make_framework);

} // namespace troupe::sdk
