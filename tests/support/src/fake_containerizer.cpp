#include "troupe/test/fake_containerizer.hpp"

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "troupe/isolation/posix_launcher.hpp"
#include "troupe/messages/builders.hpp"
#include "troupe/messages/errc.hpp"
#include "troupe/runtime/transport.hpp"
#include "troupe/sdk/executor_driver.hpp"

namespace troupe::test {

namespace {

// -- the fake executor ---------------------------------------------------------------------

/// Fake executor -> itself when a task's duration is over.
using fake_finish_atom = caf::atom_constant<caf::atom("fakefin")>;

using fake_executor_impl =
  protocols::executor_actor::extend<caf::reacts_to<fake_finish_atom, std::string>>;

struct fake_executor_state {
  fake_containerizer_config cfg;
  sdk::executor_driver_actor driver;
  std::string container;
  uint64_t next_uuid = 0;
  std::map<std::string, int> running;  ///< task ID -> the exit code it will end with
  std::set<std::string> seen;          ///< every task ID launched here (duplicates ignored)
  std::set<std::string> awaiting_ack;  ///< uuids of updates the agent has not acknowledged
  bool had_task = false;
  bool shutting_down = false;
  static inline const char* name = "troupe.test.fake_executor";
};

using fake_executor_pointer = fake_executor_impl::stateful_pointer<fake_executor_state>;

// A label's value as a number; `fallback` when absent or malformed.
long long label_number(const v1::TaskInfo& task, const char* key, long long fallback) {
  for (const auto& label : task.labels().labels()) {
    if (label.key() != key)
      continue;
    char* end = nullptr;
    auto value = std::strtoll(label.value().c_str(), &end, 10);
    if (end != label.value().c_str() && *end == '\0')
      return value;
  }
  return fallback;
}

// Every update carries our own uuid (deterministic, unique within the container), so we know
// when the last one is acknowledged.
void report(fake_executor_pointer self, const v1::TaskID& task, v1::TaskState state,
            const std::string& message, std::optional<int> exit_code = std::nullopt) {
  auto& st = self->state;
  auto status = make_task_status(task, state, v1::TaskStatus::SOURCE_EXECUTOR, 0,
                                 v1::TaskStatus::REASON_UNKNOWN, message);
  if (exit_code)
    status.set_exit_status(*exit_code);
  auto uuid = "fake:" + st.container + ":" + std::to_string(st.next_uuid++);
  status.set_uuid(uuid);
  st.awaiting_ack.insert(std::move(uuid));
  if (st.cfg.on_report)
    st.cfg.on_report(status);
  self->send(st.driver, std::move(status));
}

void maybe_finish(fake_executor_pointer self) {
  auto& st = self->state;
  if (st.running.empty() && st.awaiting_ack.empty() && (st.had_task || st.shutting_down))
    self->quit();
}

void launch(fake_executor_pointer self, const v1::TaskInfo& task) {
  auto& st = self->state;
  const auto& id = task.task_id().value();
  if (st.shutting_down || !st.seen.insert(id).second)
    return;
  st.had_task = true;
  auto exit_code = label_number(task, fake_exit_code_label, st.cfg.default_exit_code);
  auto default_ms =
    std::chrono::duration_cast<std::chrono::milliseconds>(st.cfg.default_duration).count();
  auto duration = std::chrono::milliseconds{
    std::max<long long>(0, label_number(task, fake_duration_label, default_ms))};
  st.running[id] = static_cast<int>(exit_code);
  report(self, task.task_id(), v1::TASK_RUNNING, "");
  if (duration.count() == 0)
    self->send(self, fake_finish_atom::value, id);
  else
    self->delayed_send(self, duration, fake_finish_atom::value, id);
}

void finish(fake_executor_pointer self, const std::string& id) {
  auto& st = self->state;
  auto it = st.running.find(id);
  if (it == st.running.end())
    return; // killed meanwhile
  auto code = it->second;
  st.running.erase(it);
  report(self, make_task_id(id), code == 0 ? v1::TASK_FINISHED : v1::TASK_FAILED,
         "exited with status " + std::to_string(code), code);
}

void kill(fake_executor_pointer self, const v1::TaskID& id) {
  auto& st = self->state;
  auto it = st.running.find(id.value());
  if (it == st.running.end())
    return;
  st.running.erase(it);
  report(self, id, v1::TASK_KILLING, "");
  report(self, id, v1::TASK_KILLED, "killed");
}

void on_event(fake_executor_pointer self, const v1::executor::Event& event) {
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
      kill(self, event.kill().task_id());
      break;
    case E::kShutdown: {
      st.shutting_down = true;
      std::vector<std::string> ids;
      for (const auto& [id, code] : st.running)
        ids.push_back(id);
      for (const auto& id : ids)
        kill(self, make_task_id(id));
      maybe_finish(self);
      break;
    }
    case E::kAcknowledged:
      st.awaiting_ack.erase(event.acknowledged().uuid());
      maybe_finish(self);
      break;
    default: // subscribed, messages and errors need nothing from the fake
      break;
  }
}

fake_executor_impl::behavior_type fake_executor_fn(fake_executor_pointer self,
                                                   sdk::executor_driver_actor driver,
                                                   fake_containerizer_config cfg,
                                                   std::string container) {
  self->state.cfg = cfg;
  self->state.driver = std::move(driver);
  self->state.container = std::move(container);
  return {
    [self](const v1::executor::Event& event) { on_event(self, event); },
    [self](fake_finish_atom, const std::string& id) {
      finish(self, id);
      maybe_finish(self);
    },
  };
}

} // namespace

// -- the host --------------------------------------------------------------------------------

struct fake_host::impl {
  caf::actor agent;                                           ///< the current one, if any
  caf::actor connector;                                       ///< executors ask it for it
  std::map<std::string, sdk::executor_driver_actor> executors; ///< by container ID
};

fake_host::fake_host(caf::actor_system& sys) : impl_(std::make_shared<impl>()) {
  std::weak_ptr<impl> weak = impl_;
  impl_->connector = sys.spawn([weak](caf::event_based_actor*) -> caf::behavior {
    return {
      [weak](runtime::connect_atom, const std::string&, uint16_t) -> caf::result<caf::actor> {
        auto host = weak.lock();
        if (!host || !host->agent)
          return make_error(errc::unavailable, "no agent runs on this host");
        return host->agent;
      },
    };
  });
}

fake_host::~fake_host() {
  reboot();
  caf::anon_send_exit(impl_->connector, caf::exit_reason::user_shutdown);
}

void fake_host::agent_gone() {
  impl_->agent = nullptr;
}

void fake_host::reboot() {
  agent_gone();
  for (auto& [id, driver] : impl_->executors)
    caf::anon_send_exit(driver, caf::exit_reason::kill);
  impl_->executors.clear();
}

size_t fake_host::executors() const {
  return impl_->executors.size();
}

namespace {

// -- the fake containerizer ----------------------------------------------------------------

struct fake_container {
  sdk::executor_driver_actor driver;
  bool destroyed = false;
};

struct fake_containerizer_state {
  fake_containerizer_config cfg;
  isolation::container_watcher_actor watcher;
  std::map<std::string, fake_container> live;           ///< by container ID
  std::map<caf::actor_addr, std::string> by_driver;     ///< driver -> container ID
  static inline const char* name = "troupe.test.fake_containerizer";

  ~fake_containerizer_state() {
    // Ending for any reason: without a host, no executor outlives its containerizer; on a
    // host they live on (as processes do) for the next agent to adopt.
    if (!cfg.host)
      for (auto& [id, c] : live)
        caf::anon_send_exit(c.driver, caf::exit_reason::kill);
  }
};

using fake_containerizer_pointer =
  isolation::containerizer_actor::stateful_pointer<fake_containerizer_state>;

caf::expected<sdk::executor_settings> settings_of(const isolation::launch_request& req) {
  std::map<std::string, std::string> env{req.environment.begin(), req.environment.end()};
  auto get = [&](const char* name, std::string& dest) -> caf::error {
    auto it = env.find(name);
    if (it == env.end() || it->second.empty())
      return make_error(errc::invalid_argument,
                        std::string{"the launch environment lacks "} + name);
    dest = it->second;
    return caf::none;
  };
  sdk::executor_settings out;
  for (auto [name, dest] : {std::pair{"TROUPE_AGENT_ID", out.agent_id.mutable_value()},
                            std::pair{"TROUPE_FRAMEWORK_ID", out.framework_id.mutable_value()},
                            std::pair{"TROUPE_EXECUTOR_ID", out.executor_id.mutable_value()},
                            std::pair{"TROUPE_CONTAINER_ID", out.container_id.mutable_value()},
                            std::pair{"TROUPE_SANDBOX", &out.sandbox}})
    if (auto err = get(name, *dest))
      return err;
  return out;
}

caf::result<isolation::container_launched> on_launch(fake_containerizer_pointer self,
                                                     const isolation::launch_request& req) {
  auto& st = self->state;
  const auto& id = req.container_id.value();
  if (id.empty() || req.sandbox.empty())
    return make_error(errc::invalid_argument, "empty container id or sandbox");
  if (st.live.count(id) > 0)
    return make_error(errc::already_exists, "container " + id + " is live");
  auto settings = settings_of(req);
  if (!settings)
    return settings.error();
  sdk::executor_driver_config dcfg;
  dcfg.settings = std::move(*settings);
  if (st.cfg.host) { // found through the host, so it can reconnect to a restarted agent
    dcfg.agent.remote = {"fake-host", 0};
    dcfg.agent.connector = st.cfg.host->impl_->connector;
  } else {
    dcfg.agent.local = caf::actor_cast<caf::actor>(st.watcher); // the watcher is the agent
  }
  auto* sys = &self->system();
  auto driver = sdk::spawn_executor_driver(
    *sys, std::move(dcfg), [sys, cfg = st.cfg, id](sdk::executor_driver_actor d) {
      return protocols::executor_actor{sys->spawn(fake_executor_fn, std::move(d), cfg, id)};
    });
  self->monitor(driver);
  st.by_driver[driver.address()] = id;
  st.live[id] = fake_container{driver, false};
  if (st.cfg.host)
    st.cfg.host->impl_->executors[id] = driver;
  return isolation::container_launched{req.container_id, 0};
}

void on_destroy(fake_containerizer_pointer self, const v1::ContainerID& id) {
  auto it = self->state.live.find(id.value());
  if (it == self->state.live.end() || it->second.destroyed)
    return;
  it->second.destroyed = true;
  // kill is the one exit reason the driver cannot trap; its executor (linked) follows.
  self->send_exit(it->second.driver, caf::exit_reason::kill);
}

// The driver ends after its executor (and the executor after its driver): the container is
// over. An executor that quit by itself exited 0; a destroyed one was SIGKILLed; a driver that
// failed (it lost the agent) exited 1.
void on_driver_down(fake_containerizer_pointer self, const caf::down_msg& msg) {
  auto& st = self->state;
  auto by = st.by_driver.find(msg.source);
  if (by == st.by_driver.end())
    return;
  auto id = by->second;
  st.by_driver.erase(by);
  auto it = st.live.find(id);
  if (it == st.live.end())
    return;
  isolation::container_exited exited;
  exited.container_id = make_container_id(id);
  exited.destroyed = it->second.destroyed;
  if (exited.destroyed)
    exited.wait_status = SIGKILL; // as waitpid reports a SIGKILLed process
  else if (msg.reason)
    exited.wait_status = 1 << 8; // exit status 1
  else
    exited.wait_status = 0;
  exited.message = isolation::describe_wait_status(exited.wait_status);
  st.live.erase(it);
  if (st.cfg.host)
    st.cfg.host->impl_->executors.erase(id);
  self->send(st.watcher, std::move(exited));
}

// On a host: the executors the agent's checkpoints know are adopted (a dead one reports its
// exit through the down message); the others are orphans and destroyed.
std::vector<v1::ContainerID> adopt(fake_containerizer_pointer self,
                                   const std::vector<isolation::container_launched>& known) {
  auto& st = self->state;
  std::vector<v1::ContainerID> adopted;
  if (!st.cfg.host)
    return adopted;
  std::set<std::string> wanted;
  for (const auto& k : known)
    wanted.insert(k.container_id.value());
  auto& on_host = st.cfg.host->impl_->executors;
  for (auto it = on_host.begin(); it != on_host.end();) {
    if (wanted.count(it->first) == 0) {
      caf::anon_send_exit(it->second, caf::exit_reason::kill);
      it = on_host.erase(it);
      continue;
    }
    self->monitor(it->second);
    st.by_driver[it->second.address()] = it->first;
    st.live[it->first] = fake_container{it->second, false};
    adopted.push_back(make_container_id(it->first));
    ++it;
  }
  return adopted;
}

isolation::containerizer_actor::behavior_type
fake_containerizer_fn(fake_containerizer_pointer self, fake_containerizer_config cfg,
                      isolation::container_watcher_actor watcher) {
  self->state.cfg = cfg;
  self->state.watcher = std::move(watcher);
  self->set_down_handler([self](caf::down_msg& msg) { on_driver_down(self, msg); });
  return {
    [self](isolation::launch_atom, const isolation::launch_request& req) {
      return on_launch(self, req);
    },
    [self](isolation::destroy_atom, const v1::ContainerID& id, caf::timespan) {
      on_destroy(self, id);
    },
    [self](isolation::containers_atom) {
      std::vector<v1::ContainerID> out;
      for (const auto& [id, c] : self->state.live)
        out.push_back(make_container_id(id));
      return out;
    },
    [self](isolation::recover_atom, const std::vector<isolation::container_launched>& known) {
      // Without a host, in-process executors died with the containerizer that ran them.
      return adopt(self, known);
    },
    [](isolation::usage_atom, const v1::ContainerID&) {
      return v1::ResourceStatistics{}; // fake containers use nothing measurable
    },
    [](isolation::limitation_atom, const v1::ContainerID&) {
      return std::vector<isolation::limitation>{}; // and hit no limits
    },
    [](isolation::update_atom, const v1::ContainerID&, const isolation::container_limits&) {},
  };
}

} // namespace

agent::containerizer_factory fake_containerizer_factory(fake_containerizer_config cfg) {
  return [cfg](caf::actor_system& sys, isolation::container_watcher_actor watcher) {
    if (cfg.host) // executors on the host reach this agent from now on
      cfg.host->impl_->agent = caf::actor_cast<caf::actor>(watcher);
    return isolation::containerizer_actor{
      sys.spawn(fake_containerizer_fn, cfg, std::move(watcher))};
  };
}

} // namespace troupe::test
