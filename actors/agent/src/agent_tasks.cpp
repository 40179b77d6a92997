// Tasks and executors: run (launch the executor's container, queue the task until the
// executor subscribes), kill (through the executor, escalating to destroying its container),
// executor calls (subscribe, updates, messages), and executor exits.
#include <algorithm>
#include <cstdio>
#include <sstream>

#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "agent_node.hpp"
#include "troupe/actors/common/task_transitions.hpp"
#include "troupe/messages/builders.hpp"
#include "troupe/messages/errc.hpp"
#include "troupe/messages/ids.hpp"
#include "troupe/messages/resources.hpp"
#include "troupe/messages/validation.hpp"
#include "troupe/runtime/reply_address.hpp"
#include "troupe/runtime/seconds.hpp"
#include "troupe/runtime/unix_time.hpp"

namespace troupe::agent {

namespace {

constexpr size_t finished_tasks_kept = 1000;


v1::Task task_from(const v1::TaskInfo& info, const v1::FrameworkInfo& fw,
                   const v1::ExecutorID& executor, const std::string& role) {
  v1::Task task;
  task.set_name(info.name());
  *task.mutable_task_id() = info.task_id();
  *task.mutable_framework_id() = fw.id();
  *task.mutable_executor_id() = executor;
  *task.mutable_agent_id() = info.agent_id();
  task.set_state(v1::TASK_STAGING);
  *task.mutable_resources() = info.resources();
  *task.mutable_labels() = info.labels();
  task.set_user(info.command().user().empty() ? fw.user() : info.command().user());
  task.set_role(role);
  return task;
}

} // namespace

std::string agent_node::new_uuid() {
  return random_.uuid();
}

framework_entry& agent_node::framework(const v1::FrameworkInfo& info) {
  auto& fw = frameworks_[info.id().value()];
  fw.info = info;
  return fw;
}

// The executor of a task: the custom one it names, or a command executor of its own (the
// executor ID is the task ID, as in Mesos).
executor_record& agent_node::executor_for(framework_entry& fw, const v1::ExecutorInfo& info) {
  auto& ex = fw.executors[info.executor_id().value()];
  if (ex.info.executor_id().value().empty()) {
    ex.info = info;
    *ex.info.mutable_framework_id() = fw.info.id();
  }
  return ex;
}

// Launches wait until the agent knows its ID (its registration answer may have been lost while
// the master already sent work): a task started before would run without one, and a restart
// before the answer would bring back tasks of an ID the master has since declared gone. They
// are held in memory, run once registered, and lost with a crash (the master resends them).
// Launches wait while the agent has no ID, and while it (re)registers: a master it has left
// for a newer one may still send some (found by the simulated ZooKeeper: a leader frozen past
// its session launched on an agent that had just reported its tasks to the new leader; the
// new leader offered the same resources again). At registration only the launches of that
// master's epoch or newer run (run_held_launches). They also wait while a crashed
// containerizer restarts.
bool agent_node::may_launch() const {
  return !cfg_.info.id().value().empty() && phase_ == agent_phase::running && containerizer_;
}

// Drops held launches of `framework` (of task `task` only, unless empty); a group goes whole.
void agent_node::forget_held(const std::string& framework, const std::string& task) {
  auto mentions = [&](const v1::TaskInfo& t) {
    return task.empty() || t.task_id().value() == task;
  };
  held_runs_.erase(std::remove_if(held_runs_.begin(), held_runs_.end(),
                                  [&](const v1::RunTask& r) {
                                    return r.framework().id().value() == framework
                                           && mentions(r.task());
                                  }),
                   held_runs_.end());
  held_groups_.erase(
    std::remove_if(held_groups_.begin(), held_groups_.end(),
                   [&](const v1::RunTaskGroup& g) {
                     return g.framework().id().value() == framework
                            && std::any_of(g.task_group().tasks().begin(),
                                           g.task_group().tasks().end(), mentions);
                   }),
    held_groups_.end());
}

void agent_node::run_held_launches(uint64_t master_epoch) {
  auto runs = std::move(held_runs_);
  auto groups = std::move(held_groups_);
  held_runs_.clear();
  held_groups_.clear();
  auto older = [&](uint64_t epoch, const std::string& what) {
    if (epoch >= master_epoch)
      return false;
    log_->warn("dropping the held launch of {}: it came from master epoch {}, this agent is "
               "registered with epoch {}",
               what, epoch, master_epoch);
    return true;
  };
  for (const auto& run : runs)
    if (!older(run.epoch(), run.task().task_id().value()))
      on_run_task(run);
  for (const auto& group : groups)
    if (!older(group.epoch(), "a task group"))
      on_run_task_group(group);
}

// A launch for another agent ID (held while this agent had none, and meant for an ID the master
// has since declared gone) must not run here: the master already counts those tasks lost and
// offers these resources again (found by the simulator: seed 177, an agent re-registered after
// its connection broke, then ran the launches of its old ID — 8 cpus on a 4-cpu agent).
bool agent_node::launch_is_ours(const v1::TaskInfo& task) {
  if (task.agent_id().value().empty() || task.agent_id() == cfg_.info.id())
    return true;
  log_->warn("dropping the launch of {}: it is for agent {}, this agent is {}",
             task.task_id().value(), task.agent_id().value(), cfg_.info.id().value());
  return false;
}

void agent_node::on_run_task(const v1::RunTask& msg) {
  if (!fresh_epoch(msg.epoch()))
    return;
  if (auto err = validate(msg)) {
    log_->warn("dropping an invalid RunTask: {}", error_message(err));
    return;
  }
  if (!may_launch()) {
    log_->info("holding the launch of {} until (re)registered", msg.task().task_id().value());
    forget_held(msg.framework().id().value(), msg.task().task_id().value()); // a resend
    held_runs_.push_back(msg);
    return;
  }
  if (!launch_is_ours(msg.task()))
    return;
  auto& fw = framework(msg.framework());
  const auto& task = msg.task();
  if (fw.tasks.count(task.task_id().value()) > 0) {
    resend_launch(fw, task.task_id().value()); // the master resends launches still STAGING
    return;
  }
  v1::ExecutorInfo info;
  if (task.has_executor()) {
    info = task.executor();
  } else {
    info.set_type(v1::ExecutorInfo::DEFAULT);
    *info.mutable_executor_id() = make_executor_id(task.task_id().value());
    info.set_name("command executor for " + task.task_id().value());
  }
  auto& ex = executor_for(fw, info);
  fw.tasks[task.task_id().value()] = task_from(task, fw.info, info.executor_id(), msg.role());
  fw.infos[task.task_id().value()] = task;
  ex.tasks.insert(task.task_id().value());
  if (!ex.launched)
    launch_container(fw, ex);
  else // another task joins a running executor: its container grows
    self_->send(containerizer_, isolation::update_atom::value, ex.container,
                limits_of(fw, ex));
  checkpoint_task(fw, task.task_id().value());
  v1::executor::Launch launch;
  *launch.mutable_task() = task;
  v1::executor::Event event;
  *event.mutable_launch() = std::move(launch);
  deliver(ex, std::move(event));
}

void agent_node::on_run_task_group(const v1::RunTaskGroup& msg) {
  if (!fresh_epoch(msg.epoch()))
    return;
  if (auto err = validate(msg)) {
    log_->warn("dropping an invalid RunTaskGroup: {}", error_message(err));
    return;
  }
  if (!may_launch()) {
    log_->info("holding the launch of a task group until (re)registered");
    if (msg.task_group().tasks_size() > 0) // a resend replaces the copy held
      forget_held(msg.framework().id().value(), msg.task_group().tasks(0).task_id().value());
    held_groups_.push_back(msg);
    return;
  }
  for (const auto& task : msg.task_group().tasks())
    if (!launch_is_ours(task))
      return;
  if (auto known = frameworks_.find(msg.framework().id().value()); known != frameworks_.end())
    for (const auto& task : msg.task_group().tasks())
      if (known->second.tasks.count(task.task_id().value()) > 0)
        return; // a duplicate of a group (or part of one) already here: nothing is made
  auto& fw = framework(msg.framework());
  auto info = msg.executor();
  if (info.type() == v1::ExecutorInfo::DEFAULT)
    info.clear_command();
  auto& ex = executor_for(fw, info);
  v1::executor::LaunchGroup group;
  for (const auto& task : msg.task_group().tasks()) {
    fw.tasks[task.task_id().value()] = task_from(task, fw.info, info.executor_id(), msg.role());
    fw.infos[task.task_id().value()] = task;
    ex.tasks.insert(task.task_id().value());
  }
  if (!ex.launched)
    launch_container(fw, ex);
  for (const auto& task : msg.task_group().tasks())
    checkpoint_task(fw, task.task_id().value());
  *group.mutable_task_group() = msg.task_group();
  v1::executor::Event event;
  *event.mutable_launch_group() = std::move(group);
  deliver(ex, std::move(event));
}

// Launches are kept until the executor reports on their tasks and sent again at every
// subscription: a Subscribed and its launches can be lost with a connection (the executor then
// subscribes again), and the executor ignores a launch of a task it already knows.
void agent_node::deliver(executor_record& ex, v1::executor::Event event) {
  bool launch = event.has_launch() || event.has_launch_group();
  if (event.has_launch())
    log_->debug("task {}: launch {} executor {} (container {})",
                event.launch().task().task_id().value(),
                ex.handle ? "sent to" : "waits for", ex.info.executor_id().value(),
                ex.container.value());
  if (launch)
    ex.launches.push_back(event);
  if (ex.handle)
    self_->send(ex.handle, std::move(event));
  else if (!launch)
    ex.queued.push_back(std::move(event));
}

// The executor reported on `task` (or it was killed before it started): its launch need not be
// sent again. A group's launch goes with the first report of any of its tasks.
void agent_node::confirm_launch(executor_record& ex, const std::string& task) {
  auto mentions = [&task](const v1::executor::Event& e) {
    if (e.has_launch())
      return e.launch().task().task_id().value() == task;
    const auto& tasks = e.launch_group().task_group().tasks();
    return std::any_of(tasks.begin(), tasks.end(),
                       [&task](const v1::TaskInfo& t) { return t.task_id().value() == task; });
  };
  ex.launches.erase(std::remove_if(ex.launches.begin(), ex.launches.end(), mentions),
                    ex.launches.end());
}

// A RunTask for a task already here: the master resends launches still STAGING after a while.
// If the executor has subscribed but not reported on the task, its launch goes again.
void agent_node::resend_launch(const framework_entry& fw, const std::string& task) {
  auto tit = fw.tasks.find(task);
  if (tit == fw.tasks.end() || tit->second.state() != v1::TASK_STAGING
      || fw.kill_requested.count(task) > 0)
    return;
  auto eit = fw.executors.find(tit->second.executor_id().value());
  if (eit == fw.executors.end() || !eit->second.handle)
    return;
  for (const auto& e : eit->second.launches)
    if (e.has_launch() && e.launch().task().task_id().value() == task) {
      log_->info("task {} still STAGING: sending its launch to executor {} again", task,
                 eit->second.info.executor_id().value());
      self_->send(eit->second.handle, e);
    }
}

void agent_node::launch_container(framework_entry& fw, executor_record& ex) {
  ex.launched = true;
  ++ex.generation;
  std::ostringstream cid;
  cid << ex.info.executor_id().value() << "." << next_container_++;
  ex.container = make_container_id(cid.str());
  ex.sandbox = cfg_.work_dir + "/frameworks/" + fw.info.id().value() + "/executors/"
               + ex.info.executor_id().value() + "/runs/" + to_path(ex.container);
  containers_[ex.container.value()] = {fw.info.id().value(), ex.info.executor_id().value()};
  isolation::launch_request req;
  req.container_id = ex.container;
  if (ex.info.type() == v1::ExecutorInfo::CUSTOM)
    req.command = ex.info.command();
  else
    req.command = make_exec_command(cfg_.executor_path, {cfg_.executor_path});
  // The executor runs as the user its tasks name, else the framework's (as in Mesos); the
  // launcher switches users when the agent is root and refuses with a clear error otherwise.
  if (req.command.user().empty()) {
    std::string user = fw.info.user();
    for (const auto& task : ex.tasks)
      if (auto info = fw.infos.find(task);
          info != fw.infos.end() && !info->second.command().user().empty())
        user = info->second.command().user();
    req.command.set_user(user);
  }
  req.sandbox = ex.sandbox;
  req.limits = limits_of(fw, ex);
  req.environment = {
    {"TROUPE_AGENT_ENDPOINT", cfg_.executor_endpoint},
    {"TROUPE_AGENT_ID", cfg_.info.id().value()},
    {"TROUPE_FRAMEWORK_ID", fw.info.id().value()},
    {"TROUPE_EXECUTOR_ID", ex.info.executor_id().value()},
    {"TROUPE_CONTAINER_ID", ex.container.value()},
    {"TROUPE_SANDBOX", ex.sandbox},
    {"TROUPE_RECOVERY_TIMEOUT",
     std::to_string(runtime::to_seconds(cfg_.executor_recovery_timeout))},
  };
  checkpoint_executor(fw, ex, 0);
  auto container = ex.container.value();
  auto generation = ex.generation;
  self_->request(containerizer_, caf::infinite, isolation::launch_atom::value, std::move(req))
    .then(
      [this, container, generation](const isolation::container_launched& launched) {
        log_->debug("container {} runs as pid {}", container, launched.pid);
        auto [fw, ex] = by_container(container);
        if (ex != nullptr && ex->generation == generation)
          checkpoint_executor(*fw, *ex, launched.pid);
      },
      [this, container, generation](caf::error& err) {
        auto [fw, ex] = by_container(container);
        if (ex == nullptr || ex->generation != generation)
          return;
        log_->warn("container {} failed to launch: {}", container, error_message(err));
        fail_executor_tasks(*fw, *ex, v1::TaskStatus::REASON_CONTAINER_LAUNCH_FAILED,
                            "container launch failed: " + error_message(err));
        containers_.erase(container);
        fw->executors.erase(ex->info.executor_id().value());
      });
  self_->delayed_send(self_, cfg_.executor_register_timeout, executor_timeout_atom::value,
                      container, generation);
}

// A container gets its executor's resources plus its tasks'; troupe's own executors (command
// and default) add what they need themselves, as in Mesos.
isolation::container_limits agent_node::limits_of(const framework_entry& fw,
                                                  const executor_record& ex) const {
  resources total;
  if (auto res = resources::from_proto(ex.info.resources()))
    total += *res;
  for (const auto& task : ex.tasks)
    if (auto info = fw.infos.find(task); info != fw.infos.end())
      if (auto res = resources::from_proto(info->second.resources()))
        total += *res;
  isolation::container_limits out;
  out.cpus = total.scalar("cpus");
  auto mem_mb = total.scalar("mem");
  if (ex.info.type() != v1::ExecutorInfo::CUSTOM) {
    out.cpus += cfg_.executor_overhead_cpus;
    mem_mb += cfg_.executor_overhead_mem_mb;
  }
  out.mem_bytes = static_cast<uint64_t>(mem_mb * 1024 * 1024);
  return out;
}

std::pair<framework_entry*, executor_record*>
agent_node::by_container(const std::string& container) {
  auto it = containers_.find(container);
  if (it == containers_.end())
    return {nullptr, nullptr};
  auto fit = frameworks_.find(it->second.first);
  if (fit == frameworks_.end())
    return {nullptr, nullptr};
  auto eit = fit->second.executors.find(it->second.second);
  if (eit == fit->second.executors.end())
    return {&fit->second, nullptr};
  return {&fit->second, &eit->second};
}

void agent_node::on_executor_timeout(const std::string& container, uint64_t generation) {
  auto [fw, ex] = by_container(container);
  if (ex == nullptr || ex->generation != generation || ex->handle)
    return;
  log_->warn("executor in container {} did not subscribe in time", container);
  fail_executor_tasks(*fw, *ex, v1::TaskStatus::REASON_EXECUTOR_UNREGISTERED,
                      "the executor did not subscribe within the registration timeout");
  destroy(*ex, caf::timespan{0});
}

void agent_node::destroy(executor_record& ex, caf::timespan grace) {
  if (ex.destroying)
    return;
  ex.destroying = true;
  self_->send(containerizer_, isolation::destroy_atom::value, ex.container, grace);
}

// Every task of the executor that has not ended gets a terminal update: KILLED when a kill was
// asked for, else FAILED with `reason`.
void agent_node::fail_executor_tasks(framework_entry& fw, executor_record& ex,
                                     v1::TaskStatus::Reason reason, const std::string& message) {
  for (const auto& tid : ex.tasks) {
    auto it = fw.tasks.find(tid);
    if (it == fw.tasks.end() || common::is_terminal(it->second.state()))
      continue;
    if (fw.failing.count(tid) > 0)
      continue; // the executor's own TASK_FAILED is on its way
    bool killed = fw.kill_requested.count(tid) > 0;
    agent_update(fw.info.id(), it->second.task_id(), ex.info.executor_id(),
                 killed ? v1::TASK_KILLED : v1::TASK_FAILED, reason, message);
  }
}

void agent_node::agent_update(const v1::FrameworkID& fw, const v1::TaskID& task,
                              const v1::ExecutorID& executor, v1::TaskState state,
                              v1::TaskStatus::Reason reason, const std::string& message) {
  auto status = make_task_status(task, state, v1::TaskStatus::SOURCE_AGENT, now(), reason,
                                 message);
  *status.mutable_agent_id() = cfg_.info.id();
  *status.mutable_executor_id() = executor;
  auto update = make_status_update(fw, cfg_.info.id(), executor, std::move(status), new_uuid());
  record_update(update);
  to_updates(std::move(update));
}

// Keeps the agent's own view of its tasks current (for reregistration and state).
void agent_node::record_update(const v1::StatusUpdate& update) {
  auto fit = frameworks_.find(update.framework_id().value());
  if (fit == frameworks_.end())
    return;
  auto tit = fit->second.tasks.find(update.status().task_id().value());
  if (tit == fit->second.tasks.end())
    return;
  auto& task = tit->second;
  auto to = update.status().state();
  if (task.state() != to && !common::is_allowed(task.state(), to))
    return;
  bool was_terminal = common::is_terminal(task.state());
  bool changed = task.state() != to;
  task.set_state(to);
  *task.add_statuses() = update.status();
  if (task.statuses_size() > 4)
    task.mutable_statuses()->DeleteSubrange(0, 1);
  if (changed)
    checkpoint_task(fit->second, task.task_id().value());
  if (!was_terminal && common::is_terminal(to)) {
    finished_.emplace_back(update.framework_id().value(), task.task_id().value());
    while (finished_.size() > finished_tasks_kept) {
      auto [f, t] = finished_.front();
      finished_.pop_front();
      auto ff = frameworks_.find(f);
      if (ff != frameworks_.end() && ff->second.tasks.count(t) > 0
          && common::is_terminal(ff->second.tasks[t].state())) {
        ff->second.tasks.erase(t);
        ff->second.infos.erase(t);
        ff->second.acked_terminal.erase(t);
        ff->second.kill_requested.erase(t);
      }
    }
  }
}

void agent_node::on_kill_task(const v1::KillTask& msg) {
  if (!fresh_epoch(msg.epoch()))
    return;
  forget_held(msg.framework_id().value(), msg.task_id().value()); // a killed launch never runs
  auto fit = frameworks_.find(msg.framework_id().value());
  if (fit == frameworks_.end() || fit->second.tasks.count(msg.task_id().value()) == 0) {
    agent_update(msg.framework_id(), msg.task_id(), {}, v1::TASK_DROPPED,
                 v1::TaskStatus::REASON_TASK_UNKNOWN, "the agent does not know this task");
    return;
  }
  auto* fw = &fit->second;
  auto tit = fw->tasks.find(msg.task_id().value());
  auto& task = tit->second;
  if (common::is_terminal(task.state()))
    return;
  fw->kill_requested.insert(task.task_id().value());
  auto eit = fw->executors.find(task.executor_id().value());
  if (eit == fw->executors.end())
    return;
  auto& ex = eit->second;
  if (!ex.handle) {
    // Not started yet: never give it to the executor.
    confirm_launch(ex, task.task_id().value()); // its launch is never sent
    agent_update(fw->info.id(), task.task_id(), ex.info.executor_id(), v1::TASK_KILLED,
                 v1::TaskStatus::REASON_TASK_KILLED_DURING_LAUNCH, "killed before it started");
    ex.tasks.erase(task.task_id().value());
    if (ex.tasks.empty())
      destroy(ex, caf::timespan{0});
    return;
  }
  v1::executor::Kill kill;
  *kill.mutable_task_id() = task.task_id();
  if (msg.has_kill_policy())
    *kill.mutable_kill_policy() = msg.kill_policy();
  v1::executor::Event event;
  *event.mutable_kill() = kill;
  self_->send(ex.handle, std::move(event));
  // An executor that does not end the task within its grace period (plus slack) loses its
  // container.
  auto grace = kill_grace(msg.kill_policy(), cfg_.default_grace);
  self_->delayed_send(self_, grace + std::chrono::seconds{5}, kill_escalate_atom::value,
                      ex.container.value(), ex.generation);
}

void agent_node::on_kill_escalate(const std::string& container, uint64_t generation) {
  auto [fw, ex] = by_container(container);
  if (ex == nullptr || ex->generation != generation)
    return;
  for (const auto& tid : ex->tasks)
    if (fw->kill_requested.count(tid) > 0 && !common::is_terminal(fw->tasks[tid].state())) {
      log_->warn("executor of container {} did not kill task {} in time; destroying it",
                 container, tid);
      destroy(*ex, cfg_.default_grace);
      return;
    }
}

void agent_node::on_acknowledgement(const v1::StatusUpdateAcknowledgement& msg) {
  if (!fresh_epoch(msg.epoch()))
    return;
  to_updates(msg);
  auto fit = frameworks_.find(msg.framework_id().value());
  if (fit == frameworks_.end())
    return;
  auto tit = fit->second.tasks.find(msg.task_id().value());
  if (tit == fit->second.tasks.end() || !common::is_terminal(tit->second.state()))
    return;
  const auto& task = tit->second;
  if (task.statuses_size() > 0 && task.statuses(task.statuses_size() - 1).uuid() == msg.uuid()) {
    fit->second.acked_terminal.insert(task.task_id().value());
    forget_finished_executor(fit->second, task.executor_id());
  }
}

void agent_node::on_shutdown_framework(const v1::ShutdownFramework& msg) {
  if (!fresh_epoch(msg.epoch()))
    return;
  forget_held(msg.framework_id().value(), {}); // none of its held launches runs
  auto fit = frameworks_.find(msg.framework_id().value());
  if (fit == frameworks_.end())
    return;
  log_->info("shutting down framework {}", msg.framework_id().value());
  for (auto& [tid, task] : fit->second.tasks)
    fit->second.kill_requested.insert(tid);
  for (auto& [eid, ex] : fit->second.executors) {
    if (ex.handle) {
      v1::executor::Shutdown shutdown;
      shutdown.set_grace_period_seconds(
        runtime::to_seconds(cfg_.default_grace));
      v1::executor::Event event;
      *event.mutable_shutdown() = shutdown;
      self_->send(ex.handle, std::move(event));
    }
    destroy(ex, cfg_.default_grace);
  }
}

void agent_node::on_framework_message(const v1::FrameworkToExecutorMessage& msg) {
  auto fit = frameworks_.find(msg.framework_id().value());
  if (fit == frameworks_.end())
    return;
  auto eit = fit->second.executors.find(msg.executor_id().value());
  if (eit == fit->second.executors.end() || !eit->second.handle)
    return;
  v1::executor::FromFramework from;
  from.set_data(msg.data());
  v1::executor::Event event;
  *event.mutable_message() = std::move(from);
  self_->send(eit->second.handle, std::move(event));
}

void agent_node::on_executor_call(const v1::executor::Call& call, const caf::actor& reply_to) {
  auto sender = caf::actor_cast<protocols::executor_actor>(
    runtime::reply_address(self_->current_sender(), reply_to));
  auto fit = frameworks_.find(call.framework_id().value());
  if (auto err = validate(call); err || fit == frameworks_.end()) {
    v1::executor::Error error;
    error.set_message(err ? error_message(err) : "unknown framework");
    v1::executor::Event event;
    *event.mutable_error() = std::move(error);
    if (sender)
      self_->send(sender, std::move(event));
    return;
  }
  auto& fw = fit->second;
  auto eit = fw.executors.find(call.executor_id().value());
  if (eit == fw.executors.end()) {
    v1::executor::Error error;
    error.set_message("unknown executor " + call.executor_id().value());
    v1::executor::Event event;
    *event.mutable_error() = std::move(error);
    if (sender)
      self_->send(sender, std::move(event));
    return;
  }
  auto& ex = eit->second;
  if (call.has_subscribe()) {
    on_executor_subscribe(fw, ex, call, sender);
    return;
  }
  if (call.has_update()) {
    auto status = call.update().status();
    *status.mutable_agent_id() = cfg_.info.id();
    *status.mutable_executor_id() = ex.info.executor_id();
    *status.mutable_container_id() = ex.container;
    status.set_source(v1::TaskStatus::SOURCE_EXECUTOR);
    auto uuid = status.uuid();
    log_->debug("task {}: {} ({}) from executor {}", status.task_id().value(),
                v1::TaskState_Name(status.state()), uuid_hex(uuid), ex.info.executor_id().value());
    confirm_launch(ex, status.task_id().value());
    auto update = make_status_update(fw.info.id(), cfg_.info.id(), ex.info.executor_id(),
                                     std::move(status), uuid);
    // The executor hears "acknowledged" only once the update is with the status update
    // manager (which checkpoints it before anything else it handles).
    auto accept = [this, handle = ex.handle](const v1::StatusUpdate& u) {
      record_update(u);
      to_updates(u);
      v1::executor::Acknowledged ack;
      *ack.mutable_task_id() = u.status().task_id();
      ack.set_uuid(u.status().uuid());
      v1::executor::Event event;
      *event.mutable_acknowledged() = std::move(ack);
      if (handle)
        self_->send(handle, std::move(event));
    };
    if (update.status().state() != v1::TASK_FAILED) {
      accept(update);
      return;
    }
    // A task the kernel killed for a limit fails with that limit as its reason (the executor
    // only saw a SIGKILL). Until the answer is here the task counts as ending, so a container
    // exit meanwhile does not report a second, agent-made terminal update before this one.
    auto task = update.status().task_id().value();
    fw.failing.insert(task);
    auto fid = fw.info.id().value();
    self_->request(containerizer_, std::chrono::seconds{5}, isolation::limitation_atom::value,
                   ex.container)
      .then(
        [this, update, accept, fid, task](const std::vector<isolation::limitation>& limits) mutable {
          if (!limits.empty()) {
            update.mutable_status()->set_reason(limits.front().reason);
            update.mutable_status()->set_message(update.status().message() + "; "
                                                 + limits.front().message);
          }
          if (auto f = frameworks_.find(fid); f != frameworks_.end())
            f->second.failing.erase(task);
          accept(update);
        },
        [this, update, accept, fid, task](caf::error&) {
          if (auto f = frameworks_.find(fid); f != frameworks_.end())
            f->second.failing.erase(task);
          accept(update);
        });
    return;
  }
  if (call.has_message()) {
    v1::ExecutorToFrameworkMessage out;
    *out.mutable_agent_id() = cfg_.info.id();
    *out.mutable_framework_id() = fw.info.id();
    *out.mutable_executor_id() = ex.info.executor_id();
    out.set_data(call.message().data());
    self_->send(master_, std::move(out));
  }
}

// A Subscribe is answered with Subscribed, every launch the executor has not reported on and
// the events queued for it. One without an address to answer (CAF lost the connection's
// sender and the executor declared none) cannot be answered: it is ignored, and the executor
// subscribes again.
void agent_node::on_executor_subscribe(framework_entry& fw, executor_record& ex,
                                       const v1::executor::Call& call,
                                       const protocols::executor_actor& sender) {
  if (!sender) {
    log_->warn("a Subscribe of executor {} came without an address to answer: ignored",
               ex.info.executor_id().value());
    return;
  }
  log_->debug("executor {} subscribed ({} launches to send, {} updates to resend)",
              ex.info.executor_id().value(), ex.launches.size(),
              call.subscribe().unacknowledged_updates_size());
  ex.handle = sender;
  v1::executor::Subscribed subscribed;
  *subscribed.mutable_executor_info() = ex.info;
  *subscribed.mutable_framework_info() = fw.info;
  *subscribed.mutable_agent_info() = cfg_.info;
  *subscribed.mutable_container_id() = ex.container;
  v1::executor::Event event;
  *event.mutable_subscribed() = std::move(subscribed);
  self_->send(sender, std::move(event));
  for (const auto& launch : ex.launches)
    self_->send(sender, launch);
  for (auto& queued : ex.queued)
    self_->send(sender, std::move(queued));
  ex.queued.clear();
  for (const auto& update : call.subscribe().unacknowledged_updates()) {
    v1::executor::Call again;
    *again.mutable_update() = update;
    *again.mutable_framework_id() = call.framework_id();
    *again.mutable_executor_id() = call.executor_id();
    on_executor_call(again, caf::actor_cast<caf::actor>(sender));
  }
}

void agent_node::on_container_exited(const isolation::container_exited& msg) {
  auto [fw, ex] = by_container(msg.container_id.value());
  containers_.erase(msg.container_id.value());
  if (ex == nullptr)
    return;
  log_->info("container {} ended: {}", msg.container_id.value(), msg.message);
  if (msg.limit) // the kernel enforced a limit (e.g. OOM): that is why its tasks ended
    fail_executor_tasks(*fw, *ex, msg.limit->reason, msg.limit->message);
  else
    fail_executor_tasks(*fw, *ex, v1::TaskStatus::REASON_EXECUTOR_TERMINATED,
                        "executor ended without a terminal update: " + msg.message);
  auto executor = ex->info.executor_id();
  fw->executors.erase(executor.value());
  forget_finished_executor(*fw, executor);
}

} // namespace troupe::agent
