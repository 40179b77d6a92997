// Agents: registration, reregistration, liveness (pings), unreachable and gone agents.
#include <set>

#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "master_node.hpp"
#include "troupe/runtime/reply_address.hpp"
#include "troupe/actors/common/task_transitions.hpp"
#include "troupe/messages/builders.hpp"
#include "troupe/messages/errc.hpp"
#include "troupe/messages/validation.hpp"
#include "troupe/runtime/seconds.hpp"

namespace troupe::master {

protocols::agent_actor master_node::agent_handle(const v1::AgentID& id) const {
  auto i = links_.find(id.value());
  return i == links_.end() ? protocols::agent_actor{} : i->second.handle;
}

// `old` was the ID of the agent now at its host:port under another ID: it lost its state, so
// its tasks are gone and it may never reregister (recorded, so later terms know too).
void master_node::retire_replaced(const v1::AgentID& old, const std::string& host) {
  log_->info("agent {} restarted without its state; its old ID {} is gone", host, old.value());
  remove_agent(old, v1::TASK_GONE, v1::TaskStatus::REASON_AGENT_RESTARTED);
  for (auto i = agent_by_incarnation_.begin(); i != agent_by_incarnation_.end();)
    i = i->second == old.value() ? agent_by_incarnation_.erase(i) : std::next(i);
  agents_.mark_gone(old);
  internal::RegistryOperation gone;
  *gone.mutable_mark_gone()->mutable_agent_id() = old;
  gone.mutable_mark_gone()->set_since(now());
  record(std::move(gone));
}

// A report older than one already processed for this agent (a retry that overtook it, a
// duplicate, a report of an earlier process of the agent) would bring back an old task list:
// tasks launched since would be declared gone while they run. Report numbers grow across the
// agent's restarts (agent_protocol.proto).
bool master_node::stale_report(const v1::ReregisterAgent& msg) {
  if (msg.report() == 0)
    return false; // an agent that does not number its reports
  auto& last = reports_[msg.agent().id().value()];
  if (msg.report() <= last)
    return true;
  last = msg.report();
  return false;
}

void master_node::on_register(const v1::RegisterAgent& msg, const caf::actor& declared) {
  auto sender = caf::actor_cast<protocols::agent_actor>(
    runtime::reply_address(self_->current_sender(), declared));
  if (auto err = validate(msg)) {
    log_->warn("refusing an agent registration: {}", error_message(err));
    v1::ShutdownAgent bye;
    bye.set_message("registration refused: " + error_message(err));
    bye.set_epoch(cfg_.info.epoch());
    if (sender)
      self_->send(sender, std::move(bye));
    return;
  }
  auto total = resources::from_proto(msg.agent().resources());
  // A retry from an agent we already admitted (our answer was lost): same ID again. Known by
  // its actor, or by its process's incarnation when the retry came over a new connection (then
  // the new handle is the one to use from now on; found by the simulator).
  std::string known_id;
  if (auto by_addr = sender ? agent_by_addr_.find(sender.address()) : agent_by_addr_.end();
      by_addr != agent_by_addr_.end())
    known_id = by_addr->second;
  else if (auto by_inc = agent_by_incarnation_.find(msg.incarnation());
           !msg.incarnation().empty() && by_inc != agent_by_incarnation_.end()) {
    const auto* rec = agents_.find(make_agent_id(by_inc->second));
    bool same_place = rec != nullptr && rec->info.hostname() == msg.agent().hostname()
                      && rec->info.actor_port() == msg.agent().actor_port();
    if (rec != nullptr && rec->status == agent_status::recovered && same_place) {
      // The process an earlier term admitted (the registry keeps its token): a late retry of
      // its first registration. It has its ID and reregisters once it hears of this leader;
      // a new ID now would make its running tasks gone. (Should it never have received its
      // ID, it is admitted anew once the record turns unreachable.)
      log_->info("ignoring a late registration of agent {} from an earlier term",
                 by_inc->second);
      return;
    }
    if (rec == nullptr || rec->status != agent_status::registered)
      agent_by_incarnation_.erase(by_inc); // that ID is over: a new registration follows
    else if (same_place) {
      known_id = by_inc->second;
      if (sender) // the retry's connection is the one to use from now on
        link_agent(known_id, sender);
    }
  }
  if (!known_id.empty()) {
    v1::AgentRegistered again;
    again.mutable_agent_id()->set_value(known_id);
    *again.mutable_master() = cfg_.info;
    again.set_ping_interval_seconds(runtime::to_seconds(cfg_.ping_interval));
    again.set_epoch(cfg_.info.epoch());
    self_->send(sender, std::move(again));
    return;
  }
  auto admitted = agents_.admit(msg.agent(), *total);
  if (admitted.replaced)
    retire_replaced(*admitted.replaced, msg.agent().hostname());
  internal::RegistryOperation admit;
  *admit.mutable_admit_agent()->mutable_info() = agents_.find(admitted.id)->info;
  admit.mutable_admit_agent()->set_admitted_at(now());
  admit.mutable_admit_agent()->set_incarnation(msg.incarnation());
  record(std::move(admit));
  link_agent(admitted.id.value(), sender);
  if (!msg.incarnation().empty())
    agent_by_incarnation_[msg.incarnation()] = admitted.id.value();
  self_->send(allocator_, allocator::agent_added{admitted.id, *total, {}});
  log_->info("agent {} registered from {}:{} with {}", admitted.id.value(),
             msg.agent().hostname(), msg.agent().actor_port(), total->to_string());
  v1::AgentRegistered reply;
  *reply.mutable_agent_id() = admitted.id;
  *reply.mutable_master() = cfg_.info;
  reply.set_ping_interval_seconds(runtime::to_seconds(cfg_.ping_interval));
  reply.set_epoch(cfg_.info.epoch());
  if (sender)
    self_->send(sender, std::move(reply));
}

void master_node::on_reregister(v1::ReregisterAgent& msg, const caf::actor& declared) {
  auto sender = caf::actor_cast<protocols::agent_actor>(
    runtime::reply_address(self_->current_sender(), declared));
  if (auto err = validate(msg)) {
    log_->warn("refusing an agent reregistration: {}", error_message(err));
    return;
  }
  const auto& id = msg.agent().id();
  if (stale_report(msg)) {
    log_->debug("agent {}: ignoring reregistration report {} (a newer one was processed)",
                id.value(), msg.report());
    return;
  }
  auto total = resources::from_proto(msg.agent().resources());
  const auto* before = agents_.find(id);
  bool durable = before != nullptr; // the registry has it (recovered, unreachable, or this term)
  // Dynamic reservations the master recorded but the agent does not report (a lost
  // CheckpointResources) are made again and the agent is told below; ones only the agent has
  // stay (its tasks may use them).
  std::optional<resources> restored;
  if (before != nullptr && has_dynamic_reservations(before->total)) {
    auto missing = dynamic_reservations(before->total) - dynamic_reservations(*total);
    auto fixed = missing.empty() ? caf::expected<resources>{*total}
                                 : with_dynamic_reservations(*total, missing);
    if (fixed && *fixed != *total) {
      log_->info("agent {} reported {}; restoring its reservations: {}", id.value(),
                 total->to_string(), fixed->to_string());
      restored = *fixed;
      total = std::move(*fixed);
      msg.mutable_agent()->clear_resources();
      total->to_proto(msg.mutable_agent()->mutable_resources());
    }
  }
  auto readmitted = agents_.readmit(msg.agent(), *total);
  if (!readmitted) {
    log_->info("agent {} was removed; telling it to shut down", id.value());
    v1::ShutdownAgent bye;
    bye.set_message("agent " + id.value() + " was removed from the cluster");
    bye.set_epoch(cfg_.info.epoch());
    if (sender)
      self_->send(sender, std::move(bye));
    return;
  }
  for (const auto& old : readmitted->replaced)
    retire_replaced(old, msg.agent().hostname());
  link_agent(id.value(), sender);
  if (!durable) {
    internal::RegistryOperation admit;
    *admit.mutable_admit_agent()->mutable_info() = msg.agent();
    admit.mutable_admit_agent()->set_admitted_at(now());
    record(std::move(admit));
  } else if (readmitted->was_unreachable) {
    internal::RegistryOperation back;
    *back.mutable_mark_reachable() = id;
    record(std::move(back));
  }
  if (readmitted->was_unknown) {
    std::vector<allocator::used_allocation> used;
    for (const auto& task : msg.tasks())
      if (holds_resources(task.state()))
        if (auto res = resources::from_proto(task.resources()))
          used.push_back({task.framework_id(), role_of(task), *res});
    self_->send(allocator_, allocator::agent_added{id, *total, std::move(used)});
  } else if (readmitted->was_unreachable) {
    self_->send(allocator_, allocator::agent_active_atom::value, id, true);
  }
  adopt_reported_tasks(msg);
  log_->info("agent {} reregistered{} with {} tasks", id.value(),
             readmitted->was_unreachable ? " (back from unreachable)" : "", msg.tasks_size());
  v1::AgentReregistered reply;
  *reply.mutable_agent_id() = id;
  *reply.mutable_master() = cfg_.info;
  reply.set_ping_interval_seconds(runtime::to_seconds(cfg_.ping_interval));
  reply.set_epoch(cfg_.info.epoch());
  if (sender)
    self_->send(sender, std::move(reply));
  if (restored && sender) {
    v1::CheckpointResources cp;
    *cp.mutable_agent_id() = id;
    restored->to_proto(cp.mutable_resources());
    cp.set_epoch(cfg_.info.epoch());
    self_->send(sender, std::move(cp));
  }
}

// The agent's report is the truth about its tasks: states it reports flow to the frameworks;
// tasks the master placed there that the agent does not report are gone; kills requested while
// the agent was away are sent again. Tasks new to this master are moved out of `msg` (a failover
// readmits hundreds of thousands at once).
// The role a reported task's resources are allocated to: the one the agent reports (RunTask
// carried it); for a task launched before roles were reported, the framework's first role.
std::string master_node::role_of(const v1::Task& task) const {
  if (!task.role().empty())
    return task.role();
  auto fw = frameworks_.find(task.framework_id().value());
  if (fw != frameworks_.end() && fw->second.info.roles_size() > 0)
    return fw->second.info.roles(0);
  return "*";
}

void master_node::adopt_reported_tasks(v1::ReregisterAgent& msg) {
  const auto& agent = msg.agent().id();
  std::set<std::pair<std::string, std::string>> kills;
  if (auto d = deferred_kills_.find(agent.value()); d != deferred_kills_.end()) {
    kills = std::move(d->second);
    deferred_kills_.erase(d);
  }
  std::set<std::pair<std::string, std::string>> reported;
  std::set<std::string> shut_down;
  for (auto& task : *msg.mutable_tasks()) {
    auto key = std::make_pair(task.framework_id().value(), task.task_id().value());
    if (removed_frameworks_.count(key.first) > 0) {
      // The agent missed its ShutdownFramework: tell it again rather than revive the framework.
      if (shut_down.insert(key.first).second) {
        v1::ShutdownFramework again;
        *again.mutable_framework_id() = task.framework_id();
        again.set_epoch(cfg_.info.epoch());
        self_->send(links_[agent.value()].handle, std::move(again));
      }
      continue;
    }
    reported.insert(key);
    auto fit = frameworks_.find(key.first);
    if (fit == frameworks_.end()) {
      framework_record fw;
      for (const auto& info : msg.frameworks())
        if (info.id() == task.framework_id())
          fw.info = info;
      *fw.info.mutable_id() = task.framework_id();
      fit = frameworks_.emplace(key.first, std::move(fw)).first;
      self_->send(allocator_, allocator::add_framework_atom::value, task.framework_id(),
                  roles_of(fit->second.info));
      disconnect(fit->second); // until its scheduler resubscribes within failover_timeout
    }
    auto& fw = fit->second;
    auto& rec = fw.tasks[key.second];
    bool fresh = rec.task.task_id().value().empty();
    if (fresh) {
      if (auto res = resources::from_proto(task.resources()))
        rec.res = *res;
      rec.task = std::move(task);
      rec.role = role_of(rec.task);
      rec.released = !holds_resources(rec.task.state());
      if (rec.released)
        completed_.push_back(key);
    }
    links_[agent.value()].tasks.insert(key);
    if (!fresh && rec.task.state() != task.state() && task.statuses_size() > 0) {
      // The real state flows to the framework (as information: the agent's own update
      // stream still delivers and acknowledges every transition).
      auto status = task.statuses(task.statuses_size() - 1);
      status.clear_uuid();
      update_task(fw, rec, status);
      v1::scheduler::Update update;
      *update.mutable_status() = std::move(status);
      send_event(fw, make_event(std::move(update)));
    }
    if (kills.count(key) > 0)
      rec.kill_requested = true;
    if (rec.kill_requested && !common::is_terminal(rec.task.state())) {
      v1::KillTask kill;
      *kill.mutable_framework_id() = rec.task.framework_id();
      *kill.mutable_task_id() = rec.task.task_id();
      kill.set_epoch(cfg_.info.epoch());
      self_->send(links_[agent.value()].handle, std::move(kill));
    }
  }
  auto& link = links_[agent.value()];
  std::set<std::pair<std::string, std::string>> groups_sent;
  for (auto it = link.tasks.begin(); it != link.tasks.end();) {
    auto key = *it;
    ++it;
    if (reported.count(key) > 0)
      continue;
    auto* rec = find_task(key.first, key.second);
    if (rec == nullptr || common::is_terminal(rec->task.state()))
      continue;
    if (rec->task.state() == v1::TASK_STAGING && (rec->launch || rec->group_launch)
        && !rec->kill_requested) {
      // Its launch may have crossed the reregistration: send it again (the agent ignores a
      // task it already has), rather than declare a task gone that is about to start.
      resend_launch(link.handle, key.first, *rec, groups_sent);
      continue;
    }
    if (rec->task.state() == v1::TASK_STAGING && rec->kill_requested) {
      // Killed before it ever reached the agent: the kill is what ended it.
      master_update(rec->task.framework_id(), rec->task.task_id(), v1::TASK_KILLED,
                    v1::TaskStatus::REASON_TASK_KILLED_DURING_LAUNCH,
                    "killed before its launch reached agent " + agent.value(), agent);
      continue;
    }
    master_update(rec->task.framework_id(), rec->task.task_id(), v1::TASK_GONE,
                  v1::TaskStatus::REASON_AGENT_RESTARTED,
                  "agent " + agent.value() + " came back without this task", agent);
  }
}

void master_node::on_pong(const v1::Pong& msg) {
  agents_.on_pong(msg.agent_id(), msg.seq());
}

void master_node::on_ping_tick() {
  if (paused_) { // no pings, and no misses counted for pings never sent
    self_->delayed_send(self_, cfg_.ping_interval, ping_tick_atom::value);
    return;
  }
  auto round = agents_.next_ping_round();
  for (const auto& id : round.unreachable)
    mark_unreachable(id);
  for (const auto& [id, seq] : round.pings) {
    v1::Ping ping;
    ping.set_seq(seq);
    ping.set_connected(true);
    ping.set_epoch(cfg_.info.epoch());
    if (auto handle = agent_handle(id))
      self_->send(handle, std::move(ping));
  }
  resend_staging_launches();
  self_->delayed_send(self_, cfg_.ping_interval, ping_tick_atom::value);
}

// Every exchange must survive a lost message (DESIGN §5): a RunTask that got no status update
// within `launch_resend_ticks` ping rounds goes to its agent again (the agent ignores a task
// it already has). Mesos relies on TCP and reregistration here; a launch lost without the
// connection breaking would stay STAGING forever.
void master_node::resend_staging_launches() {
  constexpr uint32_t launch_resend_ticks = 3;
  std::set<std::pair<std::string, std::string>> groups_sent; // (framework, first task) this round
  for (auto i = staging_.begin(); i != staging_.end();) {
    auto* rec = find_task(i->first, i->second);
    if (rec == nullptr || (!rec->launch && !rec->group_launch) || rec->kill_requested
        || common::is_terminal(rec->task.state())) { // a killed launch must not start late
      i = staging_.erase(i);
      continue;
    }
    const auto* agent = agents_.find(rec->task.agent_id());
    if (agent != nullptr && agent->status == agent_status::registered
        && ++rec->staging_ticks % launch_resend_ticks == 0)
      if (auto handle = agent_handle(rec->task.agent_id())) {
        log_->info("task {} still STAGING on {}: sending its launch again",
                   rec->task.task_id().value(), rec->task.agent_id().value());
        resend_launch(handle, i->first, *rec, groups_sent);
      }
    ++i;
  }
}

// Sends a STAGING task's launch again. A group goes once per round (`groups_sent`, keyed by
// its first task), with only its members still STAGING and not killed: a member killed or
// ended meanwhile must not start late.
void master_node::resend_launch(const protocols::agent_actor& to, const std::string& framework,
                                const task_record& rec,
                                std::set<std::pair<std::string, std::string>>& groups_sent) {
  if (rec.launch) {
    auto run = *rec.launch;
    run.set_epoch(cfg_.info.epoch());
    self_->send(to, std::move(run));
    return;
  }
  const auto& group = *rec.group_launch;
  if (group.task_group().tasks_size() == 0
      || !groups_sent.insert({framework, group.task_group().tasks(0).task_id().value()}).second)
    return;
  auto run = group;
  run.mutable_task_group()->clear_tasks();
  for (const auto& task : group.task_group().tasks()) {
    const auto* member = find_task(framework, task.task_id().value());
    if (member != nullptr && member->task.state() == v1::TASK_STAGING && !member->kill_requested)
      *run.mutable_task_group()->add_tasks() = task;
  }
  if (run.task_group().tasks_size() == 0)
    return;
  run.set_epoch(cfg_.info.epoch());
  self_->send(to, std::move(run));
}

void master_node::mark_unreachable(const v1::AgentID& id) {
  log_->warn("agent {} missed {} pings: unreachable", id.value(), cfg_.max_missed_pings);
  self_->send(allocator_, allocator::agent_active_atom::value, id, false);
  record_unreachable(id);
  rescind_where([&](const offer_record& o) { return o.offer.agent_id() == id; },
                "agent " + id.value() + " is unreachable");
  auto link = links_.find(id.value());
  if (link == links_.end())
    return;
  auto tasks = link->second.tasks; // never edit the set while walking it
  for (const auto& [fid, tid] : tasks) {
    auto* rec = find_task(fid, tid);
    if (rec != nullptr && !common::is_terminal(rec->task.state()))
      master_update(rec->task.framework_id(), rec->task.task_id(), v1::TASK_UNREACHABLE,
                    v1::TaskStatus::REASON_AGENT_UNREACHABLE,
                    "agent " + id.value() + " stopped answering pings", id);
  }
}

void master_node::remove_agent(const v1::AgentID& id, v1::TaskState state,
                               v1::TaskStatus::Reason reason) {
  rescind_where([&](const offer_record& o) { return o.offer.agent_id() == id; },
                "agent " + id.value() + " was removed");
  deferred_kills_.erase(id.value());
  reports_.erase(id.value());
  auto link = links_.find(id.value());
  if (link != links_.end()) {
    auto tasks = link->second.tasks; // master_update → release edits the set
    for (const auto& [fid, tid] : tasks) {
      auto* rec = find_task(fid, tid);
      if (rec == nullptr || common::is_terminal(rec->task.state()))
        continue;
      rec->released = true; // the allocator forgets the agent's allocations as a whole
      master_update(rec->task.framework_id(), rec->task.task_id(), state, reason,
                    "agent " + id.value() + " was removed", id);
    }
    if (link->second.handle)
      agent_by_addr_.erase(link->second.handle.address());
    links_.erase(link);
  }
  self_->send(allocator_, allocator::remove_agent_atom::value, id);
}

void master_node::link_agent(const std::string& id, const protocols::agent_actor& handle) {
  auto& link = links_[id];
  if (link.handle)
    agent_by_addr_.erase(link.handle.address());
  link.handle = handle;
  if (handle)
    agent_by_addr_[handle.address()] = id;
}

} // namespace troupe::master
