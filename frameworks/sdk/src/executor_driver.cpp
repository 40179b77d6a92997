#include "troupe/sdk/executor_driver.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "troupe/messages/builders.hpp"
#include "troupe/messages/errc.hpp"
#include "troupe/protocols/agent.hpp"
#include "troupe/runtime/random.hpp"
#include "troupe/runtime/unix_time.hpp"

namespace troupe::sdk {

caf::expected<executor_settings> executor_settings::from_environment() {
  auto get = [](const char* name) -> caf::expected<std::string> {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0')
      return make_error(errc::config_error, std::string{name}
                                              + " is not set: troupe-executor runs only "
                                                "when an agent starts it");
    return std::string{v};
  };
  executor_settings out;
  for (auto [name, dest] : {std::pair{"TROUPE_AGENT_ENDPOINT", &out.agent_endpoint},
                            std::pair{"TROUPE_SANDBOX", &out.sandbox}}) {
    auto v = get(name);
    if (!v)
      return v.error();
    *dest = *v;
  }
  for (auto [name, dest] : {std::pair{"TROUPE_AGENT_ID", out.agent_id.mutable_value()},
                            std::pair{"TROUPE_FRAMEWORK_ID", out.framework_id.mutable_value()},
                            std::pair{"TROUPE_EXECUTOR_ID", out.executor_id.mutable_value()},
                            std::pair{"TROUPE_CONTAINER_ID", out.container_id.mutable_value()}}) {
    auto v = get(name);
    if (!v)
      return v.error();
    *dest = *v;
  }
  if (const char* t = std::getenv("TROUPE_RECOVERY_TIMEOUT"); t != nullptr && *t != '\0') {
    char* end = nullptr;
    out.recovery_timeout = std::strtod(t, &end);
    if (end == t || *end != '\0' || out.recovery_timeout < 0)
      return make_error(errc::config_error,
                        std::string{"TROUPE_RECOVERY_TIMEOUT is not a number of seconds: "} + t);
  }
  return out;
}

namespace {

using reconnect_atom = caf::atom_constant<caf::atom("reconn")>;
using subscribe_check_atom = caf::atom_constant<caf::atom("subcheck")>;

using driver_impl = executor_driver_actor::extend<caf::reacts_to<reconnect_atom, uint64_t>,
                                                  caf::reacts_to<subscribe_check_atom, uint64_t>>;

struct driver_state {
  executor_driver_config cfg;
  protocols::executor_actor executor;
  protocols::agent_actor agent;
  std::optional<runtime::seeded_random> random;
  std::map<std::string, v1::executor::Update> unacknowledged; ///< by uuid
  uint64_t generation = 0;
  size_t attempt = 0;
  size_t subscribe_attempt = 0;   ///< Subscribes sent on this connection, unanswered
  caf::actor_clock::time_point lost_since{}; ///< since when we have no subscription
  bool subscribed = false;        ///< the agent answered on this connection
  bool ever_subscribed = false;
  std::set<std::string> launched; ///< task IDs whose launch went to the executor
  static inline const char* name = "troupe.executor_driver";
};

using driver_pointer = driver_impl::stateful_pointer<driver_state>;

v1::executor::Call make_executor_call(const executor_settings& s) {
  v1::executor::Call call;
  *call.mutable_executor_id() = s.executor_id;
  *call.mutable_framework_id() = s.framework_id;
  return call;
}

// How long we may go without a subscription before giving up. Before the first one the agent is
// starting us and must be there: it gets the registration timeout, not the (possibly short)
// recovery timeout of a restarting agent.
caf::timespan give_up_after(const driver_state& st) {
  return st.ever_subscribed ? st.cfg.recovery_timeout
                            : std::max(st.cfg.recovery_timeout, st.cfg.first_subscribe_timeout);
}

// The Subscribe names our own handle: the agent answers it even when CAF attributes our
// connection to another node (runtime/reply_address.hpp). It is sent again until answered
// (a Subscribe or its answer can be lost with a connection or dropped by a busy agent).
void subscribe(driver_pointer self) {
  auto& st = self->state;
  auto call = make_executor_call(st.cfg.settings);
  auto* sub = call.mutable_subscribe();
  for (const auto& [uuid, update] : st.unacknowledged)
    *sub->add_unacknowledged_updates() = update;
  self->send(st.agent, std::move(call), caf::actor_cast<caf::actor>(self));
  self->delayed_send(self, st.cfg.resubscribe.delay(st.subscribe_attempt++),
                     subscribe_check_atom::value, st.generation);
}

void on_subscribe_check(driver_pointer self, uint64_t generation) {
  auto& st = self->state;
  if (generation != st.generation || st.subscribed || !st.agent)
    return;
  if (self->clock().now() - st.lost_since > give_up_after(st)) {
    self->quit(make_error(errc::unavailable, "the agent does not answer our subscription"));
    return;
  }
  subscribe(self);
}

void connect(driver_pointer self);

// Whether `event` launches tasks not launched before (and notes them as launched).
bool first_launch(driver_state& st, const v1::executor::Event& event) {
  std::vector<std::string> ids;
  if (event.has_launch())
    ids.push_back(event.launch().task().task_id().value());
  else
    for (const auto& t : event.launch_group().task_group().tasks())
      ids.push_back(t.task_id().value());
  for (const auto& id : ids)
    if (st.launched.count(id) > 0)
      return false;
  st.launched.insert(ids.begin(), ids.end());
  return true;
}

void lost(driver_pointer self) {
  auto& st = self->state;
  if (st.agent)
    self->demonitor(st.agent.address());
  st.agent = nullptr;
  st.subscribed = false;
  ++st.generation;
  auto now = self->clock().now();
  if (st.lost_since == caf::actor_clock::time_point{})
    st.lost_since = now;
  if (st.cfg.agent.local || now - st.lost_since > give_up_after(st)) {
    self->quit(make_error(errc::unavailable, "lost the agent"));
    return;
  }
  self->delayed_send(self, st.cfg.reconnect.delay(st.attempt++), reconnect_atom::value,
                     st.generation);
}

void connect(driver_pointer self) {
  auto& st = self->state;
  ++st.generation;
  st.subscribed = false;
  st.subscribe_attempt = 0;
  if (st.lost_since == caf::actor_clock::time_point{})
    st.lost_since = self->clock().now();
  if (st.cfg.agent.local) {
    st.agent = caf::actor_cast<protocols::agent_actor>(st.cfg.agent.local);
    self->monitor(st.agent);
    subscribe(self);
    return;
  }
  auto generation = st.generation;
  self
    ->request(st.cfg.agent.connector, caf::infinite, runtime::connect_atom::value,
              st.cfg.agent.remote.host, st.cfg.agent.remote.port)
    .then(
      [self, generation](caf::actor& agent) {
        auto& st = self->state;
        if (generation != st.generation)
          return;
        st.agent = caf::actor_cast<protocols::agent_actor>(agent);
        self->monitor(st.agent);
        subscribe(self);
      },
      [self, generation](caf::error&) {
        if (generation == self->state.generation)
          lost(self);
      });
}

void on_status(driver_pointer self, v1::TaskStatus& status) {
  auto& st = self->state;
  if (status.uuid().empty())
    status.set_uuid(st.random->uuid());
  auto uuid = status.uuid();
  status.set_timestamp(runtime::unix_seconds(self->clock()));
  status.set_source(v1::TaskStatus::SOURCE_EXECUTOR);
  *status.mutable_executor_id() = st.cfg.settings.executor_id;
  *status.mutable_agent_id() = st.cfg.settings.agent_id;
  *status.mutable_container_id() = st.cfg.settings.container_id;
  v1::executor::Update update;
  *update.mutable_status() = std::move(status);
  st.unacknowledged[uuid] = update;
  if (st.agent) {
    auto call = make_executor_call(st.cfg.settings);
    *call.mutable_update() = std::move(update);
    self->send(st.agent, std::move(call));
  }
}

driver_impl::behavior_type
driver_fn(driver_pointer self, executor_driver_config cfg,
          std::function<protocols::executor_actor(executor_driver_actor)> make) {
  auto& st = self->state;
  auto seed = cfg.seed != 0 ? cfg.seed
                            : runtime::derive_seed(1, cfg.settings.executor_id.value());
  st.random.emplace(seed, "executor/" + cfg.settings.container_id.value());
  st.cfg = std::move(cfg);
  st.executor = make(self);
  self->link_to(st.executor);
  // The framework (or executor) ended: end too, after whatever it sent last.
  self->set_exit_handler([self](caf::exit_msg& msg) { self->quit(msg.reason); });
  self->set_down_handler([self](caf::down_msg& msg) {
    if (self->state.agent && msg.source == self->state.agent.address())
      lost(self);
  });
  connect(self);
  return {
    [self](v1::TaskStatus& status) { on_status(self, status); },
    [self](v1::executor::ToFramework& msg) {
      auto& st = self->state;
      if (!st.agent)
        return;
      auto call = make_executor_call(st.cfg.settings);
      *call.mutable_message() = std::move(msg);
      self->send(st.agent, std::move(call));
    },
    [self](v1::executor::Event& event) {
      auto& st = self->state;
      if (!st.agent || self->current_sender() != caf::actor_cast<caf::strong_actor_ptr>(st.agent))
        return; // from an agent we already left (or before we found one)
      if (event.has_subscribed()) {
        if (st.subscribed)
          return; // the answer to a Subscribe sent again: the executor heard it once
        st.subscribed = true;
        st.attempt = 0;
        st.lost_since = {};
        st.ever_subscribed = true;
      } else if (event.has_acknowledged()) {
        st.unacknowledged.erase(event.acknowledged().uuid());
      } else if (event.has_launch() || event.has_launch_group()) {
        if (!first_launch(st, event))
          return; // the agent sends launches again at every subscription: once is enough
      }
      self->send(st.executor, std::move(event));
    },
    [self](reconnect_atom, uint64_t generation) {
      if (generation == self->state.generation)
        connect(self);
    },
    [self](subscribe_check_atom, uint64_t generation) { on_subscribe_check(self, generation); },
  };
}

} // namespace

executor_driver_actor
spawn_executor_driver(caf::actor_system& sys, executor_driver_config cfg,
                      std::function<protocols::executor_actor(executor_driver_actor)> make_executor) {
  return sys.spawn(driver_fn, std::move(cfg), std::move(make_executor));
}

} // namespace troupe::sdk
