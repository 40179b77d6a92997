// Builders for the messages handlers create most often. Handlers call these instead of filling
// protobufs field by field. None reads a clock: callers pass timestamps (DESIGN.md §5).
#pragma once

#include <caf/timespan.hpp>

#include <optional>
#include <string>
#include <vector>

#include "troupe/messages/proto.hpp"
#include "troupe/messages/resources.hpp"

namespace troupe {

// -- identifiers -------------------------------------------------------------------------

/// A framework ID with `value`.
v1::FrameworkID make_framework_id(std::string value);
/// An agent ID with `value`.
v1::AgentID make_agent_id(std::string value);
/// A task ID with `value`.
v1::TaskID make_task_id(std::string value);
/// An executor ID with `value`.
v1::ExecutorID make_executor_id(std::string value);
/// An offer ID with `value`.
v1::OfferID make_offer_id(std::string value);
/// A container ID, nested under `parent` when given.
v1::ContainerID make_container_id(std::string value,
                                  const std::optional<v1::ContainerID>& parent = std::nullopt);

// -- descriptions ------------------------------------------------------------------------

/// A command run through /bin/sh -c.
v1::CommandInfo make_shell_command(std::string command_line);

/// A command exec'd directly; argv[0] included in `arguments`.
v1::CommandInfo make_exec_command(std::string path, std::vector<std::string> arguments);

/// A framework description subscribing to `roles` (empty = "*").
v1::FrameworkInfo make_framework_info(std::string name, std::string user,
                                      std::vector<std::string> roles = {},
                                      double failover_timeout_seconds = 0);

/// An agent description with its total resources.
v1::AgentInfo make_agent_info(std::string hostname, uint32_t actor_port, const resources& total);

/// A command task on `agent` consuming `res`.
v1::TaskInfo make_task_info(const v1::TaskID& id, std::string name, const v1::AgentID& agent,
                            const resources& res, v1::CommandInfo command);

// -- status updates ----------------------------------------------------------------------

/// A task status. `timestamp` is seconds since the Unix epoch, from the caller's clock.
v1::TaskStatus make_task_status(const v1::TaskID& task, v1::TaskState state,
                                v1::TaskStatus::Source source, double timestamp,
                                v1::TaskStatus::Reason reason = v1::TaskStatus::REASON_UNKNOWN,
                                std::string message = {});

/// A status update carrying `status`, identified by `uuid` (copied into status.uuid).
v1::StatusUpdate make_status_update(const v1::FrameworkID& framework, const v1::AgentID& agent,
                                    const v1::ExecutorID& executor, v1::TaskStatus status,
                                    std::string uuid);

/// The acknowledgement of `update`, stamped with the master's epoch.
v1::StatusUpdateAcknowledgement make_acknowledgement(const v1::StatusUpdate& update,
                                                     uint64_t epoch);

/// The grace period `policy` gives between SIGTERM and SIGKILL, or `fallback` when it sets
/// none (grace_period_seconds <= 0).
caf::timespan kill_grace(const v1::KillPolicy& policy, caf::timespan fallback);

// -- offers and operations ---------------------------------------------------------------

/// An offer of `res` on `agent` to `framework` for `role`.
v1::Offer make_offer(const v1::OfferID& id, const v1::FrameworkID& framework,
                     const v1::AgentID& agent, std::string hostname, const resources& res,
                     std::string role);

/// A LAUNCH operation of `tasks`.
v1::Offer::Operation make_launch(std::vector<v1::TaskInfo> tasks);
/// A LAUNCH_GROUP operation: `tasks` under `executor`, all or nothing.
v1::Offer::Operation make_launch_group(v1::ExecutorInfo executor, std::vector<v1::TaskInfo> tasks);
/// A RESERVE operation of `res` (carrying their new reservations).
v1::Offer::Operation make_reserve(const resources& res);
/// An UNRESERVE operation of `res`.
v1::Offer::Operation make_unreserve(const resources& res);

/// Decline filters withholding the resources for `refuse_seconds`.
v1::Filters make_filters(double refuse_seconds);

// -- envelopes ---------------------------------------------------------------------------

/// Wraps one scheduler call into the Call envelope of the HTTP API.
v1::scheduler::Call make_call(const v1::FrameworkID& framework, v1::scheduler::Subscribe x);
v1::scheduler::Call make_call(const v1::FrameworkID& framework, v1::scheduler::Teardown x);
v1::scheduler::Call make_call(const v1::FrameworkID& framework, v1::scheduler::Accept x);
v1::scheduler::Call make_call(const v1::FrameworkID& framework, v1::scheduler::Decline x);
v1::scheduler::Call make_call(const v1::FrameworkID& framework, v1::scheduler::Revive x);
v1::scheduler::Call make_call(const v1::FrameworkID& framework, v1::scheduler::Suppress x);
v1::scheduler::Call make_call(const v1::FrameworkID& framework, v1::scheduler::Kill x);
v1::scheduler::Call make_call(const v1::FrameworkID& framework, v1::scheduler::Shutdown x);
v1::scheduler::Call make_call(const v1::FrameworkID& framework, v1::scheduler::Acknowledge x);
v1::scheduler::Call make_call(const v1::FrameworkID& framework, v1::scheduler::Reconcile x);
v1::scheduler::Call make_call(const v1::FrameworkID& framework,
                              v1::scheduler::FrameworkMessage x);

/// Wraps one scheduler event into the Event envelope of the HTTP API.
v1::scheduler::Event make_event(v1::scheduler::Subscribed x);
v1::scheduler::Event make_event(v1::scheduler::Offers x);
v1::scheduler::Event make_event(v1::scheduler::Rescind x);
v1::scheduler::Event make_event(v1::scheduler::Update x);
v1::scheduler::Event make_event(v1::scheduler::ExecutorMessage x);
v1::scheduler::Event make_event(v1::scheduler::Failure x);
v1::scheduler::Event make_event(v1::scheduler::Error x);
v1::scheduler::Event make_event(v1::scheduler::Heartbeat x);

} // namespace troupe
