#include "troupe/master/launch_plan.hpp"

#include <set>

#include "troupe/messages/errc.hpp"
#include "troupe/messages/validation.hpp"

namespace troupe::master {

namespace {

// `res` with the innermost reservation of every entry dropped (what it was reserved from).
resources pop_reservation(const resources& res) {
  resources out;
  for (const auto& [key, value] : res.entries()) {
    auto k = key;
    if (!k.reservations.empty())
      k.reservations.pop_back();
    out.add(k, value);
  }
  return out;
}

bool is_child_or_same(const std::string& role, const std::string& of) {
  return role == of || (role.size() > of.size() && role.compare(0, of.size(), of) == 0
                        && role[of.size()] == '/');
}

struct planner {
  const v1::AgentID& agent;
  const std::function<bool(const v1::TaskID&)>& task_known;
  const resource_schema& schema;
  const accept_context& ctx;
  launch_plan plan;
  std::set<std::string> seen;

  // Checks one task against everything but the remaining resources; returns the task's
  // resources or the reason it cannot run.
  caf::expected<resources> check(v1::TaskInfo& task) {
    if (task.agent_id().value().empty())
      *task.mutable_agent_id() = agent;
    if (auto err = validate(task, schema))
      return err;
    if (task.agent_id() != agent)
      return make_error(errc::invalid_argument, "task " + task.task_id().value()
                                                  + " names agent " + task.agent_id().value()
                                                  + " but the offer is on " + agent.value());
    if (task_known(task.task_id()) || seen.count(task.task_id().value()) > 0)
      return make_error(errc::invalid_argument,
                        "task ID " + task.task_id().value() + " is already in use");
    return resources::from_proto(task.resources(), schema);
  }

  void reject(v1::TaskInfo task, const caf::error& err) {
    plan.rejected.push_back({std::move(task), v1::TaskStatus::REASON_TASK_INVALID,
                             error_message(err)});
  }

  void launch(const v1::Offer::Operation::Launch& op) {
    for (auto task : op.task_infos()) {
      auto res = check(task);
      if (!res) {
        reject(std::move(task), res.error());
        continue;
      }
      if (!plan.unused.contains(*res)) {
        auto why = "task " + task.task_id().value() + " needs " + res->to_string()
                   + " but the accepted offers have only " + plan.unused.to_string() + " left";
        plan.rejected.push_back({std::move(task), v1::TaskStatus::REASON_INVALID_OFFERS, why});
        continue;
      }
      plan.unused -= *res;
      seen.insert(task.task_id().value());
      plan.tasks.push_back(std::move(task));
    }
  }

  // The innermost reservation of every entry: DYNAMIC, for the offer's role, by the framework's
  // principal; a stacked one refines the reservation of an ancestor role.
  std::string check_dynamic(const resources& res, const char* what) {
    if (res.empty())
      return std::string{what} + " names no resources";
    for (const auto& [key, value] : res.entries()) {
      if (key.reservations.empty())
        return std::string{what} + " of unreserved " + key.name;
      const auto& r = key.reservations.back();
      if (r.type != v1::ReservationInfo::DYNAMIC)
        return std::string{what} + " of " + key.name + ": only dynamic reservations can change";
      if (r.role != ctx.role)
        return std::string{what} + " of " + key.name + " for role " + r.role
               + ": the offer is for role " + ctx.role;
      if (key.reservations.size() > 1) { // refinement: strictly below the one it refines
        const auto& outer = key.reservations[key.reservations.size() - 2].role;
        if (outer == r.role || !is_child_or_same(r.role, outer))
          return std::string{what} + " of " + key.name + ": role " + r.role
                 + " does not refine the reservation for " + outer;
      }
      if (r.principal != ctx.principal)
        return std::string{what} + " of " + key.name + " by principal '" + r.principal
               + "': the framework's principal is '" + ctx.principal + "'";
    }
    return {};
  }

  void change_reservation(const google::protobuf::RepeatedPtrField<v1::Resource>& list,
                          bool reserve) {
    const char* what = reserve ? "RESERVE" : "UNRESERVE";
    auto res = resources::from_proto(list, schema);
    if (!res) {
      plan.errors.push_back(std::string{what} + ": " + error_message(res.error()));
      return;
    }
    if (auto why = check_dynamic(*res, what); !why.empty()) {
      plan.errors.push_back(why + "; it was ignored");
      return;
    }
    auto from = reserve ? pop_reservation(*res) : *res;
    auto to = reserve ? *res : pop_reservation(*res);
    if (!plan.unused.contains(from)) {
      plan.errors.push_back(std::string{what} + " of " + from.to_string()
                            + ": the accepted offers have only " + plan.unused.to_string()
                            + " left; it was ignored");
      return;
    }
    plan.unused -= from;
    plan.unused += to;
    plan.reservations.push_back({std::move(from), std::move(to)});
  }

  void launch_group(const v1::Offer::Operation::LaunchGroup& op) {
    group_launch group{op.executor(), {}};
    resources needed;
    std::string failure;
    for (auto task : op.task_group().tasks()) {
      auto res = check(task);
      if (!res && failure.empty())
        failure = error_message(res.error());
      else if (res)
        needed += *res;
      seen.insert(task.task_id().value());
      group.tasks.push_back(std::move(task));
    }
    if (group.tasks.empty())
      failure = "LAUNCH_GROUP has no tasks";
    if (failure.empty() && !plan.unused.contains(needed))
      failure = "the group needs " + needed.to_string() + " but the accepted offers have only "
                + plan.unused.to_string() + " left";
    if (!failure.empty()) {
      for (auto& task : group.tasks) {
        seen.erase(task.task_id().value());
        plan.rejected.push_back({std::move(task), v1::TaskStatus::REASON_TASK_INVALID,
                                 "task group rejected: " + failure});
      }
      return;
    }
    plan.unused -= needed;
    plan.groups.push_back(std::move(group));
  }
};

} // namespace

launch_plan plan_launches(const v1::AgentID& agent, resources offered,
                          const google::protobuf::RepeatedPtrField<v1::Offer::Operation>& ops,
                          const std::function<bool(const v1::TaskID&)>& task_known,
                          const resource_schema& schema, const accept_context& ctx) {
  planner p{agent, task_known, schema, ctx, {}, {}};
  p.plan.unused = std::move(offered);
  for (const auto& op : ops) {
    if (auto err = validate_shape(op)) {
      p.plan.errors.push_back(error_message(err));
      continue;
    }
    switch (op.type()) {
      case v1::Offer::Operation::LAUNCH:
        p.launch(op.launch());
        break;
      case v1::Offer::Operation::LAUNCH_GROUP:
        p.launch_group(op.launch_group());
        break;
      case v1::Offer::Operation::RESERVE:
        p.change_reservation(op.reserve().resources(), true);
        break;
      case v1::Offer::Operation::UNRESERVE:
        p.change_reservation(op.unreserve().resources(), false);
        break;
      default:
        p.plan.errors.push_back("operation " + v1::Offer::Operation::Type_Name(op.type())
                                + " is not supported; it was ignored");
        break;
    }
  }
  return std::move(p.plan);
}

} // namespace troupe::master
