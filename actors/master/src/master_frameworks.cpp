// Schedulers: subscribe and failover, teardown, heartbeats, and the calls that are not about
// offers (kill, reconcile, acknowledge, messages, suppress, revive).
#include <algorithm>
#include <iomanip>
#include <sstream>

#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "troupe/runtime/reply_address.hpp"
#include "troupe/runtime/seconds.hpp"
#include "master_node.hpp"
#include "troupe/actors/common/task_transitions.hpp"
#include "troupe/messages/builders.hpp"
#include "troupe/messages/errc.hpp"
#include "troupe/messages/validation.hpp"

namespace troupe::master {

namespace {

/// Removed frameworks whose tasks stay visible in the state snapshot.
constexpr size_t completed_frameworks_kept = 100;


} // namespace

std::vector<std::string> roles_of(const v1::FrameworkInfo& info) {
  std::vector<std::string> roles{info.roles().begin(), info.roles().end()};
  if (roles.empty())
    roles.emplace_back("*");
  return roles;
}

void master_node::on_call(const v1::scheduler::Call& call, const caf::actor& declared) {
  auto sender = caf::actor_cast<protocols::scheduler_actor>(
    runtime::reply_address(self_->current_sender(), declared));
  if (auto err = validate(call)) {
    send_error(sender, "invalid call: " + error_message(err));
    return;
  }
  if (call.has_subscribe()) {
    subscribe(call, sender);
    return;
  }
  auto it = frameworks_.find(call.framework_id().value());
  if (it == frameworks_.end()) {
    send_error(sender, "framework " + call.framework_id().value() + " is not subscribed");
    return;
  }
  auto& fw = it->second;
  // A scheduler's down message can overtake its last call (CAF delivers it first): the last
  // scheduler may still tear its framework down after the master saw it go.
  if (call.has_teardown() && !fw.connected && sender
      && sender.address() == fw.last_scheduler) {
    teardown(fw.info.id(), "the framework asked for it");
    return;
  }
  if (!fw.connected || fw.scheduler != sender) {
    send_error(sender, "framework " + call.framework_id().value()
                         + " is subscribed from another scheduler; subscribe again first");
    return;
  }
  using C = v1::scheduler::Call;
  switch (call.call_case()) {
    case C::kTeardown:
      teardown(fw.info.id(), "the framework asked for it");
      break;
    case C::kAccept:
      accept(fw, call.accept());
      break;
    case C::kDecline:
      decline(fw, call.decline());
      break;
    case C::kRevive:
      self_->send(allocator_, allocator::revive_atom::value, fw.info.id(),
                  std::vector<std::string>{call.revive().roles().begin(),
                                           call.revive().roles().end()});
      break;
    case C::kSuppress:
      self_->send(allocator_, allocator::suppress_atom::value, fw.info.id(),
                  std::vector<std::string>{call.suppress().roles().begin(),
                                           call.suppress().roles().end()});
      break;
    case C::kKill:
      kill(fw, call.kill());
      break;
    case C::kShutdown:
      for (auto& [tid, task] : fw.tasks)
        if (task.task.executor_id() == call.shutdown().executor_id()
            && task.task.agent_id() == call.shutdown().agent_id()) {
          v1::scheduler::Kill k;
          *k.mutable_task_id() = task.task.task_id();
          *k.mutable_agent_id() = task.task.agent_id();
          kill(fw, k);
        }
      break;
    case C::kAcknowledge:
      acknowledge(fw, call.acknowledge());
      break;
    case C::kReconcile:
      reconcile(fw, call.reconcile());
      break;
    case C::kMessage:
      framework_message(fw, call.message());
      break;
    default:
      send_error(sender, "unsupported call");
      break;
  }
}

void master_node::subscribe(const v1::scheduler::Call& call,
                            const protocols::scheduler_actor& sender) {
  auto info = call.subscribe().framework_info();
  std::string id = !call.framework_id().value().empty() ? call.framework_id().value()
                                                        : info.id().value();
  if (!id.empty() && removed_frameworks_.count(id) > 0) {
    send_error(sender, "framework " + id + " was removed; subscribe without an ID", true);
    return;
  }
  framework_record* fw = nullptr;
  // A retried Subscribe (its Subscribed event was lost) from a scheduler that already has a
  // framework gets that framework again, not a second one (found by the simulator).
  if (id.empty() && sender)
    for (const auto& [known, rec] : frameworks_)
      if (rec.connected && rec.scheduler == sender) {
        id = known;
        break;
      }
  if (id.empty()) {
    std::ostringstream os;
    os << id_prefix_ << "-F" << std::setw(4) << std::setfill('0') << next_framework_++;
    id = os.str();
  }
  auto it = frameworks_.find(id);
  if (it == frameworks_.end()) {
    info.mutable_id()->set_value(id);
    fw = &frameworks_[id];
    fw->info = info;
    self_->send(allocator_, allocator::add_framework_atom::value, info.id(), roles_of(info));
    log_->info("framework {} ({}) subscribed", id, info.name());
  } else {
    fw = &it->second;
    // Offers outstanding at a resubscription are taken back (Mesos does the same): the
    // scheduler may never have seen them (its driver drops offers until Subscribed arrives),
    // and kept they would be hoarded until they expire.
    rescind_where([&](const offer_record& o) { return o.offer.framework_id().value() == id; },
                  "framework " + id + " resubscribed");
    if (fw->connected && fw->scheduler && fw->scheduler != sender) {
      // Failover to a new scheduler instance: the old one is told and forgotten.
      send_error(fw->scheduler, "framework failed over to another scheduler");
      self_->demonitor(fw->scheduler.address());
    }
    info.mutable_id()->set_value(id);
    auto before = roles_of(fw->info), after = roles_of(info);
    std::sort(before.begin(), before.end());
    std::sort(after.begin(), after.end());
    if (before != after) // a resubscription may change the roles (MULTI_ROLE)
      self_->send(allocator_, allocator::update_framework_atom::value, info.id(), after);
    fw->info = info;
    self_->send(allocator_, allocator::framework_active_atom::value, info.id(), true);
    log_->info("framework {} ({}) resubscribed", id, info.name());
  }
  fw->scheduler = sender;
  fw->last_scheduler = sender ? sender.address() : caf::actor_addr{};
  fw->connected = true;
  ++fw->generation;
  record_lease(*fw, 0);
  if (sender)
    self_->monitor(sender);
  v1::scheduler::Subscribed subscribed;
  subscribed.mutable_framework_id()->set_value(id);
  subscribed.set_heartbeat_interval_seconds(
    runtime::to_seconds(cfg_.heartbeat_interval));
  *subscribed.mutable_master_info() = cfg_.info;
  send_event(*fw, make_event(std::move(subscribed)));
}

void master_node::on_scheduler_down(const caf::actor_addr& who) {
  for (auto& [id, fw] : frameworks_)
    if (fw.connected && fw.scheduler && fw.scheduler.address() == who) {
      log_->warn("scheduler of framework {} disconnected", id);
      disconnect(fw);
      return;
    }
}

void master_node::disconnect(framework_record& fw) {
  fw.connected = false;
  fw.scheduler = nullptr;
  ++fw.generation;
  auto id = fw.info.id();
  rescind_where([&](const offer_record& o) { return o.offer.framework_id() == id; },
                "framework " + id.value() + " disconnected");
  self_->send(allocator_, allocator::framework_active_atom::value, id, false);
  auto timeout = runtime::from_seconds(fw.info.failover_timeout());
  record_lease(fw, now() + fw.info.failover_timeout());
  self_->delayed_send(self_, timeout, failover_expired_atom::value, id, fw.generation);
}

void master_node::on_failover_expired(const v1::FrameworkID& id, uint64_t generation) {
  if (deferred_while_paused(caf::make_message(failover_expired_atom::value, id, generation)))
    return;
  auto it = frameworks_.find(id.value());
  if (it == frameworks_.end() || it->second.connected || it->second.generation != generation)
    return;
  teardown(id, "its scheduler did not resubscribe within failover_timeout ("
                 + std::to_string(it->second.info.failover_timeout()) + " s)");
}

void master_node::teardown(const v1::FrameworkID& id, const std::string& why) {
  auto it = frameworks_.find(id.value());
  if (it == frameworks_.end())
    return;
  auto& fw = it->second;
  log_->info("removing framework {}: {}", id.value(), why);
  rescind_where([&](const offer_record& o) { return o.offer.framework_id() == id; },
                "framework " + id.value() + " removed");
  kill_framework_tasks(fw);
  if (fw.scheduler)
    self_->demonitor(fw.scheduler.address());
  self_->send(allocator_, allocator::remove_framework_atom::value, id);
  removed_frameworks_.insert(id.value());
  // Its kills waiting for agents to come back are moot: a returning agent is told to shut the
  // removed framework down instead.
  for (auto d = deferred_kills_.begin(); d != deferred_kills_.end();) {
    for (auto k = d->second.begin(); k != d->second.end();)
      k = k->first == id.value() ? d->second.erase(k) : std::next(k);
    d = d->second.empty() ? deferred_kills_.erase(d) : std::next(d);
  }
  internal::RegistryOperation forget;
  *forget.mutable_remove_lease() = id;
  record(std::move(forget));
  fw.connected = false;
  fw.scheduler = nullptr;
  while (fw.tasks.size() > cfg_.completed_tasks_kept)
    fw.tasks.erase(fw.tasks.begin());
  completed_frameworks_.push_back(std::move(fw));
  if (completed_frameworks_.size() > completed_frameworks_kept)
    completed_frameworks_.pop_front();
  frameworks_.erase(it);
}

// The agents shut the framework's executors down; the master records the tasks as killed at
// once (the agents' own updates for them find no framework and are acknowledged for it).
void master_node::kill_framework_tasks(framework_record& fw) {
  std::set<std::string> agents;
  std::vector<std::pair<v1::TaskID, v1::AgentID>> live; // master_update may prune fw.tasks
  for (auto& [tid, task] : fw.tasks)
    if (!common::is_terminal(task.task.state()))
      live.emplace_back(task.task.task_id(), task.task.agent_id());
  for (const auto& [task, agent] : live) {
    agents.insert(agent.value());
    master_update(fw.info.id(), task, v1::TASK_KILLED, v1::TaskStatus::REASON_FRAMEWORK_REMOVED,
                  "framework removed", agent);
  }
  for (const auto& agent : agents) {
    auto link = links_.find(agent);
    if (link == links_.end())
      continue;
    v1::ShutdownFramework shutdown;
    *shutdown.mutable_framework_id() = fw.info.id();
    shutdown.set_epoch(cfg_.info.epoch());
    self_->send(link->second.handle, std::move(shutdown));
  }
}

void master_node::on_heartbeat_tick() {
  for (auto& [id, fw] : frameworks_) {
    v1::scheduler::Heartbeat hb;
    hb.set_epoch(cfg_.info.epoch());
    send_event(fw, make_event(std::move(hb)));
  }
  self_->delayed_send(self_, cfg_.heartbeat_interval, heartbeat_tick_atom::value);
}

void master_node::kill(framework_record& fw, const v1::scheduler::Kill& msg) {
  auto it = fw.tasks.find(msg.task_id().value());
  if (it == fw.tasks.end()) {
    if (const auto* agent = agents_.find(msg.agent_id());
        agent != nullptr
        && (agent->status == agent_status::recovered
            || agent->status == agent_status::unreachable)) {
      // Its agent has not reregistered since the failover (or is cut off): the task may well
      // run. No answer now: the kill is carried out should the agent come back with it.
      log_->info("kill of {} on {} agent {} deferred until it reregisters",
                 msg.task_id().value(),
                 agent->status == agent_status::recovered ? "recovering" : "unreachable",
                 msg.agent_id().value());
      deferred_kills_[msg.agent_id().value()].emplace(fw.info.id().value(),
                                                      msg.task_id().value());
      return;
    }
    master_update(fw.info.id(), msg.task_id(), v1::TASK_UNKNOWN,
                  v1::TaskStatus::REASON_TASK_UNKNOWN, "the master does not know this task",
                  msg.agent_id());
    return;
  }
  auto& rec = it->second;
  if (common::is_terminal(rec.task.state()))
    return;
  rec.kill_requested = true;
  const auto* agent = agents_.find(rec.task.agent_id());
  if (agent == nullptr || agent->status != agent_status::registered)
    return; // sent again when the agent reregisters
  v1::KillTask kill;
  *kill.mutable_framework_id() = fw.info.id();
  *kill.mutable_task_id() = msg.task_id();
  if (msg.has_kill_policy())
    *kill.mutable_kill_policy() = msg.kill_policy();
  kill.set_epoch(cfg_.info.epoch());
  self_->send(agent_handle(rec.task.agent_id()), std::move(kill));
}

void master_node::reconcile(framework_record& fw, const v1::scheduler::Reconcile& msg) {
  auto answer = [&](const v1::TaskID& id, v1::TaskState state, const v1::AgentID& agent,
                    const std::string& text) {
    auto status = make_task_status(id, state, v1::TaskStatus::SOURCE_MASTER, now(),
                                   v1::TaskStatus::REASON_RECONCILIATION, text);
    *status.mutable_agent_id() = agent;
    v1::scheduler::Update update;
    *update.mutable_status() = std::move(status);
    send_event(fw, make_event(std::move(update)));
  };
  if (msg.tasks_size() == 0) {
    for (const auto& [tid, rec] : fw.tasks)
      if (!common::is_terminal(rec.task.state()))
        answer(rec.task.task_id(), rec.task.state(), rec.task.agent_id(), "reconciliation");
    return;
  }
  for (const auto& item : msg.tasks()) {
    auto it = fw.tasks.find(item.task_id().value());
    if (it != fw.tasks.end()) {
      answer(item.task_id(), it->second.task.state(), it->second.task.agent_id(),
             "reconciliation");
      continue;
    }
    if (fw.launching.count(item.task_id().value()) > 0)
      continue; // its accept waits for the offer actors: it launches, or DROPPED follows
    const auto* agent = agents_.find(item.agent_id());
    if (agent != nullptr && agent->status == agent_status::unreachable)
      answer(item.task_id(), v1::TASK_UNREACHABLE, item.agent_id(), "its agent is unreachable");
    else if (agent != nullptr && agent->status == agent_status::gone)
      answer(item.task_id(), v1::TASK_GONE, item.agent_id(), "its agent was removed");
    else if (agent != nullptr && agent->status == agent_status::recovered)
      continue; // not back since the failover yet: no answer rather than a wrong UNKNOWN
    else
      answer(item.task_id(), v1::TASK_UNKNOWN, item.agent_id(),
             "the master does not know this task");
  }
}

void master_node::acknowledge(framework_record& fw, const v1::scheduler::Acknowledge& msg) {
  auto handle = agent_handle(msg.agent_id());
  if (!handle)
    return; // the agent is gone; nothing waits for this acknowledgement
  v1::StatusUpdateAcknowledgement ack;
  *ack.mutable_agent_id() = msg.agent_id();
  *ack.mutable_framework_id() = fw.info.id();
  *ack.mutable_task_id() = msg.task_id();
  ack.set_uuid(msg.uuid());
  ack.set_epoch(cfg_.info.epoch());
  self_->send(handle, std::move(ack));
}

void master_node::framework_message(framework_record& fw,
                                    const v1::scheduler::FrameworkMessage& msg) {
  auto handle = agent_handle(msg.agent_id());
  if (!handle) {
    send_error(fw.scheduler, "agent " + msg.agent_id().value() + " is not registered");
    return;
  }
  v1::FrameworkToExecutorMessage out;
  *out.mutable_agent_id() = msg.agent_id();
  *out.mutable_framework_id() = fw.info.id();
  *out.mutable_executor_id() = msg.executor_id();
  out.set_data(msg.data());
  self_->send(handle, std::move(out));
}

} // namespace troupe::master
