// The master's behavior (a routing table onto master_node), its construction and the helpers
// every concern shares.
#include "troupe/master/master_actor.hpp"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "master_node.hpp"
#include "troupe/messages/builders.hpp"
#include "troupe/runtime/logging.hpp"
#include "troupe/runtime/unix_time.hpp"

namespace troupe::master {

namespace {

master_impl::behavior_type serving_behavior(master_pointer self);

// Builds the node from a complete configuration and lets it serve.
void serve(master_pointer self, master_config cfg) {
  auto on_serving = std::move(cfg.on_serving);
  self->state.node = std::make_unique<master_node>(self, std::move(cfg));
  self->state.node->start();
  self->set_down_handler(
    [self](caf::down_msg& msg) { self->state.node->on_scheduler_down(msg.source); });
  if (on_serving)
    on_serving(self, self->state.node->info());
}

/// Until the registry is recovered every message waits (skipped, handled after `become`),
/// while exit messages still end the master at once — a term stopped mid-recovery does not
/// linger until the registrar answers.
template <class Signature>
struct wait_for_recovery;

template <class... Ins, class... Outs>
struct wait_for_recovery<caf::typed_mpi<caf::detail::type_list<Ins...>, caf::output_tuple<Outs...>>> {
  static auto make() {
    return [](Ins&...) -> caf::result<Outs...> { return caf::skip; };
  }
};

template <class... Signatures>
master_impl::behavior_type recovering_behavior(caf::detail::type_list<Signatures...>) {
  return {wait_for_recovery<Signatures>::make()...};
}

master_impl::behavior_type master_fn(master_pointer self, master_config cfg) {
  if (cfg.recover_epoch == 0 || !cfg.registrar) {
    serve(self, std::move(cfg));
    return serving_behavior(self);
  }
  auto registrar = cfg.registrar;
  auto epoch = cfg.recover_epoch;
  auto held = cfg.recover_held_epoch;
  auto pending = std::make_shared<master_config>(std::move(cfg));
  self->request(registrar, caf::infinite, recover_atom::value, epoch, held)
    .then(
      [self, pending](internal::Registry& registry) {
        pending->info.set_epoch(registry.epoch());
        pending->registry = std::move(registry);
        serve(self, std::move(*pending));
        self->become(serving_behavior(self));
      },
      [self](caf::error& err) { self->quit(std::move(err)); });
  return recovering_behavior(master_impl::signatures{});
}

master_impl::behavior_type serving_behavior(master_pointer self) {
  return {
    [self](const v1::RegisterAgent& msg) { self->state.node->on_register(msg, {}); },
    [self](v1::ReregisterAgent& msg) { self->state.node->on_reregister(msg, {}); }, // tasks moved out
    [self](const v1::RegisterAgent& msg, const caf::actor& agent) {
      self->state.node->on_register(msg, agent);
    },
    [self](v1::ReregisterAgent& msg, const caf::actor& agent) { self->state.node->on_reregister(msg, agent); },
    [self](const v1::Pong& msg) { self->state.node->on_pong(msg); },
    [self](const v1::StatusUpdate& msg) { self->state.node->on_status_update(msg); },
    [self](const v1::ExecutorToFrameworkMessage& msg) { self->state.node->on_executor_message(msg); },
    [self](const v1::scheduler::Call& call) { self->state.node->on_call(call, {}); },
    [self](const v1::scheduler::Call& call, const caf::actor& scheduler) {
      self->state.node->on_call(call, scheduler);
    },
    [self](allocator::offer_batch& batch) { self->state.node->on_offer_batch(batch); },
    [self](offer_expired_atom, const v1::OfferID& id) { self->state.node->on_offer_expired(id); },
    [self](state_atom) { return self->state.node->snapshot(); },
    [self](const v1::OperatorCall& call) { return self->state.node->on_operator_call(call); },
    [self](ping_tick_atom) { self->state.node->on_ping_tick(); },
    [self](heartbeat_tick_atom) { self->state.node->on_heartbeat_tick(); },
    [self](reregister_timeout_atom) { self->state.node->on_reregister_timeout(); },
    [self](failover_expired_atom, const v1::FrameworkID& id, uint64_t generation) {
      self->state.node->on_failover_expired(id, generation);
    },
    [self](pause_atom, bool on) { self->state.node->on_pause(on); },
  };
}

} // namespace

bool holds_resources(v1::TaskState state) {
  switch (state) {
    case v1::TASK_STAGING:
    case v1::TASK_STARTING:
    case v1::TASK_RUNNING:
    case v1::TASK_KILLING:
    case v1::TASK_UNREACHABLE:
      return true;
    default:
      return false;
  }
}

master_node::master_node(master_pointer self, master_config cfg)
  : self_(self),
    cfg_(std::move(cfg)),
    log_(runtime::node_logger(cfg_.node)),
    id_prefix_(cfg_.info.epoch() == 0 ? cfg_.info.id()
                                      : cfg_.info.id() + "-e" + std::to_string(cfg_.info.epoch())),
    agents_(id_prefix_, cfg_.max_missed_pings) {
}

// Outstanding offers end with the master (their exit functors return the resources).
master_node::~master_node() {
  for (auto& [id, offer] : offers_)
    caf::anon_send_exit(offer.actor, caf::exit_reason::user_shutdown);
}

void master_node::start() {
  allocator_ = allocator::spawn_allocator(self_->system(), cfg_.allocator,
                                          caf::actor_cast<allocator::offer_sink_actor>(self_));
  self_->link_to(allocator_);
  self_->delayed_send(self_, cfg_.ping_interval, ping_tick_atom::value);
  self_->delayed_send(self_, cfg_.heartbeat_interval, heartbeat_tick_atom::value);
  recover_registry();
  log_->info("master {} serving, epoch {}", cfg_.info.id(), cfg_.info.epoch());
}

double master_node::now() const {
  return runtime::unix_seconds(self_->clock());
}

void master_node::on_pause(bool on) {
  if (on == paused_)
    return;
  paused_ = on;
  if (on)
    log_->warn("paused: acting on nothing until re-elected");
  else
    log_->info("resumed");
}

// A deadline that falls while paused waits for the resume (checked again every second).
bool master_node::deferred_while_paused(caf::message msg) {
  if (!paused_)
    return false;
  caf::delayed_anon_send(caf::actor_cast<caf::actor>(self_), std::chrono::seconds{1},
                         std::move(msg));
  return true;
}

void master_node::send_event(framework_record& fw, v1::scheduler::Event event) {
  event.set_epoch(cfg_.info.epoch());
  if (paused_)
    return; // nothing leaves a paused master: a newer term may be serving the framework
  if (fw.connected && fw.scheduler)
    self_->send(fw.scheduler, std::move(event));
}

void master_node::send_error(const protocols::scheduler_actor& to, const std::string& message,
                             bool removed) {
  if (!to)
    return;
  v1::scheduler::Error err;
  err.set_message(message);
  err.set_removed(removed);
  auto event = make_event(std::move(err));
  event.set_epoch(cfg_.info.epoch());
  self_->send(to, std::move(event));
}

v1::MasterState master_node::snapshot() const {
  v1::MasterState out;
  *out.mutable_master() = cfg_.info;
  std::map<std::string, std::pair<resources, resources>> usage; // agent -> used, offered
  for (const auto& [fid, fw] : frameworks_) {
    auto* st = out.add_frameworks();
    *st->mutable_info() = fw.info;
    st->set_connected(fw.connected);
    st->set_offers(static_cast<uint32_t>(fw.offers.size()));
    uint32_t active = 0;
    for (const auto& [tid, task] : fw.tasks) {
      *out.add_tasks() = task.task;
      if (!task.released) {
        ++active;
        usage[task.task.agent_id().value()].first += task.res;
      }
    }
    st->set_active_tasks(active);
  }
  for (const auto& fw : completed_frameworks_)
    for (const auto& [tid, task] : fw.tasks)
      *out.add_tasks() = task.task;
  for (const auto& [oid, offer] : offers_) {
    *out.add_offers() = offer.offer;
    usage[offer.offer.agent_id().value()].second += offer.res;
  }
  for (auto status : {agent_status::registered, agent_status::recovered,
                      agent_status::unreachable, agent_status::gone})
    for (const auto& id : agents_.with_status(status)) {
      const auto* rec = agents_.find(id);
      auto* st = out.add_agents();
      *st->mutable_info() = rec->info;
      st->set_status(status == agent_status::registered    ? "registered"
                     : status == agent_status::recovered   ? "recovering"
                     : status == agent_status::unreachable ? "unreachable"
                                                           : "gone");
      auto& [used, offered] = usage[id.value()];
      used.to_proto(st->mutable_used());
      offered.to_proto(st->mutable_offered());
    }
  return out;
}

master_node_actor spawn_master(caf::actor_system& sys, master_config cfg) {
  return sys.spawn(master_fn, std::move(cfg));
}

} // namespace troupe::master
