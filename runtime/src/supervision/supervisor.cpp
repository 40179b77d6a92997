#include "troupe/runtime/supervision/supervisor.hpp"

#include <map>
#include <set>
#include <optional>

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/stateful_actor.hpp>

#include "troupe/messages/errc.hpp"
#include "troupe/runtime/errors.hpp"
#include "troupe/runtime/supervision/restart_plan.hpp"

namespace troupe::runtime {

namespace {

/// Names the private restart message.
using restart_atom = caf::atom_constant<caf::atom("restart")>;

/// The interface plus private self-messages, never visible outside this file.
using supervisor_impl = supervisor_actor::extend<
  /// Supervisor -> itself, after a backoff: start the children planned for round N.
  caf::reacts_to<restart_atom, uint64_t>>;

struct supervisor_state {
  supervisor_config cfg;
  std::vector<child_spec> specs;
  std::vector<caf::actor> running;               // null while stopped or waiting
  std::set<caf::actor_addr> retired;             // children we stopped ourselves
  caf::actor_addr parent;                        // who spawned us (may be null)
  std::optional<restart_plan> plan;
  std::map<uint64_t, std::vector<size_t>> rounds; // pending restarts by round
  uint64_t next_round = 0;
  static inline const char* name = "troupe.supervisor";
};

using supervisor_pointer = supervisor_impl::stateful_pointer<supervisor_state>;

caf::error start_child(supervisor_pointer self, size_t i) {
  auto& st = self->state;
  caf::actor hdl;
  try {
    hdl = st.specs[i].start(self);
  } catch (const std::exception& e) {
    return make_error(errc::unavailable,
                      st.cfg.name + ": starting child '" + st.specs[i].name + "' threw: " + e.what());
  }
  if (!hdl)
    return make_error(errc::unavailable,
                      st.cfg.name + ": child '" + st.specs[i].name + "' did not start");
  self->link_to(hdl);
  st.running[i] = std::move(hdl);
  return caf::none;
}

std::optional<size_t> child_index(supervisor_pointer self, const caf::actor_addr& addr) {
  auto& running = self->state.running;
  for (size_t i = 0; i < running.size(); ++i)
    if (running[i] && running[i].address() == addr)
      return i;
  return std::nullopt;
}

// Stops a running child without hearing about it again: unlink first, then kill.
void stop_child(supervisor_pointer self, size_t i) {
  auto& hdl = self->state.running[i];
  if (!hdl)
    return;
  // An exit message it queued before the unlink may still arrive: remember it as ours.
  self->state.retired.insert(hdl.address());
  self->unlink_from(hdl);
  self->send_exit(hdl, caf::exit_reason::kill);
  hdl = nullptr;
}

void on_child_exit(supervisor_pointer self, size_t i, const caf::error& reason) {
  auto& st = self->state;
  st.running[i] = nullptr;
  if (reason && st.cfg.escalate_now && st.cfg.escalate_now(reason)) {
    self->quit(reason);
    return;
  }
  auto d = st.plan->on_exit(i, static_cast<bool>(reason), self->clock().now());
  switch (d.what) {
    case restart_plan::action::none:
      return;
    case restart_plan::action::escalate:
      self->quit(make_error(errc::supervisor_gave_up, d.why + "; last reason: " + render(reason)));
      return;
    case restart_plan::action::restart: {
      for (auto j : d.children)
        stop_child(self, j);
      auto round = st.next_round++;
      st.rounds.emplace(round, std::move(d.children));
      self->delayed_send(self, d.delay, restart_atom::value, round);
      return;
    }
  }
}

void on_restart_due(supervisor_pointer self, uint64_t round) {
  auto& st = self->state;
  auto i = st.rounds.find(round);
  if (i == st.rounds.end())
    return;
  auto children = std::move(i->second);
  st.rounds.erase(i);
  // Exits of children stopped for this round were queued before the unlink, hence handled
  // before this (later) message: forget them, or the set grows with every restart.
  st.retired.clear();
  for (auto j : children) {
    if (st.running[j])
      continue;
    if (auto err = start_child(self, j)) {
      self->quit(std::move(err));
      return;
    }
  }
}

caf::result<caf::actor> which_child(supervisor_pointer self, const std::string& name) {
  auto& st = self->state;
  for (size_t i = 0; i < st.specs.size(); ++i)
    if (st.specs[i].name == name) {
      if (st.running[i])
        return st.running[i];
      return make_error(errc::unavailable, "child '" + name + "' is not running");
    }
  return make_error(errc::not_found, st.cfg.name + " has no child '" + name + "'");
}

supervisor_impl::behavior_type supervisor(supervisor_pointer self, supervisor_config cfg,
                                          std::vector<child_spec> children,
                                          caf::actor_addr parent) {
  auto& st = self->state;
  st.parent = std::move(parent);
  std::vector<std::string> names;
  for (const auto& c : children)
    names.push_back(c.name);
  st.plan.emplace(cfg, std::move(names));
  st.cfg = std::move(cfg);
  st.specs = std::move(children);
  st.running.resize(st.specs.size());
  self->set_exit_handler([self](caf::exit_msg& msg) {
    if (auto i = child_index(self, msg.source))
      on_child_exit(self, *i, msg.reason);
    else if (self->state.retired.erase(msg.source) > 0)
      return; // a child we stopped ourselves
    else if (self->state.cfg.temporary_children && msg.source != self->state.parent
             && msg.source != self->address()) // anon_send_exit names the receiver
      return; // a temporary child ended
    else if (msg.reason) // our parent (or another linked actor) failed
      self->quit(msg.reason);
  });
  for (size_t i = 0; i < st.specs.size(); ++i)
    if (auto err = start_child(self, i)) {
      self->quit(std::move(err));
      return {
        [](restart_atom, uint64_t) {},
        [](which_atom, const std::string&) -> caf::result<caf::actor> {
          return make_error(errc::unavailable, "supervisor failed to start");
        },
        [](restarts_atom) { return uint64_t{0}; },
      };
    }
  return {
    [self](restart_atom, uint64_t round) { on_restart_due(self, round); },
    [self](which_atom, const std::string& name) { return which_child(self, name); },
    [self](restarts_atom) { return static_cast<uint64_t>(self->state.plan->restarts()); },
  };
}

} // namespace

supervisor_actor spawn_supervisor(caf::actor_system& sys, supervisor_config cfg,
                                  std::vector<child_spec> children) {
  return caf::actor_cast<supervisor_actor>(
    sys.spawn(supervisor, std::move(cfg), std::move(children), caf::actor_addr{}));
}

supervisor_actor spawn_supervisor(caf::local_actor* parent, supervisor_config cfg,
                                  std::vector<child_spec> children) {
  return caf::actor_cast<supervisor_actor>(
    parent->spawn(supervisor, std::move(cfg), std::move(children), parent->address()));
}

} // namespace troupe::runtime
