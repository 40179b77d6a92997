// Offers: one offer actor per offer made; accept (validated into a launch plan), decline,
// rescind and expiry.
#include <iomanip>
#include <sstream>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "troupe/runtime/seconds.hpp"
#include "master_node.hpp"
#include "troupe/actors/common/task_transitions.hpp"
#include "troupe/messages/builders.hpp"
#include "troupe/messages/errc.hpp"
#include "troupe/runtime/chaos.hpp"

namespace troupe::master {

namespace {

// The IDs of every task an accept launches (LAUNCH and LAUNCH_GROUP).
std::vector<std::string> task_ids_of(const v1::scheduler::Accept& msg) {
  std::vector<std::string> ids;
  for (const auto& op : msg.operations()) {
    for (const auto& t : op.launch().task_infos())
      ids.push_back(t.task_id().value());
    for (const auto& t : op.launch_group().task_group().tasks())
      ids.push_back(t.task_id().value());
  }
  return ids;
}

} // namespace

namespace {


/// Collects the answers of the offer actors of one accept.
struct accept_collector {
  size_t waiting = 0;
  bool all_present = true;
  std::vector<v1::Offer> offers;
};

} // namespace

void master_node::on_offer_batch(allocator::offer_batch& batch) {
  std::map<std::string, v1::scheduler::Offers> per_framework;
  for (auto& d : batch.offers) {
    auto fit = frameworks_.find(d.framework.value());
    const auto* agent = agents_.find(d.agent);
    if (paused_ || fit == frameworks_.end() || !fit->second.connected || agent == nullptr
        || agent->status != agent_status::registered) {
      // Paused, or raced with a disconnect or an agent loss: straight back, no filter.
      self_->send(allocator_, allocator::recovered_resources{d.framework, d.agent, d.role,
                                                             std::move(d.res), std::nullopt});
      continue;
    }
    std::ostringstream os;
    os << id_prefix_ << "-O" << next_offer_++;
    auto offer = make_offer(make_offer_id(os.str()), d.framework, d.agent,
                            agent->info.hostname(), d.res, d.role);
    *offer.mutable_attributes() = agent->info.attributes();
    auto actor = spawn_offer(self_->system(), offer, d.role, d.res,
                             caf::actor_cast<resource_sink_actor>(allocator_),
                             caf::actor_cast<offer_owner_actor>(self_), cfg_.offers);
    fit->second.offers.insert(offer.id().value());
    *per_framework[d.framework.value()].add_offers() = offer;
    auto key = offer.id().value(); // copied first: the record below takes the offer
    offers_.emplace(std::move(key), offer_record{actor, std::move(offer), d.role, d.res});
  }
  for (auto& [id, offers] : per_framework) {
    if (offers.offers_size() > 1
        && runtime::chaos::hit(runtime::chaos::point::small_offer_batches)) {
      for (auto& offer : *offers.mutable_offers()) { // one event per offer
        v1::scheduler::Offers one;
        *one.add_offers() = std::move(offer);
        send_event(frameworks_[id], make_event(std::move(one)));
      }
      continue;
    }
    send_event(frameworks_[id], make_event(std::move(offers)));
  }
}

void master_node::on_offer_expired(const v1::OfferID& id) {
  auto it = offers_.find(id.value());
  if (it == offers_.end())
    return;
  auto fw = frameworks_.find(it->second.offer.framework_id().value());
  offers_.erase(it);
  if (fw == frameworks_.end())
    return;
  fw->second.offers.erase(id.value());
  v1::scheduler::Rescind rescind;
  *rescind.mutable_offer_id() = id;
  send_event(fw->second, make_event(std::move(rescind)));
}

void master_node::rescind(const std::string& offer_id, const std::string& why) {
  auto it = offers_.find(offer_id);
  if (it == offers_.end())
    return;
  self_->send(it->second.actor, rescind_atom::value, why);
  auto fw = frameworks_.find(it->second.offer.framework_id().value());
  auto id = it->second.offer.id();
  offers_.erase(it);
  if (fw == frameworks_.end())
    return;
  fw->second.offers.erase(offer_id);
  v1::scheduler::Rescind rescind;
  *rescind.mutable_offer_id() = std::move(id);
  send_event(fw->second, make_event(std::move(rescind)));
}

void master_node::rescind_where(const std::function<bool(const offer_record&)>& pred,
                                const std::string& why) {
  std::vector<std::string> ids;
  for (const auto& [id, offer] : offers_)
    if (pred(offer))
      ids.push_back(id);
  for (const auto& id : ids)
    rescind(id, why);
}

void master_node::decline(framework_record& fw, const v1::scheduler::Decline& msg) {
  auto refuse = msg.filters().has_refuse_seconds()
                  ? runtime::from_seconds(msg.filters().refuse_seconds())
                  : cfg_.default_refuse;
  for (const auto& id : msg.offer_ids()) {
    auto it = offers_.find(id.value());
    if (it == offers_.end() || it->second.offer.framework_id() != fw.info.id())
      continue; // already gone (rescinded or expired): nothing to give back
    self_->send(it->second.actor, decline_atom::value, refuse);
    fw.offers.erase(id.value());
    offers_.erase(it);
  }
}

// Takes the named offers out of play at once (nothing can rescind them any more), then asks
// each offer actor for its resources. An offer actor that already ended cannot answer: its
// resources went back to the allocator by themselves, and the accept is invalid.
void master_node::accept(framework_record& fw, const v1::scheduler::Accept& msg) {
  auto collector = std::make_shared<accept_collector>();
  std::vector<offer_actor> actors;
  for (const auto& id : msg.offer_ids()) {
    auto it = offers_.find(id.value());
    if (it == offers_.end() || it->second.offer.framework_id() != fw.info.id()) {
      log_->debug("framework {} accepts offer {}, which is gone", fw.info.id().value(),
                  id.value());
      collector->all_present = false;
      continue;
    }
    actors.push_back(it->second.actor);
    fw.offers.erase(id.value());
    offers_.erase(it);
  }
  auto fid = fw.info.id();
  if (actors.empty()) {
    on_offers_accepted(fid, msg, {}, false, false);
    return;
  }
  // Until the offer actors answer, a duplicate of this accept must not report its tasks
  // DROPPED (they are about to launch).
  for (const auto& id : task_ids_of(msg))
    fw.launching.insert(id);
  collector->waiting = actors.size();
  auto done = [this, fid, msg, collector] {
    if (--collector->waiting == 0)
      on_offers_accepted(fid, msg, std::move(collector->offers), collector->all_present, true);
  };
  for (auto& actor : actors)
    // No timeout: a local offer actor answers at once or is dead (the request then fails at
    // once and its exit functor has returned the resources); a timeout could only leak them.
    self_->request(actor, caf::infinite, accept_atom::value)
      .then(
        [collector, done](v1::Offer& offer) {
          collector->offers.push_back(std::move(offer));
          done();
        },
        [this, collector, done](caf::error& err) {
          log_->debug("an accepted offer could not hand over its resources: {}",
                      error_message(err));
          collector->all_present = false;
          done();
        });
}

void master_node::on_offers_accepted(const v1::FrameworkID& fid,
                                     const v1::scheduler::Accept& msg,
                                     std::vector<v1::Offer> offers, bool all_present,
                                     bool launching) {
  if (auto fit = frameworks_.find(fid.value()); launching && fit != frameworks_.end())
    for (const auto& id : task_ids_of(msg))
      if (auto i = fit->second.launching.find(id); i != fit->second.launching.end())
        fit->second.launching.erase(i);
  on_offers_accepted_impl(fid, msg, std::move(offers), all_present);
}

void master_node::on_offers_accepted_impl(const v1::FrameworkID& fid,
                                          const v1::scheduler::Accept& msg,
                                          std::vector<v1::Offer> offers, bool all_present) {
  auto give_back = [&](const v1::Offer& offer, std::optional<caf::timespan> refuse) {
    if (auto res = resources::from_proto(offer.resources()))
      self_->send(allocator_, allocator::recovered_resources{offer.framework_id(),
                                                             offer.agent_id(),
                                                             offer.allocation_role(), *res,
                                                             refuse});
  };
  auto fit = frameworks_.find(fid.value());
  std::string problem;
  if (fit == frameworks_.end())
    problem = "framework removed";
  else if (!all_present || offers.empty())
    problem = "an accepted offer no longer exists (rescinded, expired or used)";
  for (const auto& offer : offers)
    if (problem.empty() && (offer.agent_id() != offers.front().agent_id()
                            || offer.allocation_role() != offers.front().allocation_role()))
      problem = "accepted offers span several agents or roles";
  const agent_record* agent = offers.empty() ? nullptr : agents_.find(offers.front().agent_id());
  if (problem.empty() && (agent == nullptr || agent->status != agent_status::registered))
    problem = "the offers' agent is no longer registered";
  if (!problem.empty()) {
    for (const auto& offer : offers)
      give_back(offer, std::nullopt);
    if (fit == frameworks_.end())
      return;
    for (const auto& op : msg.operations()) {
      std::vector<v1::TaskInfo> tasks{op.launch().task_infos().begin(),
                                      op.launch().task_infos().end()};
      tasks.insert(tasks.end(), op.launch_group().task_group().tasks().begin(),
                   op.launch_group().task_group().tasks().end());
      for (const auto& task : tasks)
        // A task this framework already has came with an earlier accept: this one is a
        // duplicate (handlers must be safe to run twice), and DROPPED would contradict it.
        if (auto known = fit->second.tasks.find(task.task_id().value());
            (known == fit->second.tasks.end() || common::is_terminal(known->second.task.state()))
            && fit->second.launching.count(task.task_id().value()) == 0)
          master_update(fid, task.task_id(), v1::TASK_DROPPED,
                      v1::TaskStatus::REASON_INVALID_OFFERS, problem,
                      offers.empty() ? task.agent_id() : offers.front().agent_id());
    }
    return;
  }
  auto& fw = fit->second;
  const auto& agent_id = offers.front().agent_id();
  const auto& role = offers.front().allocation_role();
  resources offered;
  for (const auto& offer : offers)
    if (auto res = resources::from_proto(offer.resources()))
      offered += *res;
  auto plan = plan_launches(
    agent_id, offered, msg.operations(),
    [&](const v1::TaskID& id) {
      auto it = fw.tasks.find(id.value());
      return it != fw.tasks.end() && holds_resources(it->second.task.state());
    },
    {}, accept_context{role, fw.info.principal()});
  for (const auto& err : plan.errors)
    send_error(fw.scheduler, err);
  if (!plan.reservations.empty())
    apply_reservations(fid, agent_id, role, plan.reservations);
  for (const auto& bad : plan.rejected)
    master_update(fid, bad.task.task_id(), v1::TASK_ERROR, bad.reason, bad.message, agent_id);
  auto handle = agent_handle(agent_id);
  for (const auto& task : plan.tasks) {
    add_task(fw, task, role, task.has_executor() ? task.executor().executor_id()
                                                 : v1::ExecutorID{});
    v1::RunTask run;
    *run.mutable_framework() = fw.info;
    *run.mutable_task() = task;
    if (task.has_executor())
      *run.mutable_task()->mutable_executor()->mutable_framework_id() = fid;
    run.set_epoch(cfg_.info.epoch());
    run.set_role(role);
    fw.tasks[task.task_id().value()].launch = run;
    staging_.insert({fid.value(), task.task_id().value()});
    self_->send(handle, std::move(run));
  }
  for (auto& group : plan.groups) {
    *group.executor.mutable_framework_id() = fid;
    v1::RunTaskGroup run;
    *run.mutable_framework() = fw.info;
    *run.mutable_executor() = group.executor;
    for (const auto& task : group.tasks) {
      add_task(fw, task, role, group.executor.executor_id());
      *run.mutable_task_group()->add_tasks() = task;
    }
    run.set_epoch(cfg_.info.epoch());
    run.set_role(role);
    auto kept = std::make_shared<const v1::RunTaskGroup>(run); // while STAGING, for resends
    for (const auto& task : group.tasks) {
      fw.tasks[task.task_id().value()].group_launch = kept;
      staging_.insert({fid.value(), task.task_id().value()});
    }
    self_->send(handle, std::move(run));
  }
  if (!plan.unused.empty()) {
    auto refuse = msg.filters().has_refuse_seconds()
                    ? runtime::from_seconds(msg.filters().refuse_seconds())
                    : cfg_.default_refuse;
    self_->send(allocator_, allocator::recovered_resources{fid, agent_id, role, plan.unused,
                                                           refuse});
  }
}

// Reservation changes reach the allocator before the unused rest is recovered (same sender:
// in order), then the agent (to checkpoint) and the registry (the admitted agent's total).
void master_node::apply_reservations(const v1::FrameworkID& fid, const v1::AgentID& agent_id,
                                     const std::string& role,
                                     const std::vector<reservation_step>& steps) {
  const auto* rec = agents_.find(agent_id);
  if (rec == nullptr)
    return;
  auto total = rec->total;
  for (const auto& step : steps) {
    self_->send(allocator_, allocator::reservation_change{fid, agent_id, role, step.from,
                                                          step.to});
    total -= step.from;
    total += step.to;
    log_->info("framework {} on agent {}: {} -> {}", fid.value(), agent_id.value(),
               step.from.to_string(), step.to.to_string());
  }
  agents_.set_total(agent_id, total);
  v1::CheckpointResources cp;
  *cp.mutable_agent_id() = agent_id;
  total.to_proto(cp.mutable_resources());
  cp.set_epoch(cfg_.info.epoch());
  self_->send(agent_handle(agent_id), std::move(cp));
  internal::RegistryOperation admit;
  *admit.mutable_admit_agent()->mutable_info() = agents_.find(agent_id)->info;
  admit.mutable_admit_agent()->set_admitted_at(now());
  record(std::move(admit));
}

} // namespace troupe::master
