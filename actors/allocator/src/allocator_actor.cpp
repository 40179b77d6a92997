#include "troupe/allocator/allocator_actor.hpp"

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "troupe/runtime/errors.hpp"
#include "troupe/runtime/logging.hpp"

namespace troupe::allocator {

namespace {

/// Names the private pass messages.
using tick_atom = caf::atom_constant<caf::atom("alloctick")>;
using pass_atom = caf::atom_constant<caf::atom("allocnow")>;

using allocator_impl = allocator_actor::extend<
  /// Allocator -> itself every allocation_interval: run a pass if anything changed.
  caf::reacts_to<tick_atom>,
  /// Allocator -> itself after a revive: run a pass now.
  caf::reacts_to<pass_atom>>;

struct allocator_shell {
  std::optional<allocator_state> core; // set when the behavior starts (CAF default-constructs)
  caf::timespan interval;
  offer_sink_actor sink;
  std::shared_ptr<spdlog::logger> log;
  time_point last_pass{};    // filters expiring after this have not been looked at yet
  bool dirty = false;        // something changed since the last pass
  bool pass_pending = false; // a pass_atom is on its way
  static inline const char* name = "troupe.allocator";
};

using allocator_pointer = allocator_impl::stateful_pointer<allocator_shell>;

void run_pass(allocator_pointer self) {
  auto& st = self->state;
  auto now = self->clock().now();
  st.dirty = false;
  st.last_pass = now;
  auto offers = st.core->allocate(now);
  if (!offers.empty())
    self->send(st.sink, offer_batch{std::move(offers)});
}

void on_tick(allocator_pointer self) {
  auto& st = self->state;
  auto now = self->clock().now();
  // A filter that expired since the last pass frees resources for another framework.
  auto expiry = st.core->next_filter_expiry(st.last_pass);
  if (st.dirty || (expiry && *expiry <= now))
    run_pass(self);
  self->delayed_send(self, st.interval, tick_atom::value);
}

void request_pass(allocator_pointer self) {
  if (self->state.pass_pending)
    return;
  self->state.pass_pending = true;
  self->send(self, pass_atom::value);
}

void report(allocator_pointer self, const caf::error& err) {
  if (err)
    self->state.log->warn("allocator: {}", runtime::render(err));
}

// Every mutation goes through here: apply it, remember that the next tick has work.
template <class F>
void change(allocator_pointer self, F&& f) {
  f(*self->state.core);
  self->state.dirty = true;
}

allocator_impl::behavior_type allocator_fn(allocator_pointer self, allocator_config cfg,
                                           offer_sink_actor sink) {
  self->state.interval = cfg.allocation_interval;
  self->state.log = runtime::node_logger("allocator");
  self->state.core.emplace(std::move(cfg));
  self->state.sink = std::move(sink);
  self->delayed_send(self, self->state.interval, tick_atom::value);
  return {
    [self](const agent_added& msg) {
      change(self, [&](auto& core) {
        report(self, core.add_agent(msg.agent, msg.total, msg.used));
      });
    },
    [self](remove_agent_atom, const v1::AgentID& a) {
      change(self, [&](auto& core) { core.remove_agent(a); });
    },
    [self](agent_active_atom, const v1::AgentID& a, bool active) {
      change(self, [&](auto& core) { core.set_agent_active(a, active); });
    },
    [self](add_framework_atom, const v1::FrameworkID& f, const std::vector<std::string>& roles) {
      change(self, [&](auto& core) { report(self, core.add_framework(f, roles)); });
    },
    [self](update_framework_atom, const v1::FrameworkID& f,
           const std::vector<std::string>& roles) {
      change(self, [&](auto& core) { report(self, core.update_framework(f, roles)); });
    },
    [self](remove_framework_atom, const v1::FrameworkID& f) {
      change(self, [&](auto& core) { core.remove_framework(f); });
    },
    [self](framework_active_atom, const v1::FrameworkID& f, bool active) {
      change(self, [&](auto& core) { core.set_framework_active(f, active); });
    },
    [self](suppress_atom, const v1::FrameworkID& f, const std::vector<std::string>& roles) {
      change(self, [&](auto& core) { core.suppress(f, roles); });
    },
    [self](revive_atom, const v1::FrameworkID& f, const std::vector<std::string>& roles) {
      change(self, [&](auto& core) { core.revive(f, roles); });
      request_pass(self);
    },
    [self](const recovered_resources& r) {
      auto now = self->clock().now();
      change(self, [&](auto& core) {
        auto got = core.recover(r.framework, r.agent, r.role, r.res, r.refuse, now);
        if (got != r.res)
          self->state.log->warn("recover {} on {} for {} ({}): only {} was allocated",
                                r.res.to_string(), r.agent.value(), r.framework.value(), r.role,
                                got.to_string());
      });
    },
    [self](const used_resources& u) {
      change(self, [&](auto& core) {
        report(self, core.add_allocation(u.framework, u.agent, u.role, u.res));
      });
    },
    [self](set_weight_atom, const std::string& role, double weight) {
      change(self, [&](auto& core) { report(self, core.set_weight(role, weight)); });
    },
    [self](set_quota_atom, const std::string& role, const resources& limits) {
      change(self, [&](auto& core) { report(self, core.set_quota(role, limits)); });
    },
    [self](const reservation_change& c) {
      change(self, [&](auto& core) {
        report(self, core.convert(c.framework, c.agent, c.role, c.from, c.to));
      });
    },
    [self](tick_atom) { on_tick(self); },
    [self](pass_atom) {
      self->state.pass_pending = false;
      run_pass(self);
    },
  };
}

} // namespace

allocator_actor spawn_allocator(caf::actor_system& sys, allocator_config cfg,
                                offer_sink_actor sink) {
  return sys.spawn(allocator_fn, std::move(cfg), std::move(sink));
}

} // namespace troupe::allocator
