#include "troupe/messages/builders.hpp"

namespace troupe {

namespace {

template <class Id>
Id make_id(std::string value) {
  Id id;
  id.set_value(std::move(value));
  return id;
}

} // namespace

v1::FrameworkID make_framework_id(std::string value) {
  return make_id<v1::FrameworkID>(std::move(value));
}

v1::AgentID make_agent_id(std::string value) {
  return make_id<v1::AgentID>(std::move(value));
}

v1::TaskID make_task_id(std::string value) {
  return make_id<v1::TaskID>(std::move(value));
}

v1::ExecutorID make_executor_id(std::string value) {
  return make_id<v1::ExecutorID>(std::move(value));
}

v1::OfferID make_offer_id(std::string value) {
  return make_id<v1::OfferID>(std::move(value));
}

v1::ContainerID make_container_id(std::string value,
                                  const std::optional<v1::ContainerID>& parent) {
  auto id = make_id<v1::ContainerID>(std::move(value));
  if (parent)
    *id.mutable_parent() = *parent;
  return id;
}

v1::CommandInfo make_shell_command(std::string command_line) {
  v1::CommandInfo cmd;
  cmd.set_shell(true);
  cmd.set_value(std::move(command_line));
  return cmd;
}

v1::CommandInfo make_exec_command(std::string path, std::vector<std::string> arguments) {
  v1::CommandInfo cmd;
  cmd.set_shell(false);
  cmd.set_value(std::move(path));
  for (auto& arg : arguments)
    cmd.add_arguments(std::move(arg));
  return cmd;
}

v1::FrameworkInfo make_framework_info(std::string name, std::string user,
                                      std::vector<std::string> roles,
                                      double failover_timeout_seconds) {
  v1::FrameworkInfo info;
  info.set_name(std::move(name));
  info.set_user(std::move(user));
  for (auto& role : roles)
    info.add_roles(std::move(role));
  info.set_failover_timeout(failover_timeout_seconds);
  info.set_checkpoint(true);
  return info;
}

v1::AgentInfo make_agent_info(std::string hostname, uint32_t actor_port, const resources& total) {
  v1::AgentInfo info;
  info.set_hostname(std::move(hostname));
  info.set_actor_port(actor_port);
  total.to_proto(info.mutable_resources());
  return info;
}

v1::TaskInfo make_task_info(const v1::TaskID& id, std::string name, const v1::AgentID& agent,
                            const resources& res, v1::CommandInfo command) {
  v1::TaskInfo task;
  *task.mutable_task_id() = id;
  task.set_name(std::move(name));
  *task.mutable_agent_id() = agent;
  res.to_proto(task.mutable_resources());
  *task.mutable_command() = std::move(command);
  return task;
}

v1::TaskStatus make_task_status(const v1::TaskID& task, v1::TaskState state,
                                v1::TaskStatus::Source source, double timestamp,
                                v1::TaskStatus::Reason reason, std::string message) {
  v1::TaskStatus status;
  *status.mutable_task_id() = task;
  status.set_state(state);
  status.set_source(source);
  status.set_timestamp(timestamp);
  status.set_reason(reason);
  status.set_message(std::move(message));
  return status;
}

v1::StatusUpdate make_status_update(const v1::FrameworkID& framework, const v1::AgentID& agent,
                                    const v1::ExecutorID& executor, v1::TaskStatus status,
                                    std::string uuid) {
  v1::StatusUpdate update;
  *update.mutable_framework_id() = framework;
  *update.mutable_agent_id() = agent;
  if (!executor.value().empty())
    *update.mutable_executor_id() = executor;
  status.set_uuid(std::move(uuid));
  *status.mutable_agent_id() = agent;
  *update.mutable_status() = std::move(status);
  return update;
}

v1::StatusUpdateAcknowledgement make_acknowledgement(const v1::StatusUpdate& update,
                                                     uint64_t epoch) {
  v1::StatusUpdateAcknowledgement ack;
  *ack.mutable_agent_id() = update.agent_id();
  *ack.mutable_framework_id() = update.framework_id();
  *ack.mutable_task_id() = update.status().task_id();
  ack.set_uuid(update.status().uuid());
  ack.set_epoch(epoch);
  return ack;
}

v1::Offer make_offer(const v1::OfferID& id, const v1::FrameworkID& framework,
                     const v1::AgentID& agent, std::string hostname, const resources& res,
                     std::string role) {
  v1::Offer offer;
  *offer.mutable_id() = id;
  *offer.mutable_framework_id() = framework;
  *offer.mutable_agent_id() = agent;
  offer.set_hostname(std::move(hostname));
  res.to_proto(offer.mutable_resources());
  offer.set_allocation_role(std::move(role));
  return offer;
}

v1::Offer::Operation make_launch(std::vector<v1::TaskInfo> tasks) {
  v1::Offer::Operation op;
  op.set_type(v1::Offer::Operation::LAUNCH);
  for (auto& task : tasks)
    *op.mutable_launch()->add_task_infos() = std::move(task);
  return op;
}

v1::Offer::Operation make_launch_group(v1::ExecutorInfo executor,
                                       std::vector<v1::TaskInfo> tasks) {
  v1::Offer::Operation op;
  op.set_type(v1::Offer::Operation::LAUNCH_GROUP);
  *op.mutable_launch_group()->mutable_executor() = std::move(executor);
  for (auto& task : tasks)
    *op.mutable_launch_group()->mutable_task_group()->add_tasks() = std::move(task);
  return op;
}

v1::Offer::Operation make_reserve(const resources& res) {
  v1::Offer::Operation op;
  op.set_type(v1::Offer::Operation::RESERVE);
  res.to_proto(op.mutable_reserve()->mutable_resources());
  return op;
}

v1::Offer::Operation make_unreserve(const resources& res) {
  v1::Offer::Operation op;
  op.set_type(v1::Offer::Operation::UNRESERVE);
  res.to_proto(op.mutable_unreserve()->mutable_resources());
  return op;
}

v1::Filters make_filters(double refuse_seconds) {
  v1::Filters filters;
  filters.set_refuse_seconds(refuse_seconds);
  return filters;
}

#define TROUPE_MAKE_CALL(type, field)                                                    \
  v1::scheduler::Call make_call(const v1::FrameworkID& framework, v1::scheduler::type x) { \
    v1::scheduler::Call call;                                                            \
    if (!framework.value().empty())                                                      \
      *call.mutable_framework_id() = framework;                                          \
    *call.mutable_##field() = std::move(x);                                              \
    return call;                                                                         \
  }

TROUPE_MAKE_CALL(Subscribe, subscribe)
TROUPE_MAKE_CALL(Teardown, teardown)
TROUPE_MAKE_CALL(Accept, accept)
TROUPE_MAKE_CALL(Decline, decline)
TROUPE_MAKE_CALL(Revive, revive)
TROUPE_MAKE_CALL(Suppress, suppress)
TROUPE_MAKE_CALL(Kill, kill)
TROUPE_MAKE_CALL(Shutdown, shutdown)
TROUPE_MAKE_CALL(Acknowledge, acknowledge)
TROUPE_MAKE_CALL(Reconcile, reconcile)
TROUPE_MAKE_CALL(FrameworkMessage, message)

#define TROUPE_MAKE_EVENT(type, field)                                                   \
  v1::scheduler::Event make_event(v1::scheduler::type x) {                               \
    v1::scheduler::Event event;                                                          \
    *event.mutable_##field() = std::move(x);                                             \
    return event;                                                                        \
  }

TROUPE_MAKE_EVENT(Subscribed, subscribed)
TROUPE_MAKE_EVENT(Offers, offers)
TROUPE_MAKE_EVENT(Rescind, rescind)
TROUPE_MAKE_EVENT(Update, update)
TROUPE_MAKE_EVENT(ExecutorMessage, message)
TROUPE_MAKE_EVENT(Failure, failure)
TROUPE_MAKE_EVENT(Error, error)
TROUPE_MAKE_EVENT(Heartbeat, heartbeat)

caf::timespan kill_grace(const v1::KillPolicy& policy, caf::timespan fallback) {
  if (!(policy.grace_period_seconds() > 0))
    return fallback;
  return std::chrono::duration_cast<caf::timespan>(
    std::chrono::duration<double>(policy.grace_period_seconds()));
}

} // namespace troupe
