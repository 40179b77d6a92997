#include "troupe/executors/command_executor.hpp"

#include <csignal>
#include <map>
#include <set>

#include <sys/wait.h>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "troupe/isolation/posix_launcher.hpp"
#include "troupe/messages/builders.hpp"
#include "troupe/messages/errc.hpp"
#include "troupe/runtime/random.hpp"

namespace troupe::executors {

namespace {

using reap_atom = caf::atom_constant<caf::atom("reap")>;
using escalate_atom = caf::atom_constant<caf::atom("escalate")>;

using executor_impl = protocols::executor_actor::extend<
  caf::reacts_to<reap_atom>, caf::reacts_to<escalate_atom, std::string>>;

struct running_task {
  pid_t pid = 0;
  bool kill_requested = false;
};

struct executor_state {
  command_executor_config cfg;
  sdk::executor_driver_actor driver;
  isolation::posix_launcher launcher;
  std::map<std::string, running_task> running; ///< by task ID
  std::set<std::string> launched;              ///< every task ID launched (a repeat is ignored)
  std::set<std::string> awaiting_ack;          ///< uuids of terminal updates not yet acked
  bool reaping = false;
  bool shutting_down = false;
  bool had_task = false;
  std::optional<runtime::seeded_random> random; ///< terminal update uuids (seeded)
  static inline const char* name = "troupe.command_executor";

  ~executor_state() {
    // Ending for any reason: no task outlives its executor.
    for (auto& [id, task] : running)
      launcher.kill_and_reap(task.pid, std::chrono::milliseconds{1000});
  }
};

using executor_pointer = executor_impl::stateful_pointer<executor_state>;

void report(executor_pointer self, const v1::TaskID& task, v1::TaskState state,
            v1::TaskStatus::Reason reason, const std::string& message,
            std::optional<int> exit_status = std::nullopt) {
  auto status = make_task_status(task, state, v1::TaskStatus::SOURCE_EXECUTOR, 0, reason, message);
  if (exit_status)
    status.set_exit_status(*exit_status);
  if (state == v1::TASK_FINISHED || state == v1::TASK_FAILED || state == v1::TASK_KILLED) {
    // Our own uuid on terminal updates, so we know when the last one is acknowledged.
    auto uuid = self->state.random->uuid();
    status.set_uuid(uuid);
    self->state.awaiting_ack.insert(uuid);
  }
  self->send(self->state.driver, std::move(status));
}

void maybe_finish(executor_pointer self) {
  auto& st = self->state;
  if (st.running.empty() && st.had_task && st.awaiting_ack.empty())
    self->quit();
}

void launch(executor_pointer self, const v1::TaskInfo& task) {
  auto& st = self->state;
  if (!st.launched.insert(task.task_id().value()).second || st.shutting_down)
    return;
  st.had_task = true;
  isolation::launch_request req;
  req.container_id = make_container_id(task.task_id().value());
  req.command = task.command();
  req.sandbox = st.cfg.sandbox;
  auto pid = st.launcher.launch(req);
  if (!pid) {
    report(self, task.task_id(), v1::TASK_FAILED, v1::TaskStatus::REASON_COMMAND_EXECUTOR_FAILED,
           "cannot start the command: " + error_message(pid.error()));
    return;
  }
  st.running[task.task_id().value()] = running_task{*pid, false};
  report(self, task.task_id(), v1::TASK_RUNNING, v1::TaskStatus::REASON_UNKNOWN, "");
  if (!st.reaping) {
    st.reaping = true;
    self->delayed_send(self, st.cfg.reap_interval, reap_atom::value);
  }
}

void reap(executor_pointer self) {
  auto& st = self->state;
  for (auto it = st.running.begin(); it != st.running.end();) {
    auto status = st.launcher.try_reap(it->second.pid);
    if (!status) {
      ++it;
      continue;
    }
    auto id = make_task_id(it->first);
    auto text = isolation::describe_wait_status(*status);
    bool exited = *status != isolation::unknown_wait_status && WIFEXITED(*status);
    std::optional<int> code;
    if (exited)
      code = WEXITSTATUS(*status);
    if (it->second.kill_requested)
      report(self, id, v1::TASK_KILLED, v1::TaskStatus::REASON_UNKNOWN, "killed: " + text, code);
    else if (exited && *code == 0)
      report(self, id, v1::TASK_FINISHED, v1::TaskStatus::REASON_UNKNOWN, text, code);
    else
      report(self, id, v1::TASK_FAILED, v1::TaskStatus::REASON_UNKNOWN, text, code);
    it = st.running.erase(it);
  }
  if (st.running.empty())
    st.reaping = false;
  else
    self->delayed_send(self, st.cfg.reap_interval, reap_atom::value);
}

void kill(executor_pointer self, const v1::TaskID& id, caf::timespan grace) {
  auto& st = self->state;
  auto it = st.running.find(id.value());
  if (it == st.running.end() || it->second.kill_requested)
    return;
  it->second.kill_requested = true;
  report(self, id, v1::TASK_KILLING, v1::TaskStatus::REASON_UNKNOWN, "");
  st.launcher.signal_group(it->second.pid, SIGTERM);
  self->delayed_send(self, grace, escalate_atom::value, id.value());
}


void on_event(executor_pointer self, const v1::executor::Event& event) {
  auto& st = self->state;
  using E = v1::executor::Event;
  switch (event.event_case()) {
    case E::kLaunch:
      launch(self, event.launch().task());
      break;
    case E::kLaunchGroup:
      for (const auto& task : event.launch_group().task_group().tasks())
        launch(self, task);
      break;
    case E::kKill:
      kill(self, event.kill().task_id(), kill_grace(event.kill().kill_policy(), st.cfg.default_grace));
      break;
    case E::kShutdown: {
      st.shutting_down = true;
      v1::KillPolicy policy;
      policy.set_grace_period_seconds(event.shutdown().grace_period_seconds());
      auto grace = kill_grace(policy, st.cfg.default_grace);
      std::vector<std::string> ids;
      for (auto& [id, task] : st.running)
        ids.push_back(id);
      for (auto& id : ids)
        kill(self, make_task_id(id), grace);
      break;
    }
    case E::kAcknowledged:
      st.awaiting_ack.erase(event.acknowledged().uuid());
      maybe_finish(self);
      break;
    default: // subscribed, messages and errors need nothing from a command executor
      break;
  }
}

executor_impl::behavior_type executor_fn(executor_pointer self, sdk::executor_driver_actor driver,
                                         command_executor_config cfg) {
  self->state.random.emplace(cfg.seed, "command-executor/" + cfg.container_id);
  self->state.cfg = std::move(cfg);
  self->state.driver = std::move(driver);
  return {
    [self](const v1::executor::Event& event) { on_event(self, event); },
    [self](reap_atom) { reap(self); },
    [self](escalate_atom, const std::string& id) {
      auto it = self->state.running.find(id);
      if (it != self->state.running.end())
        self->state.launcher.signal_group(it->second.pid, SIGKILL);
    },
  };
}

} // namespace

protocols::executor_actor spawn_command_executor(caf::actor_system& sys,
                                                 sdk::executor_driver_actor driver,
                                                 command_executor_config cfg) {
  return sys.spawn<caf::detached>(executor_fn, std::move(driver), std::move(cfg));
}

} // namespace troupe::executors
