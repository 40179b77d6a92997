// Agent restart with the same work dir: read the checkpoints, let the containerizer adopt the
// containers whose processes survived, fail the tasks of those that did not, then reregister
// (with the old ID) reporting every task. Executors that survived reconnect and resubscribe by
// themselves (executor_driver); their unacknowledged updates come with the subscription.
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "agent_node.hpp"
#include "troupe/messages/resources.hpp"
#include "troupe/actors/common/task_transitions.hpp"
#include "troupe/messages/errc.hpp"

namespace troupe::agent {

void agent_node::recover() {
  auto rec = checkpoints_.recover();
  for (const auto& problem : rec.problems)
    log_->warn("recovery: {}", problem);
  if (!rec.agent || rec.agent->info().id().value().empty())
    return; // a first start
  if (rec.agent->boot_id() != current_boot_id()) {
    log_->warn("the host rebooted since the last run: no container survived; registering as "
               "a new agent");
    for (const auto& fw : rec.frameworks)
      checkpoints_.remove_framework(fw.framework.info().id());
    return;
  }
  *cfg_.info.mutable_id() = rec.agent->info().id();
  keep_reservations(rec.agent->info());
  std::vector<isolation::container_launched> known;
  size_t tasks = 0;
  for (const auto& rf : rec.frameworks) {
    auto& fw = framework(rf.framework.info());
    for (const auto& re : rf.executors) {
      auto& ex = executor_for(fw, re.executor.info());
      ex.container = re.executor.container_id();
      ex.sandbox = re.executor.sandbox();
      ex.launched = true;
      ex.generation = 1;
      containers_[ex.container.value()] = {fw.info.id().value(), ex.info.executor_id().value()};
      known.push_back({ex.container, re.executor.pid()});
      for (const auto& tc : re.tasks) {
        const auto& id = tc.info().task_id().value();
        v1::Task task;
        task.set_name(tc.info().name());
        *task.mutable_task_id() = tc.info().task_id();
        *task.mutable_framework_id() = fw.info.id();
        *task.mutable_executor_id() = ex.info.executor_id();
        *task.mutable_agent_id() = cfg_.info.id();
        task.set_state(tc.state());
        *task.mutable_resources() = tc.info().resources();
        task.set_role(tc.role());
        fw.tasks[id] = std::move(task);
        fw.infos[id] = tc.info();
        ex.tasks.insert(id);
        ++tasks;
      }
    }
  }
  log_->info("recovering agent {}: {} frameworks, {} containers, {} tasks",
             cfg_.info.id().value(), rec.frameworks.size(), known.size(), tasks);
  recovering_ = true;
  self_->request(containerizer_, caf::infinite, isolation::recover_atom::value, known)
    .then([this](const std::vector<v1::ContainerID>& adopted) { on_containers_recovered(adopted); },
          [this](caf::error& err) {
            log_->error("containerizer recovery failed: {}", error_message(err));
            on_containers_recovered({});
          });
}

// The checkpointed total carries the dynamic reservations made through the master; they are
// made again on today's --resources (whose static reservations the operator may have changed)
// while it still has what they were reserved from.
void agent_node::keep_reservations(const v1::AgentInfo& checkpointed) {
  auto before = resources::from_proto(checkpointed.resources());
  auto now = resources::from_proto(cfg_.info.resources());
  if (!before || !now || !has_dynamic_reservations(*before))
    return;
  auto kept = with_dynamic_reservations(*now, *before);
  if (!kept) {
    log_->warn("--resources changed since the last run: dynamic reservations dropped ({})",
               error_message(kept.error()));
    return;
  }
  cfg_.info.clear_resources();
  kept->to_proto(cfg_.info.mutable_resources());
  log_->info("kept dynamic reservations: resources {}", kept->to_string());
}

void agent_node::on_containers_recovered(const std::vector<v1::ContainerID>& adopted) {
  std::set<std::string> alive;
  for (const auto& id : adopted)
    alive.insert(id.value());
  // Most often the machine went down with the agent: not the task's own doing, so
  // AGENT_RESTARTED (frameworks need not count it as a failure of the command).
  fail_lost_containers(alive, v1::TaskStatus::REASON_AGENT_RESTARTED,
                       "the executor did not survive the agent restart");
  // Survivors must resubscribe in time, or they are destroyed like a new executor would be.
  for (const auto& container : alive) {
    auto [fw, ex] = by_container(container);
    if (ex != nullptr)
      self_->delayed_send(self_, cfg_.executor_register_timeout, executor_timeout_atom::value,
                          container, ex->generation);
  }
  recovering_ = false;
  if (!cfg_.executor_endpoint.empty())
    begin_registration();
}

// Every known container not in `alive` is gone: its executor's tasks fail with `reason`.
void agent_node::fail_lost_containers(const std::set<std::string>& alive,
                                      v1::TaskStatus::Reason reason, const std::string& message) {
  std::vector<std::string> dead;
  for (const auto& [container, owner] : containers_)
    if (alive.count(container) == 0)
      dead.push_back(container);
  for (const auto& container : dead) {
    auto [fw, ex] = by_container(container);
    containers_.erase(container);
    if (ex == nullptr)
      continue;
    log_->warn("container {} is gone: {}", container, message);
    fail_executor_tasks(*fw, *ex, reason, message);
    fw->executors.erase(ex->info.executor_id().value());
  }
}

void agent_node::checkpoint_task(const framework_entry& fw, const std::string& task) {
  auto info = fw.infos.find(task);
  auto state = fw.tasks.find(task);
  if (info == fw.infos.end() || state == fw.tasks.end())
    return;
  internal::TaskCheckpoint cp;
  *cp.mutable_info() = info->second;
  cp.set_state(state->second.state());
  cp.set_role(state->second.role());
  if (auto err = checkpoints_.write_task(fw.info.id(), state->second.executor_id(), cp))
    log_->error("cannot checkpoint task {}: {}", task, error_message(err));
}

void agent_node::checkpoint_executor(const framework_entry& fw, const executor_record& ex,
                                     int pid) {
  internal::FrameworkCheckpoint fcp;
  *fcp.mutable_info() = fw.info;
  internal::ExecutorCheckpoint ecp;
  *ecp.mutable_info() = ex.info;
  *ecp.mutable_container_id() = ex.container;
  ecp.set_pid(pid);
  ecp.set_sandbox(ex.sandbox);
  auto err = checkpoints_.write_framework(fcp);
  if (!err)
    err = checkpoints_.write_executor(fw.info.id(), ecp);
  if (err)
    log_->error("cannot checkpoint executor {}: {}", ex.info.executor_id().value(),
                error_message(err));
}

// Once an executor is gone and every one of its tasks' terminal updates was acknowledged, a
// restart has nothing left to recover for it.
void agent_node::forget_finished_executor(framework_entry& fw, const v1::ExecutorID& ex) {
  if (fw.executors.count(ex.value()) > 0)
    return;
  for (const auto& [id, task] : fw.tasks)
    if (task.executor_id() == ex
        && (!common::is_terminal(task.state()) || fw.acked_terminal.count(id) == 0))
      return;
  checkpoints_.remove_executor(fw.info.id(), ex);
}

} // namespace troupe::agent
