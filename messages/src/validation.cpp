#include "troupe/messages/validation.hpp"

#include <cctype>
#include <cmath>
#include <set>

#include "troupe/messages/errc.hpp"

namespace troupe {

namespace {

caf::error invalid(std::string_view what, const std::string& why) {
  return make_error(errc::invalid_message, std::string{what} + ": " + why);
}

// Prefixes the text of a nested validation error with the enclosing field.
caf::error within(std::string_view what, caf::error err) {
  if (!err)
    return err;
  return make_error(static_cast<errc>(err.code()), std::string{what} + "." + error_message(err));
}

bool finite_non_negative(double x) {
  return std::isfinite(x) && x >= 0;
}

caf::error validate_resources(std::string_view what,
                              const google::protobuf::RepeatedPtrField<v1::Resource>& list,
                              const resource_schema& schema, bool required) {
  if (required && list.empty())
    return invalid(what, "must not be empty");
  auto parsed = resources::from_proto(list, schema);
  if (!parsed)
    return make_error(errc::invalid_resources, std::string{what} + ": "
                                                 + error_message(parsed.error()));
  return caf::none;
}

caf::error validate_health_check(const v1::HealthCheck& hc) {
  switch (hc.type()) {
    case v1::HealthCheck::COMMAND:
      if (auto err = validate(hc.command()))
        return within("command", std::move(err));
      break;
    case v1::HealthCheck::HTTP:
      if (hc.http().port() == 0 || hc.http().port() > 65535)
        return invalid("http.port", "must be in 1..65535");
      if (!hc.http().scheme().empty() && hc.http().scheme() != "http"
          && hc.http().scheme() != "https")
        return invalid("http.scheme", "must be http or https");
      break;
    case v1::HealthCheck::TCP:
      if (hc.tcp().port() == 0 || hc.tcp().port() > 65535)
        return invalid("tcp.port", "must be in 1..65535");
      break;
    default: return invalid("type", "must be COMMAND, HTTP or TCP");
  }
  for (auto [name, value] : {std::pair{"delay_seconds", hc.delay_seconds()},
                             std::pair{"interval_seconds", hc.interval_seconds()},
                             std::pair{"timeout_seconds", hc.timeout_seconds()},
                             std::pair{"grace_period_seconds", hc.grace_period_seconds()}})
    if (!finite_non_negative(value))
      return invalid(name, "must be finite and >= 0");
  return caf::none;
}

} // namespace

caf::error validate_id_value(std::string_view what, std::string_view value) {
  if (value.empty())
    return invalid(what, "must not be empty");
  if (value.size() > 255)
    return invalid(what, "is longer than 255 bytes");
  if (value == "." || value == "..")
    return invalid(what, "must not be '.' or '..'");
  for (char c : value)
    if (c == '/' || std::isspace(static_cast<unsigned char>(c))
        || std::iscntrl(static_cast<unsigned char>(c)))
      return invalid(what, "'" + std::string{value} + "' contains '/', whitespace or a control character");
  return caf::none;
}

caf::error validate(const v1::FrameworkID& id) {
  return validate_id_value("framework_id", id.value());
}
caf::error validate(const v1::AgentID& id) {
  return validate_id_value("agent_id", id.value());
}
caf::error validate(const v1::TaskID& id) {
  return validate_id_value("task_id", id.value());
}
caf::error validate(const v1::ExecutorID& id) {
  return validate_id_value("executor_id", id.value());
}
caf::error validate(const v1::OfferID& id) {
  return validate_id_value("offer_id", id.value());
}

caf::error validate(const v1::CommandInfo& cmd) {
  if (cmd.value().empty())
    return invalid("command.value", cmd.shell() ? "shell command line is empty"
                                                : "program path is empty");
  for (const auto& var : cmd.environment().variables())
    if (var.name().empty() || var.name().find('=') != std::string::npos)
      return invalid("command.environment", "variable name '" + var.name() + "' is empty or contains '='");
  return caf::none;
}

caf::error validate(const v1::FrameworkInfo& info) {
  if (info.name().empty())
    return invalid("framework_info.name", "must not be empty");
  if (info.has_id())
    if (auto err = validate(info.id()))
      return within("framework_info", std::move(err));
  std::set<std::string> seen;
  for (const auto& role : info.roles()) {
    if (auto err = validate_role(role))
      return invalid("framework_info.roles", error_message(err));
    if (!seen.insert(role).second)
      return invalid("framework_info.roles", "role '" + role + "' listed twice");
  }
  if (!finite_non_negative(info.failover_timeout()))
    return invalid("framework_info.failover_timeout", "must be finite and >= 0");
  return caf::none;
}

caf::error validate(const v1::AgentInfo& info, const resource_schema& schema) {
  if (info.hostname().empty())
    return invalid("agent_info.hostname", "must not be empty");
  if (info.has_id())
    if (auto err = validate(info.id()))
      return within("agent_info", std::move(err));
  return validate_resources("agent_info.resources", info.resources(), schema, true);
}

caf::error validate(const v1::TaskInfo& task, const resource_schema& schema) {
  if (auto err = validate(task.task_id()))
    return err;
  auto where = "task " + task.task_id().value();
  if (task.has_command() == task.has_executor())
    return invalid(where, "must set exactly one of command and executor");
  if (task.has_command())
    if (auto err = validate(task.command()))
      return within(where, std::move(err));
  if (task.has_executor()) {
    if (auto err = validate(task.executor().executor_id()))
      return within(where, std::move(err));
    if (task.executor().type() == v1::ExecutorInfo::CUSTOM)
      if (auto err = validate(task.executor().command()))
        return within(where + ".executor", std::move(err));
  }
  if (auto err = validate_resources(where + ".resources", task.resources(), schema, true))
    return err;
  if (task.has_health_check())
    if (auto err = validate_health_check(task.health_check()))
      return within(where + ".health_check", std::move(err));
  if (!finite_non_negative(task.kill_policy().grace_period_seconds()))
    return invalid(where + ".kill_policy.grace_period_seconds", "must be finite and >= 0");
  return caf::none;
}

caf::error validate(const v1::TaskStatus& status) {
  if (auto err = validate(status.task_id()))
    return within("status", std::move(err));
  if (status.state() == v1::TASK_UNKNOWN_STATE || !v1::TaskState_IsValid(status.state()))
    return invalid("status.state", "must be set");
  if (status.source() == v1::TaskStatus::SOURCE_UNKNOWN)
    return invalid("status.source", "must be set");
  return caf::none;
}

caf::error validate(const v1::StatusUpdate& update) {
  if (auto err = validate(update.framework_id()))
    return within("update", std::move(err));
  if (auto err = validate(update.status()))
    return within("update", std::move(err));
  if (update.status().uuid().empty())
    return invalid("update.status.uuid", "must not be empty");
  return caf::none;
}

caf::error validate_shape(const v1::Offer::Operation& op) {
  using op_t = v1::Offer::Operation;
  switch (op.type()) {
    case op_t::LAUNCH:
      if (!op.has_launch() || op.launch().task_infos().empty())
        return invalid("operation.launch", "has no tasks");
      return caf::none;
    case op_t::LAUNCH_GROUP:
      if (!op.has_launch_group() || op.launch_group().task_group().tasks().empty())
        return invalid("operation.launch_group", "has no tasks");
      if (auto err = validate(op.launch_group().executor().executor_id()))
        return within("operation.launch_group.executor", std::move(err));
      return caf::none;
    case op_t::RESERVE:
    case op_t::UNRESERVE:
      return caf::none;
    default: return invalid("operation.type", "must be LAUNCH, LAUNCH_GROUP, RESERVE or UNRESERVE");
  }
}

caf::error validate(const v1::Offer::Operation& op, const resource_schema& schema) {
  using op_t = v1::Offer::Operation;
  switch (op.type()) {
    case op_t::LAUNCH:
      if (!op.has_launch() || op.launch().task_infos().empty())
        return invalid("operation.launch", "has no tasks");
      for (const auto& task : op.launch().task_infos())
        if (auto err = validate(task, schema))
          return within("operation.launch", std::move(err));
      return caf::none;
    case op_t::LAUNCH_GROUP:
      if (!op.has_launch_group() || op.launch_group().task_group().tasks().empty())
        return invalid("operation.launch_group", "has no tasks");
      if (auto err = validate(op.launch_group().executor().executor_id()))
        return within("operation.launch_group.executor", std::move(err));
      for (const auto& task : op.launch_group().task_group().tasks())
        if (auto err = validate(task, schema))
          return within("operation.launch_group", std::move(err));
      return caf::none;
    case op_t::RESERVE:
      return validate_resources("operation.reserve.resources", op.reserve().resources(), schema,
                                true);
    case op_t::UNRESERVE:
      return validate_resources("operation.unreserve.resources", op.unreserve().resources(),
                                schema, true);
    default: return invalid("operation.type", "must be LAUNCH, LAUNCH_GROUP, RESERVE or UNRESERVE");
  }
}

caf::error validate(const v1::RegisterAgent& msg, const resource_schema& schema) {
  if (msg.agent().has_id())
    return invalid("register_agent.agent.id", "must be unset on first registration");
  return validate(msg.agent(), schema);
}

caf::error validate(const v1::ReregisterAgent& msg, const resource_schema& schema) {
  if (!msg.agent().has_id())
    return invalid("reregister_agent.agent.id", "must be set");
  if (auto err = validate(msg.agent(), schema))
    return err;
  for (const auto& task : msg.tasks()) {
    if (auto err = validate(task.task_id()))
      return within("reregister_agent.tasks", std::move(err));
    if (auto err = validate(task.framework_id()))
      return within("reregister_agent.tasks", std::move(err));
    if (task.state() == v1::TASK_UNKNOWN_STATE || task.state() == v1::TASK_UNKNOWN
        || !v1::TaskState_IsValid(task.state()))
      return invalid("reregister_agent.tasks." + task.task_id().value() + ".state",
                     "must be a task state");
  }
  for (const auto& executor : msg.executors())
    if (auto err = validate(executor.executor_id()))
      return within("reregister_agent.executors", std::move(err));
  for (const auto& framework : msg.frameworks())
    if (auto err = validate(framework))
      return within("reregister_agent", std::move(err));
  return caf::none;
}

caf::error validate(const v1::RunTask& msg, const resource_schema& schema) {
  if (!msg.framework().has_id())
    return invalid("run_task.framework.id", "must be set");
  if (auto err = validate(msg.framework()))
    return within("run_task", std::move(err));
  return within("run_task", validate(msg.task(), schema));
}

caf::error validate(const v1::RunTaskGroup& msg, const resource_schema& schema) {
  if (!msg.framework().has_id())
    return invalid("run_task_group.framework.id", "must be set");
  if (auto err = validate(msg.framework()))
    return within("run_task_group", std::move(err));
  if (auto err = validate(msg.executor().executor_id()))
    return within("run_task_group.executor", std::move(err));
  if (msg.task_group().tasks().empty())
    return invalid("run_task_group.task_group", "has no tasks");
  for (const auto& task : msg.task_group().tasks())
    if (auto err = validate(task, schema))
      return within("run_task_group", std::move(err));
  return caf::none;
}

caf::error validate(const v1::KillTask& msg) {
  if (auto err = validate(msg.framework_id()))
    return within("kill_task", std::move(err));
  return within("kill_task", validate(msg.task_id()));
}

caf::error validate(const v1::StatusUpdateAcknowledgement& msg) {
  if (auto err = validate(msg.agent_id()))
    return within("acknowledgement", std::move(err));
  if (auto err = validate(msg.framework_id()))
    return within("acknowledgement", std::move(err));
  if (auto err = validate(msg.task_id()))
    return within("acknowledgement", std::move(err));
  if (msg.uuid().empty())
    return invalid("acknowledgement.uuid", "must not be empty");
  return caf::none;
}

caf::error validate(const v1::ShutdownFramework& msg) {
  return within("shutdown_framework", validate(msg.framework_id()));
}

namespace {

caf::error validate_roles(std::string_view what,
                          const google::protobuf::RepeatedPtrField<std::string>& roles) {
  for (const auto& role : roles)
    if (auto err = validate_role(role))
      return invalid(what, error_message(err));
  return caf::none;
}

caf::error validate_offer_ids(std::string_view what,
                              const google::protobuf::RepeatedPtrField<v1::OfferID>& ids) {
  if (ids.empty())
    return invalid(what, "names no offer");
  for (const auto& id : ids)
    if (auto err = validate(id))
      return within(what, std::move(err));
  return caf::none;
}

caf::error validate_payload(const v1::scheduler::Call& call) {
  using call_t = v1::scheduler::Call;
  switch (call.call_case()) {
    case call_t::kAccept:
      if (auto err = validate_offer_ids("accept.offer_ids", call.accept().offer_ids()))
        return err;
      // Only the operations' shape: each task is validated on its own by the master's launch
      // plan, so a bad task gets its own TASK_ERROR and the good ones still launch.
      for (const auto& op : call.accept().operations())
        if (auto err = validate_shape(op))
          return within("accept", std::move(err));
      return caf::none;
    case call_t::kDecline:
      return validate_offer_ids("decline.offer_ids", call.decline().offer_ids());
    case call_t::kRevive:
      return validate_roles("revive.roles", call.revive().roles());
    case call_t::kSuppress:
      return validate_roles("suppress.roles", call.suppress().roles());
    case call_t::kKill:
      return within("kill", validate(call.kill().task_id()));
    case call_t::kShutdown:
      if (auto err = validate(call.shutdown().executor_id()))
        return within("shutdown", std::move(err));
      return within("shutdown", validate(call.shutdown().agent_id()));
    case call_t::kAcknowledge:
      if (auto err = validate(call.acknowledge().agent_id()))
        return within("acknowledge", std::move(err));
      if (auto err = validate(call.acknowledge().task_id()))
        return within("acknowledge", std::move(err));
      if (call.acknowledge().uuid().empty())
        return invalid("acknowledge.uuid", "must not be empty");
      return caf::none;
    case call_t::kReconcile:
      for (const auto& task : call.reconcile().tasks()) {
        if (auto err = validate(task.task_id()))
          return within("reconcile", std::move(err));
        if (task.has_agent_id())
          if (auto err = validate(task.agent_id()))
            return within("reconcile", std::move(err));
      }
      return caf::none;
    case call_t::kMessage:
      if (auto err = validate(call.message().agent_id()))
        return within("message", std::move(err));
      return within("message", validate(call.message().executor_id()));
    default: // Teardown has no payload; Subscribe is checked by the caller.
      return caf::none;
  }
}

} // namespace

caf::error validate(const v1::scheduler::Call& call) {
  using call_t = v1::scheduler::Call;
  if (call.call_case() == call_t::CALL_NOT_SET)
    return invalid("call", "no call is set");
  if (call.call_case() == call_t::kSubscribe)
    return validate(call.subscribe().framework_info());
  if (auto err = validate(call.framework_id()))
    return within("call", std::move(err));
  return validate_payload(call);
}

caf::error validate(const v1::executor::Call& call) {
  using call_t = v1::executor::Call;
  if (auto err = validate(call.executor_id()))
    return within("call", std::move(err));
  if (auto err = validate(call.framework_id()))
    return within("call", std::move(err));
  switch (call.call_case()) {
    case call_t::CALL_NOT_SET:
      return invalid("call", "no call is set");
    case call_t::kUpdate:
      if (auto err = validate(call.update().status()))
        return within("update", std::move(err));
      if (call.update().status().uuid().empty())
        return invalid("update.status.uuid", "must not be empty");
      return caf::none;
    case call_t::kSubscribe:
      for (const auto& task : call.subscribe().unacknowledged_tasks())
        if (auto err = validate(task.task_id()))
          return within("subscribe.unacknowledged_tasks", std::move(err));
      for (const auto& update : call.subscribe().unacknowledged_updates())
        if (auto err = validate(update.status()))
          return within("subscribe.unacknowledged_updates", std::move(err));
      return caf::none;
    default:
      return caf::none;
  }
}

} // namespace troupe
