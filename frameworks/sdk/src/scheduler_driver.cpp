#include "troupe/sdk/scheduler_driver.hpp"

#include <optional>

#include <spdlog/spdlog.h>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "troupe/messages/builders.hpp"
#include "troupe/messages/errc.hpp"
#include "troupe/protocols/master.hpp"
#include "troupe/runtime/logging.hpp"
#include "troupe/runtime/seconds.hpp"
#include "troupe/runtime/transport.hpp"
#include "troupe/sdk/update_guard.hpp"
#include "troupe/runtime/supervision/restart_plan.hpp"

namespace troupe::sdk {

namespace {

using reconnect_atom = caf::atom_constant<caf::atom("reconn")>;
using subscribe_check_atom = caf::atom_constant<caf::atom("subcheck")>;
using heartbeat_check_atom = caf::atom_constant<caf::atom("hbcheck")>;
using finish_atom = caf::atom_constant<caf::atom("finish")>;
using restart_framework_atom = caf::atom_constant<caf::atom("fwrestart")>;

using driver_impl = scheduler_driver_actor::extend<
  caf::reacts_to<reconnect_atom, uint64_t>, caf::reacts_to<subscribe_check_atom, uint64_t>,
  caf::reacts_to<heartbeat_check_atom, uint64_t>, caf::reacts_to<finish_atom, caf::error>,
  caf::reacts_to<restart_framework_atom>>;

struct driver_state {
  scheduler_driver_config cfg;
  std::function<framework_actor(scheduler_driver_actor)> make; ///< restarts the framework
  framework_actor framework;       ///< null while it waits for its restart
  std::optional<runtime::restart_plan> restarts;
  v1::scheduler::Subscribed last_subscribed; ///< handed to a restarted framework
  protocols::master_actor master;
  bool subscribed = false;
  bool removed = false;    ///< the master removed the framework: the driver stays idle
  uint64_t generation = 0; ///< bumps on every connection attempt; stale timers ignore
  size_t attempt = 0;
  caf::timespan heartbeat = std::chrono::seconds{15};
  caf::actor_clock::time_point last_event;
  uint64_t epoch = 0;              ///< newest master epoch seen; older events are dropped
  protocols::master_actor leader;  ///< follow_leader: the last master a connector named
  update_guard ended;              ///< nothing from the stream after a task's terminal state
  static inline const char* name = "troupe.scheduler_driver";
};

using driver_pointer = driver_impl::stateful_pointer<driver_state>;

// Every call names the driver's own handle: the master answers (and knows the framework's
// scheduler by) it, whatever CAF thinks our connection is (runtime/reply_address.hpp).
caf::actor me(driver_pointer self) {
  return caf::actor_cast<caf::actor>(self);
}

void send_subscribe(driver_pointer self) {
  auto& st = self->state;
  v1::scheduler::Subscribe sub;
  *sub.mutable_framework_info() = st.cfg.framework;
  self->send(st.master, make_call(st.cfg.framework.id(), std::move(sub)), me(self));
  self->delayed_send(self, st.cfg.subscribe_timeout, subscribe_check_atom::value,
                     st.generation);
}

void connect(driver_pointer self);

// Lost the master (down, silent, or never reached): tell the framework once, retry later.
void lost(driver_pointer self, const std::string& why) {
  auto& st = self->state;
  if (st.master)
    self->demonitor(st.master.address());
  st.master = nullptr;
  if (st.subscribed)
    self->send(st.framework, disconnected_atom::value);
  st.subscribed = false;
  ++st.generation;
  auto delay = st.cfg.reconnect.delay(st.attempt++);
  // One line per backoff step; the driver keeps trying for ever (the framework decides when
  // to give up).
  runtime::node_logger("scheduler")
    ->warn("lost the master ({}); trying again in {:.1f} s", why,
           std::chrono::duration<double>(delay).count());
  self->delayed_send(self, delay, reconnect_atom::value, st.generation);
}

void connect(driver_pointer self) {
  auto& st = self->state;
  ++st.generation;
  if (st.removed)
    return;
  if (st.cfg.master.local || st.cfg.master.follow_leader) {
    st.master = st.cfg.master.local
                  ? caf::actor_cast<protocols::master_actor>(st.cfg.master.local)
                  : st.leader;
    if (!st.master)
      return; // no leader named yet: the connector's message starts the subscription
    self->monitor(st.master);
    send_subscribe(self);
    return;
  }
  auto generation = st.generation;
  self
    ->request(st.cfg.master.connector, caf::infinite, runtime::connect_atom::value,
              st.cfg.master.remote.host, st.cfg.master.remote.port)
    .then(
      [self, generation](caf::actor& master) {
        auto& st = self->state;
        if (generation != st.generation)
          return;
        st.master = caf::actor_cast<protocols::master_actor>(master);
        self->monitor(st.master);
        send_subscribe(self);
      },
      [self, generation](caf::error& err) {
        if (generation == self->state.generation)
          lost(self, error_message(err));
      });
}

void on_event(driver_pointer self, v1::scheduler::Event& event) {
  auto& st = self->state;
  // The master's address is its node's front actor; events come from the actor serving the
  // current leadership term on that node. Anything from another node is from a master we left.
  auto sender = self->current_sender();
  if (!st.master || !sender || sender->node() != st.master.node())
    return;
  if (event.epoch() < st.epoch)
    return; // a deposed master (fencing)
  st.epoch = event.epoch();
  st.last_event = self->clock().now();
  using E = v1::scheduler::Event;
  // Until Subscribed arrives (it may have been lost) the framework could not answer an offer:
  // its accept would be dropped here (found by the simulator: that stalled a batch for a whole
  // check interval). Such offers are not handed on; they expire at the master. Everything
  // else is.
  if (!st.subscribed
      && (event.event_case() == E::kOffers || event.event_case() == E::kRescind))
    return;
  switch (event.event_case()) {
    case E::kSubscribed: {
      st.subscribed = true;
      st.attempt = 0;
      *st.cfg.framework.mutable_id() = event.subscribed().framework_id();
      if (event.subscribed().heartbeat_interval_seconds() > 0)
        st.heartbeat = runtime::from_seconds(event.subscribed().heartbeat_interval_seconds());
      self->delayed_send(self, st.heartbeat, heartbeat_check_atom::value, st.generation);
      st.last_subscribed = event.subscribed();
      self->send(st.framework, std::move(*event.mutable_subscribed()));
      break;
    }
    case E::kOffers:
      if (!st.framework) { // restarting: nobody can answer them; no hoarding
        v1::scheduler::Decline decline;
        for (const auto& offer : event.offers().offers())
          *decline.add_offer_ids() = offer.id();
        self->send(st.master, make_call(st.cfg.framework.id(), std::move(decline)), me(self));
        break;
      }
      self->send(st.framework, std::move(*event.mutable_offers()));
      break;
    case E::kRescind:
      self->send(st.framework, std::move(*event.mutable_rescind()));
      break;
    case E::kUpdate: {
      if (!st.framework)
        break; // restarting: not acknowledged, so the agent sends it again
      const auto& status = event.update().status();
      v1::scheduler::Acknowledge ack;
      *ack.mutable_agent_id() = status.agent_id();
      *ack.mutable_task_id() = status.task_id();
      ack.set_uuid(status.uuid());
      bool needs_ack = st.cfg.auto_acknowledge && !status.uuid().empty();
      // A stale stream update after the task's end is acknowledged (the agent stops resending
      // it) but not handed on.
      if (st.ended.admit(status))
        self->send(st.framework, std::move(*event.mutable_update()));
      else
        needs_ack = !status.uuid().empty();
      if (needs_ack)
        self->send(st.master, make_call(st.cfg.framework.id(), std::move(ack)), me(self));
      break;
    }
    case E::kMessage:
      self->send(st.framework, std::move(*event.mutable_message()));
      break;
    case E::kFailure:
      self->send(st.framework, std::move(*event.mutable_failure()));
      break;
    case E::kError:
      if (event.error().removed() && !st.subscribed) { // our ID is gone: no more attempts
        st.removed = true;
        ++st.generation; // pending retries and checks are stale
      }
      self->send(st.framework, std::move(*event.mutable_error()));
      break;
    default: // heartbeats only prove the master alive
      break;
  }
}

// A leader connector names the leading master: leave the old one, subscribe there.
void on_leader(driver_pointer self, caf::actor& master, const v1::MasterInfo& info) {
  auto& st = self->state;
  auto handle = caf::actor_cast<protocols::master_actor>(std::move(master));
  // Election announcements carry no epoch (0): the master's events are fenced instead.
  if ((info.epoch() != 0 && info.epoch() < st.epoch) || !handle || handle == st.master)
    return;
  st.leader = handle;
  if (st.master)
    self->demonitor(st.master.address());
  st.master = nullptr;
  if (st.subscribed)
    self->send(st.framework, disconnected_atom::value);
  st.subscribed = false;
  st.attempt = 0;
  connect(self);
}

void on_call(driver_pointer self, v1::scheduler::Call& call) {
  auto& st = self->state;
  if (call.has_subscribe() || !st.subscribed) {
    v1::scheduler::Error err;
    err.set_message(call.has_subscribe() ? "the driver subscribes by itself"
                    : st.removed
                      ? "framework " + st.cfg.framework.id().value()
                          + " was removed: the call was dropped; start a new driver without its ID"
                      : "not subscribed: the call was dropped; reconcile after the next "
                        "Subscribed");
    err.set_removed(st.removed && !call.has_subscribe());
    self->send(st.framework, std::move(err));
    return;
  }
  *call.mutable_framework_id() = st.cfg.framework.id();
  self->send(st.master, std::move(call), me(self));
}

driver_impl::behavior_type driver_fn(driver_pointer self, scheduler_driver_config cfg,
                                     std::function<framework_actor(scheduler_driver_actor)> make) {
  self->state.cfg = std::move(cfg);
  self->state.make = std::move(make);
  self->state.framework = self->state.make(self);
  self->link_to(self->state.framework);
  // The framework ended normally (or the driver was told to stop): end too, after whatever it
  // sent last. Exit messages overtake normal ones: finish through the mailbox, so calls queued
  // before the exit (a framework's last Teardown) still go out. A crash of the framework is
  // restarted (see spawn_scheduler_driver).
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    bool framework = st.framework && msg.source == st.framework.address();
    if (framework && msg.reason && st.cfg.framework_restarts.max_restarts > 0) {
      if (!st.restarts)
        st.restarts.emplace(st.cfg.framework_restarts, std::vector<std::string>{"framework"});
      auto d = st.restarts->on_exit(0, true, self->clock().now());
      auto why = self->system().render(msg.reason);
      if (d.what == runtime::restart_plan::action::restart) {
        st.framework = nullptr;
        runtime::node_logger("scheduler")
          ->error("the framework crashed ({}); restarting it in {:.1f} s", why,
                  std::chrono::duration<double>(d.delay).count());
        self->delayed_send(self, d.delay, restart_framework_atom::value);
        return;
      }
      msg.reason = make_error(errc::supervisor_gave_up, d.why + "; last reason: " + why);
    }
    self->send(self, finish_atom::value, std::move(msg.reason));
  });
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    if (!st.master || msg.source != st.master.address())
      return;
    // Following the leader, a dead handle is not tried again: the leader connector hands a new
    // one once it has connected again (or a new leader is elected).
    if (st.cfg.master.follow_leader && st.leader == st.master)
      st.leader = nullptr;
    lost(self, "master down");
  });
  connect(self);
  return {
    [self](v1::scheduler::Call& call) { on_call(self, call); },
    [self](v1::scheduler::Event& event) { on_event(self, event); },
    [self](runtime::election::leader_atom, caf::actor& master, const v1::MasterInfo& info) {
      on_leader(self, master, info);
    },
    [self](finish_atom, caf::error& reason) { self->quit(std::move(reason)); },
    [self](restart_framework_atom) {
      auto& st = self->state;
      if (st.framework)
        return;
      st.framework = st.make(self);
      self->link_to(st.framework);
      runtime::node_logger("scheduler")->info("framework restarted");
      if (st.subscribed) { // it reconciles, as after any Subscribed
        self->send(st.framework, st.last_subscribed);
      } else if (st.removed) { // the master removed the framework meanwhile: say so again
        v1::scheduler::Error err;
        err.set_message("framework " + st.cfg.framework.id().value()
                        + " was removed by the master; start a new driver without its ID");
        err.set_removed(true);
        self->send(st.framework, std::move(err));
      } else if (st.master) { // between subscriptions: as after any connection loss
        self->send(st.framework, disconnected_atom::value);
      }
    },
    [self](reconnect_atom, uint64_t generation) {
      if (generation == self->state.generation)
        connect(self);
    },
    [self](subscribe_check_atom, uint64_t generation) {
      auto& st = self->state;
      if (generation == st.generation && !st.subscribed && st.master)
        send_subscribe(self);
    },
    [self](heartbeat_check_atom, uint64_t generation) {
      auto& st = self->state;
      if (generation != st.generation || !st.subscribed)
        return;
      auto silence = self->clock().now() - st.last_event;
      if (silence > std::chrono::duration_cast<caf::timespan>(st.heartbeat
                                                              * st.cfg.heartbeat_misses))
        lost(self, "no heartbeat");
      else
        self->delayed_send(self, st.heartbeat, heartbeat_check_atom::value, generation);
    },
  };
}

} // namespace

runtime::supervisor_config scheduler_driver_config::default_framework_restarts() {
  runtime::supervisor_config cfg;
  cfg.backoff = {std::chrono::seconds{1}, std::chrono::seconds{30}, 2.0};
  cfg.max_restarts = 3;
  cfg.window = std::chrono::minutes{5};
  cfg.name = "scheduler driver";
  return cfg;
}

scheduler_driver_actor
spawn_scheduler_driver(caf::actor_system& sys, scheduler_driver_config cfg,
                       std::function<framework_actor(scheduler_driver_actor)> make_framework) {
  return sys.spawn(driver_fn, std::move(cfg), std::move(make_framework));
}

} // namespace troupe::sdk
