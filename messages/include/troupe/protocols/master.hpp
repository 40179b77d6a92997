// The master as agents, schedulers and operators see it: a wire contract between nodes. Every message is
// one-way; the master answers by sending a message of its own to the current sender (the
// agent's or scheduler's actor, or in simulation its proxy). Senders retry; every handler is
// safe to run twice.
#pragma once

#include <caf/actor.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "troupe/messages/proto.hpp"

namespace troupe::protocols {

using master_actor = caf::typed_actor<
  /// Agent -> master: first registration; answered with AgentRegistered (the master assigns
  /// the ID). A retry from the same host:port before the answer arrived gets the same ID.
  caf::reacts_to<v1::RegisterAgent>,
  /// Agent -> master: reregistration with its ID, tasks and executors (after an agent or
  /// master restart, or after being unreachable); answered with AgentReregistered, or with
  /// ShutdownAgent when the agent was removed for good. Idempotent.
  caf::reacts_to<v1::ReregisterAgent>,
  /// Agent -> master: (re)registration naming the agent's own handle, the one the master
  /// answers (and keeps) when CAF misattributes the agent's connection (see
  /// runtime/reply_address.hpp). The agent sends its registrations so.
  caf::reacts_to<v1::RegisterAgent, caf::actor>,
  caf::reacts_to<v1::ReregisterAgent, caf::actor>,
  /// Agent -> master: answer to a Ping. Duplicates and late answers are harmless.
  caf::reacts_to<v1::Pong>,
  /// Agent -> master: a task's status update, relayed to its framework; the framework's
  /// acknowledgement comes back as StatusUpdateAcknowledgement. Idempotent per uuid (the
  /// framework may see a resent update twice and must acknowledge it again).
  caf::reacts_to<v1::StatusUpdate>,
  /// Agent -> master: an executor's message to its framework. Best effort.
  caf::reacts_to<v1::ExecutorToFrameworkMessage>,
  /// Scheduler -> master: every scheduler call (subscribe, accept, decline, kill, ...), the
  /// same envelope the HTTP API takes. Answered with scheduler Events; a malformed call gets
  /// Event.error and changes nothing.
  caf::reacts_to<v1::scheduler::Call>,
  /// Scheduler -> master: a call naming the scheduler's own handle (the SDK's driver sends
  /// every call so); the master answers, and identifies the framework's scheduler by, that
  /// handle when CAF misattributes the connection (runtime/reply_address.hpp).
  caf::reacts_to<v1::scheduler::Call, caf::actor>,
  /// Operator (the troupe CLI) -> master: read or set role weights and quotas. Updates are
  /// validated as a whole (a malformed one changes nothing: errc::invalid_argument), persisted
  /// in the registry, then applied; the answer lists what is in force. errc::unavailable from
  /// a master that does not serve (not leading, or still recovering).
  caf::replies_to<v1::OperatorCall>::with<v1::OperatorResponse>>;

} // namespace troupe::protocols
