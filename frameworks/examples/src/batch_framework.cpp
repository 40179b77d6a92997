#include "troupe/examples/batch_framework.hpp"

#include <deque>
#include <set>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "troupe/messages/builders.hpp"

namespace troupe::examples {

namespace {

using relaunch_atom = caf::atom_constant<caf::atom("relaunch")>;
using check_atom = caf::atom_constant<caf::atom("batchchk")>;
using batch_impl = sdk::framework_actor::extend<caf::reacts_to<relaunch_atom, uint32_t>,
                                                caf::reacts_to<check_atom>>;

enum class copy_phase { waiting, pending, launched, finished, gave_up };

struct copy_slot {
  copy_phase phase = copy_phase::pending;
  uint32_t attempts = 0;  // launches that count against max_attempts
  uint32_t launches = 0;  // every launch (names the task: IDs are never reused)
  std::string task; // the current attempt's task ID
  caf::actor_clock::time_point launched_at{}; // when the current attempt was accepted
  v1::AgentID agent;                          // where it was launched
};

struct batch_state {
  batch_config cfg;
  sdk::scheduler_driver_actor driver;
  batch_observer_actor observer;
  std::vector<copy_slot> copies;
  int32_t last_exit = -1;
  std::set<std::string> answered;       ///< offer IDs already accepted or declined
  std::deque<std::string> answered_order; ///< oldest first (the set is bounded)
  static inline const char* name = "troupe.example.batch";
};
using batch_pointer = batch_impl::stateful_pointer<batch_state>;

template <class Msg>
void call(batch_pointer self, Msg msg) {
  self->send(self->state.driver, make_call(v1::FrameworkID{}, std::move(msg)));
}

void finish(batch_pointer self, bool tear_down);

bool ended(const copy_slot& c) {
  return c.phase == copy_phase::finished || c.phase == copy_phase::gave_up;
}

void on_offers(batch_pointer self, const v1::scheduler::Offers& msg) {
  auto& st = self->state;
  for (const auto& offer : msg.offers()) {
    // A repeated Offers event (messages may arrive twice) must not launch more copies on an
    // offer already answered: the master would drop them.
    if (!st.answered.insert(offer.id().value()).second)
      continue;
    st.answered_order.push_back(offer.id().value());
    if (st.answered_order.size() > 10000) {
      st.answered.erase(st.answered_order.front());
      st.answered_order.pop_front();
    }
    auto left = *resources::from_proto(offer.resources());
    std::vector<v1::TaskInfo> tasks;
    for (uint32_t i = 0; i < st.copies.size(); ++i) {
      auto& c = st.copies[i];
      if (c.phase != copy_phase::pending || !left.contains(st.cfg.per_task))
        continue;
      left -= st.cfg.per_task;
      c.phase = copy_phase::launched;
      c.launched_at = self->clock().now();
      c.agent = offer.agent_id();
      ++c.attempts;
      c.task = st.cfg.name + "-" + std::to_string(i) + "-" + std::to_string(++c.launches);
      tasks.push_back(make_task_info(make_task_id(c.task), c.task, offer.agent_id(),
                                     st.cfg.per_task, st.cfg.command));
    }
    v1::scheduler::Accept accept;
    *accept.add_offer_ids() = offer.id();
    if (!tasks.empty())
      *accept.add_operations() = make_launch(std::move(tasks));
    call(self, std::move(accept)); // no operations = decline, with the default filter
  }
  bool more = std::any_of(st.copies.begin(), st.copies.end(),
                          [](auto& c) { return c.phase == copy_phase::pending; });
  if (!more)
    call(self, v1::scheduler::Suppress{});
}

// Whether an ended launch counts against max_attempts.
bool counts_as_attempt(const batch_config& cfg, const v1::TaskStatus& status) {
  bool lost_with_machine = false;
  switch (status.state()) {
    case v1::TASK_UNKNOWN: // never launched
      return false;
    case v1::TASK_DROPPED:
      if (status.reason() == v1::TaskStatus::REASON_INVALID_OFFERS)
        return false; // never launched
      break;
    case v1::TASK_UNREACHABLE: case v1::TASK_GONE: case v1::TASK_GONE_BY_OPERATOR:
      lost_with_machine = true;
      break;
    default:
      lost_with_machine = status.reason() == v1::TaskStatus::REASON_AGENT_RESTARTED
                          || status.reason() == v1::TaskStatus::REASON_AGENT_REMOVED
                          || status.reason() == v1::TaskStatus::REASON_AGENT_UNREACHABLE;
  }
  return !(lost_with_machine && cfg.lost_attempts_are_free);
}

void on_update(batch_pointer self, const v1::TaskStatus& status) {
  auto& st = self->state;
  self->send(st.observer, status);
  auto it = std::find_if(st.copies.begin(), st.copies.end(),
                         [&](auto& c) { return c.task == status.task_id().value(); });
  if (it == st.copies.end() || it->phase != copy_phase::launched)
    return; // an old attempt, or a repeat of a final update (a relaunch is already due)
  auto& c = *it;
  switch (status.state()) {
    case v1::TASK_FINISHED:
      c.phase = copy_phase::finished;
      st.last_exit = status.has_exit_status() ? status.exit_status() : 0;
      break;
    case v1::TASK_FAILED: case v1::TASK_KILLED: case v1::TASK_DROPPED: case v1::TASK_GONE:
    case v1::TASK_GONE_BY_OPERATOR: case v1::TASK_UNREACHABLE: case v1::TASK_UNKNOWN:
    case v1::TASK_ERROR:
      st.last_exit = status.has_exit_status() ? status.exit_status() : -1;
      // Not the command's own end, so not counted against max_attempts: never launched (a
      // lost accept answered UNKNOWN by reconciliation, or an offer gone), or its machine was
      // lost under it (unreachable, gone, an agent that restarted without it).
      if (!counts_as_attempt(st.cfg, status))
        --c.attempts;
      if (c.attempts >= st.cfg.max_attempts || status.state() == v1::TASK_ERROR) {
        c.phase = copy_phase::gave_up;
        break;
      }
      if (status.state() == v1::TASK_UNREACHABLE) { // replaced: kill it should it come back
        v1::scheduler::Kill kill;
        *kill.mutable_task_id() = status.task_id();
        *kill.mutable_agent_id() = status.agent_id(); // the master may not know the task yet
        call(self, std::move(kill));
      }
      c.phase = copy_phase::waiting;
      self->delayed_send(self, st.cfg.relaunch.delay(c.attempts > 0 ? c.attempts - 1 : 0), relaunch_atom::value,
                         static_cast<uint32_t>(it - st.copies.begin()));
      break;
    default:
      return;
  }
  if (std::all_of(st.copies.begin(), st.copies.end(), ended))
    finish(self, true);
}

// The batch is over (every copy ended, or the master removed the framework: the copies not
// finished count as given up). `tear_down`: tell the master we are done.
void finish(batch_pointer self, bool tear_down) {
  auto& st = self->state;
  auto ok = std::count_if(st.copies.begin(), st.copies.end(),
                          [](auto& c) { return c.phase == copy_phase::finished; });
  if (tear_down)
    call(self, v1::scheduler::Teardown{}); // queued at the driver before anyone hears "done"
  self->send(st.observer, batch_done_atom::value, static_cast<uint32_t>(ok),
             static_cast<uint32_t>(st.copies.size() - ok), st.last_exit);
  self->quit();
}

// Launched copies without a final answer are reconciled explicitly; copies waiting for offers
// revive again. Both are idempotent at the master.
void check(batch_pointer self) {
  auto& st = self->state;
  v1::scheduler::Reconcile rec;
  bool pending = false;
  auto now = self->clock().now();
  for (const auto& c : st.copies) {
    // Only attempts older than an interval: by then an accept still in flight found its offer
    // expired (offer timeouts are shorter) and cannot launch after an UNKNOWN answer.
    if (c.phase == copy_phase::launched && now - c.launched_at >= st.cfg.check_interval) {
      auto* t = rec.add_tasks();
      *t->mutable_task_id() = make_task_id(c.task);
      *t->mutable_agent_id() = c.agent; // an agent not back after a failover: no answer yet
    }
    pending = pending || c.phase == copy_phase::pending;
  }
  if (rec.tasks_size() > 0)
    call(self, std::move(rec));
  if (pending)
    call(self, v1::scheduler::Revive{});
  self->delayed_send(self, st.cfg.check_interval, check_atom::value);
}

batch_impl::behavior_type batch_fn(batch_pointer self, sdk::scheduler_driver_actor driver,
                                   batch_config cfg, batch_observer_actor observer) {
  auto& st = self->state;
  st.copies.resize(cfg.copies);
  st.cfg = std::move(cfg);
  st.driver = std::move(driver);
  st.observer = std::move(observer);
  self->delayed_send(self, st.cfg.check_interval, check_atom::value);
  return {
    [self](const v1::scheduler::Subscribed& sub) {
      self->send(self->state.observer, batch_subscribed_atom::value, sub.framework_id());
      call(self, v1::scheduler::Reconcile{});
    },
    [self](const v1::scheduler::Offers& msg) { on_offers(self, msg); },
    [](const v1::scheduler::Rescind&) {},
    [self](const v1::scheduler::Update& msg) { on_update(self, msg.status()); },
    [](const v1::scheduler::ExecutorMessage&) {},
    [](const v1::scheduler::Failure&) {},
    [self](const v1::scheduler::Error& err) {
      if (!err.removed())
        return; // a refused call: the periodic check reconciles and retries
      self->state.last_exit = -1;
      self->send(self->state.observer, err);
      finish(self, false); // removed (failover timeout passed): nothing left to run with
    },
    [](sdk::disconnected_atom) {},
    [self](check_atom) { check(self); },
    [self](relaunch_atom, uint32_t i) {
      self->state.copies[i].phase = copy_phase::pending;
      call(self, v1::scheduler::Revive{});
    },
  };
}

} // namespace

sdk::framework_actor spawn_batch_framework(caf::actor_system& sys,
                                           sdk::scheduler_driver_actor driver, batch_config cfg,
                                           batch_observer_actor observer) {
  return sys.spawn(batch_fn, std::move(driver), std::move(cfg), std::move(observer));
}

} // namespace troupe::examples
