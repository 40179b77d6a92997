// The agent as the master and executors see it: a wire contract between nodes. One-way
// messages; the agent answers the current sender. Messages from the master carry its epoch.
#pragma once

#include <caf/actor.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "troupe/messages/proto.hpp"

namespace troupe::protocols {

using agent_actor = caf::typed_actor<
  /// Master -> agent: registration accepted; the agent adopts the ID. Idempotent.
  caf::reacts_to<v1::AgentRegistered>,
  /// Master -> agent: reregistration accepted. Idempotent.
  caf::reacts_to<v1::AgentReregistered>,
  /// Master -> agent: liveness probe; answered with a Pong of the same seq.
  caf::reacts_to<v1::Ping>,
  /// Master -> agent: launch a validated task (command or custom executor). A task ID the
  /// agent already runs is ignored.
  caf::reacts_to<v1::RunTask>,
  /// Master -> agent: launch a validated task group, all tasks under one executor.
  caf::reacts_to<v1::RunTaskGroup>,
  /// Master -> agent: kill a task (SIGTERM, SIGKILL after the grace period); the outcome comes
  /// back as status updates. Idempotent; killing a task the agent does not know reports
  /// TASK_DROPPED (it never started here).
  caf::reacts_to<v1::KillTask>,
  /// Master -> agent: the framework acknowledged an update; the agent forgets it and sends the
  /// next one of that task. Idempotent.
  caf::reacts_to<v1::StatusUpdateAcknowledgement>,
  /// Master -> agent: the framework is gone; kill its executors and drop its state. Idempotent.
  caf::reacts_to<v1::ShutdownFramework>,
  /// Master -> agent: its total with dynamic reservations, to checkpoint. Idempotent.
  caf::reacts_to<v1::CheckpointResources>,
  /// Master -> agent: the agent was removed for good; it kills everything and stops.
  caf::reacts_to<v1::ShutdownAgent>,
  /// Master -> agent: a framework's message for one of its executors. Best effort.
  caf::reacts_to<v1::FrameworkToExecutorMessage>,
  /// Executor -> agent: subscribe, status updates and messages to the framework.
  caf::reacts_to<v1::executor::Call>,
  /// Executor -> agent: a call naming the executor's own handle to answer (the driver sends
  /// its Subscribe so). The agent answers the declared handle when CAF misattributes the
  /// connection (runtime/reply_address.hpp). Idempotent: every Subscribe is answered with
  /// Subscribed and the launches the executor has not yet reported on.
  caf::reacts_to<v1::executor::Call, caf::actor>>;

} // namespace troupe::protocols
