// Tasks: records, status updates from agents (relayed to frameworks), updates the master makes
// itself (validation, agent loss, reconciliation), and returning a finished task's resources.
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "master_node.hpp"
#include "troupe/actors/common/task_transitions.hpp"
#include "troupe/messages/builders.hpp"
#include "troupe/messages/errc.hpp"
#include "troupe/messages/validation.hpp"

namespace troupe::master {

namespace {

constexpr int max_statuses_kept = 8;

} // namespace

task_record* master_node::find_task(const std::string& fw, const std::string& task) {
  auto fit = frameworks_.find(fw);
  if (fit == frameworks_.end())
    return nullptr;
  auto tit = fit->second.tasks.find(task);
  return tit == fit->second.tasks.end() ? nullptr : &tit->second;
}

void master_node::add_task(framework_record& fw, const v1::TaskInfo& info,
                           const std::string& role, const v1::ExecutorID& executor) {
  task_record rec;
  rec.task.set_name(info.name());
  *rec.task.mutable_task_id() = info.task_id();
  *rec.task.mutable_framework_id() = fw.info.id();
  *rec.task.mutable_executor_id() = executor;
  *rec.task.mutable_agent_id() = info.agent_id();
  rec.task.set_state(v1::TASK_STAGING);
  *rec.task.mutable_resources() = info.resources();
  *rec.task.mutable_labels() = info.labels();
  rec.task.set_user(info.command().user().empty() ? fw.info.user() : info.command().user());
  if (auto res = resources::from_proto(info.resources()))
    rec.res = *res;
  rec.role = role;
  rec.task.set_role(role);
  links_[info.agent_id().value()].tasks.emplace(fw.info.id().value(), info.task_id().value());
  fw.tasks[info.task_id().value()] = std::move(rec);
}

void master_node::on_status_update(const v1::StatusUpdate& msg) {
  if (auto err = validate(msg)) {
    log_->warn("dropping an invalid status update: {}", error_message(err));
    return;
  }
  auto fit = frameworks_.find(msg.framework_id().value());
  if (fit == frameworks_.end()) {
    // The framework was removed: nobody will acknowledge, so the master does, or the agent
    // would retry forever.
    if (!msg.status().uuid().empty())
      if (auto handle = agent_handle(msg.agent_id()))
        self_->send(handle, make_acknowledgement(msg, cfg_.info.epoch()));
    return;
  }
  auto& fw = fit->second;
  auto tit = fw.tasks.find(msg.status().task_id().value());
  if (tit != fw.tasks.end())
    update_task(fw, tit->second, msg.status());
  if (!fw.connected)
    return; // not acknowledged: the agent resends after the framework is back
  v1::scheduler::Update update;
  *update.mutable_status() = msg.status();
  send_event(fw, make_event(std::move(update)));
}

void master_node::update_task(framework_record& fw, task_record& task,
                              const v1::TaskStatus& status) {
  auto from = task.task.state();
  auto to = status.state();
  if (from != to && !common::is_allowed(from, to)) {
    // UNREACHABLE is the master's guess; the agent's report wins when it comes back.
    if (from != v1::TASK_UNREACHABLE) {
      log_->debug("task {}: ignoring {} after {}", task.task.task_id().value(),
                  v1::TaskState_Name(to), v1::TaskState_Name(from));
      return;
    }
  }
  task.task.set_state(to);
  if (to != v1::TASK_STAGING) { // the agent has it
    task.launch.reset();
    task.group_launch.reset();
  }
  *task.task.add_statuses() = status;
  if (task.task.statuses_size() > max_statuses_kept)
    task.task.mutable_statuses()->DeleteSubrange(0, 1);
  if (!holds_resources(to))
    release(fw.info.id(), task);
}

void master_node::release(const v1::FrameworkID& fw, task_record& task) {
  auto key = std::make_pair(fw.value(), task.task.task_id().value());
  auto link = links_.find(task.task.agent_id().value());
  if (link != links_.end())
    link->second.tasks.erase(key);
  if (task.released)
    return;
  task.released = true;
  self_->send(allocator_, allocator::recovered_resources{fw, task.task.agent_id(), task.role,
                                                         task.res, std::nullopt});
  completed_.push_back(key);
  prune_completed();
}

void master_node::prune_completed() {
  while (completed_.size() > cfg_.completed_tasks_kept) {
    auto [fid, tid] = completed_.front();
    completed_.pop_front();
    auto* rec = find_task(fid, tid);
    if (rec != nullptr && rec->released && !holds_resources(rec->task.state()))
      frameworks_[fid].tasks.erase(tid);
  }
}

void master_node::master_update(const v1::FrameworkID& fw, const v1::TaskID& task,
                                v1::TaskState state, v1::TaskStatus::Reason reason,
                                const std::string& message, const v1::AgentID& agent) {
  auto status = make_task_status(task, state, v1::TaskStatus::SOURCE_MASTER, now(), reason,
                                 message);
  *status.mutable_agent_id() = agent;
  auto fit = frameworks_.find(fw.value());
  if (fit == frameworks_.end())
    return;
  auto tit = fit->second.tasks.find(task.value());
  if (tit != fit->second.tasks.end())
    update_task(fit->second, tit->second, status);
  v1::scheduler::Update update;
  *update.mutable_status() = std::move(status);
  send_event(fit->second, make_event(std::move(update)));
}

void master_node::on_executor_message(const v1::ExecutorToFrameworkMessage& msg) {
  auto fit = frameworks_.find(msg.framework_id().value());
  if (fit == frameworks_.end())
    return;
  v1::scheduler::ExecutorMessage out;
  *out.mutable_agent_id() = msg.agent_id();
  *out.mutable_executor_id() = msg.executor_id();
  out.set_data(msg.data());
  send_event(fit->second, make_event(std::move(out)));
}

} // namespace troupe::master
