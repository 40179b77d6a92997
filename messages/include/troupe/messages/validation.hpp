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

caf::error validate(const v1::FrameworkID& id);
caf::error validate(const v1::AgentID& id);
caf::error validate(const v1::TaskID& id);
caf::error validate(const v1::ExecutorID& id);
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

/// A scheduler call envelope: one call set, framework ID present except for Subscribe.
caf::error validate(const v1::scheduler::Call& call);

} // namespace troupe
