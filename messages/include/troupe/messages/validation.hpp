// Validation of messages received from peers. Each function returns an empty error when the
// message is acceptable, else an errc::invalid_message (or invalid_resources) error whose text
// names the offending field. Handlers run these before any logic (DESIGN.md §4).
#pragma once

#include <string_view>

#include <caf/error.hpp>

#include "troupe/messages/proto.hpp"
#include "troupe/messages/resources.hpp"

namespace troupe {

/// An identifier value: non-empty, at most 255 bytes, no '/', whitespace or control
/// characters, not "." or "..". `what` names the field in the error ("task_id").
caf::error validate_id_value(std::string_view what, std::string_view value);

/// A framework ID (validate_id_value with what = "framework_id").
caf::error validate(const v1::FrameworkID& id);
/// An agent ID (what = "agent_id").
caf::error validate(const v1::AgentID& id);
/// A task ID (what = "task_id").
caf::error validate(const v1::TaskID& id);
/// An executor ID (what = "executor_id").
caf::error validate(const v1::ExecutorID& id);
/// An offer ID (what = "offer_id").
caf::error validate(const v1::OfferID& id);

/// A command: a non-empty command line or program path; variables with valid names.
caf::error validate(const v1::CommandInfo& cmd);

/// A framework description: name, roles (valid, unique), failover_timeout (finite, >= 0).
caf::error validate(const v1::FrameworkInfo& info);

/// An agent description: hostname, resources (valid per `schema`).
caf::error validate(const v1::AgentInfo& info, const resource_schema& schema = {});

/// A task description on its own (no offer context): ID, exactly one of command/executor,
/// non-empty valid resources, health check and kill policy well formed.
caf::error validate(const v1::TaskInfo& task, const resource_schema& schema = {});

/// A task status: valid task ID, a state, a source.
caf::error validate(const v1::TaskStatus& status);

/// A status update: framework ID, valid status with a uuid.
caf::error validate(const v1::StatusUpdate& update);

/// An offer operation: its type matches the field that is set, and the payload is valid.
caf::error validate(const v1::Offer::Operation& op, const resource_schema& schema = {});

/// An operation's shape only: a known type with its payload set (and, for groups, an executor
/// ID); the tasks inside are not looked at (the master validates each one on its own).
caf::error validate_shape(const v1::Offer::Operation& op);

// -- master <-> agent ------------------------------------------------------------------

/// First registration: a valid agent description without an ID.
caf::error validate(const v1::RegisterAgent& msg, const resource_schema& schema = {});

/// Reregistration: a valid agent description with its ID; reported tasks with valid IDs,
/// framework IDs and states; valid executors and frameworks.
caf::error validate(const v1::ReregisterAgent& msg, const resource_schema& schema = {});

/// A task to run: a framework with an ID and a valid task.
caf::error validate(const v1::RunTask& msg, const resource_schema& schema = {});

/// A task group to run: a framework with an ID, an executor ID, at least one valid task.
caf::error validate(const v1::RunTaskGroup& msg, const resource_schema& schema = {});

/// A kill: valid framework and task IDs.
caf::error validate(const v1::KillTask& msg);

/// An acknowledgement: valid agent, framework and task IDs and a uuid.
caf::error validate(const v1::StatusUpdateAcknowledgement& msg);

/// A framework shutdown: a valid framework ID.
caf::error validate(const v1::ShutdownFramework& msg);

// -- scheduler and executor APIs ---------------------------------------------------------

/// A scheduler call envelope: one call set, framework ID present except for Subscribe, and
/// the payload valid (Accept/Decline name offers, Acknowledge carries a uuid, …).
caf::error validate(const v1::scheduler::Call& call);

/// An executor call envelope: executor and framework IDs, one call set, payload valid.
caf::error validate(const v1::executor::Call& call);

} // namespace troupe
