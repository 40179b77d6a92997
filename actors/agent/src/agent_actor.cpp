// The agent's behavior (a routing table onto agent_node), construction, and its link with the
// master: (re)registration with backoff, pings, reregistering after the master went silent.
#include "troupe/runtime/seconds.hpp"
#include "troupe/agent/agent_actor.hpp"

#include <cstdio>
#include <filesystem>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "agent_node.hpp"
#include "troupe/messages/resources.hpp"
#include "troupe/messages/errc.hpp"
#include "troupe/runtime/logging.hpp"
#include "troupe/runtime/transport.hpp"
#include "troupe/runtime/unix_time.hpp"

namespace troupe::agent {

namespace {

agent_impl::behavior_type agent_fn(agent_pointer self, agent_config cfg,
                                   protocols::master_actor master,
                                   containerizer_factory containerizer) {
  self->state.node = std::make_unique<agent_node>(self, std::move(cfg), std::move(master),
                                                  std::move(containerizer));
  auto* node = self->state.node.get();
  node->start();
  self->set_down_handler([node](caf::down_msg& msg) { node->on_master_down(msg.source); });
  // The helpers are linked: their ends are restarts to plan, anything else ends the agent.
  self->set_exit_handler([self, node](caf::exit_msg& msg) {
    if (!node->on_helper_exit(msg) && msg.reason)
      self->quit(msg.reason);
  });
  return {
    [node](const v1::AgentRegistered& msg) {
      node->on_registered(msg.agent_id(), msg.master(), msg.ping_interval_seconds(), false);
    },
    [node](const v1::AgentReregistered& msg) {
      node->on_registered(msg.agent_id(), msg.master(), msg.ping_interval_seconds(), true);
    },
    [node](const v1::Ping& msg) { node->on_ping(msg); },
    [node](const v1::RunTask& msg) { node->on_run_task(msg); },
    [node](const v1::RunTaskGroup& msg) { node->on_run_task_group(msg); },
    [node](const v1::KillTask& msg) { node->on_kill_task(msg); },
    [node](const v1::StatusUpdateAcknowledgement& msg) { node->on_acknowledgement(msg); },
    [node](const v1::ShutdownFramework& msg) { node->on_shutdown_framework(msg); },
    [node](const v1::CheckpointResources& msg) { node->on_checkpoint_resources(msg); },
    [node](const v1::ShutdownAgent& msg) { node->on_shutdown_agent(msg); },
    [node](const v1::FrameworkToExecutorMessage& msg) { node->on_framework_message(msg); },
    [node](const v1::executor::Call& call) { node->on_executor_call(call, caf::actor{}); },
    [node](const v1::executor::Call& call, const caf::actor& reply_to) {
      node->on_executor_call(call, reply_to);
    },
    [node](const v1::StatusUpdate& update) { node->forward_update(update); },
    [node](const isolation::container_exited& msg) { node->on_container_exited(msg); },
    [node](agent_state_atom) { return caf::make_result(node->id(), node->all_tasks()); },
    [node](executor_endpoint_atom, const std::string& endpoint) {
      node->set_executor_endpoint(endpoint);
    },
    [node](runtime::election::leader_atom, caf::actor& master, const v1::MasterInfo& info) {
      node->on_leader(caf::actor_cast<protocols::master_actor>(std::move(master)), info);
    },
    [node](register_tick_atom, uint64_t attempt) { node->on_register_tick(attempt); },
    [node](restart_helper_atom, uint64_t which) { node->on_restart_helper(which); },
    [node](helpers_atom) {
      auto [updates, containerizer] = node->helpers();
      return caf::make_result(updates, containerizer);
    },
    [node](silence_tick_atom) { node->on_silence_tick(); },
    [node](executor_timeout_atom, const std::string& container, uint64_t generation) {
      node->on_executor_timeout(container, generation);
    },
    [node](kill_escalate_atom, const std::string& container, uint64_t generation) {
      node->on_kill_escalate(container, generation);
    },
  };
}

} // namespace

agent_node::agent_node(agent_pointer self, agent_config cfg, protocols::master_actor master,
                       containerizer_factory containerizer)
  : self_(self),
    cfg_(std::move(cfg)),
    master_(std::move(master)),
    make_containerizer_(std::move(containerizer)),
    log_(runtime::node_logger(cfg_.node)),
    random_(cfg_.seed, "agent/" + cfg_.info.hostname() + ":"
                         + std::to_string(cfg_.info.actor_port())),
    checkpoints_(cfg_.work_dir + "/meta") {
}

void agent_node::start() {
  std::error_code ec;
  std::filesystem::create_directories(cfg_.work_dir, ec);
  if (ec)
    log_->error("cannot create work dir {}: {}", cfg_.work_dir, ec.message());
  start_updates();
  start_containerizer();
  last_ping_ = self_->clock().now();
  self_->delayed_send(self_, ping_interval_, silence_tick_atom::value);
  recover();
  if (!cfg_.executor_endpoint.empty() && !recovering_)
    begin_registration();
  // else: published on port 0; registration starts once main tells us the endpoint
}

void agent_node::begin_registration() {
  send_registration();
  self_->delayed_send(self_, cfg_.registration.delay(0), register_tick_atom::value,
                      uint64_t{1});
}

void agent_node::set_executor_endpoint(const std::string& endpoint) {
  bool first = cfg_.executor_endpoint.empty();
  cfg_.executor_endpoint = endpoint;
  if (auto at = runtime::parse_endpoint(endpoint))
    cfg_.info.set_actor_port(at->port);
  else
    log_->error("bad executor endpoint {}: executors will not reach this agent", endpoint);
  if (first && phase_ == agent_phase::registering && !recovering_)
    begin_registration();
}

double agent_node::now() const {
  return runtime::unix_seconds(self_->clock());
}

const std::string& agent_node::incarnation() {
  if (incarnation_.empty())
    incarnation_ = cfg_.incarnation;
  if (incarnation_.empty()) { // text (a proto string): 32 hex digits
    char text[33];
    std::snprintf(text, sizeof text, "%016llx%016llx",
                  static_cast<unsigned long long>(random_.next()),
                  static_cast<unsigned long long>(random_.next()));
    incarnation_ = text;
  }
  return incarnation_;
}

void agent_node::send_registration() {
  if (!master_)
    return; // no leader known yet: the leader connector names one
  if (cfg_.info.id().value().empty()) {
    v1::RegisterAgent msg;
    *msg.mutable_agent() = cfg_.info;
    msg.set_incarnation(incarnation());
    self_->send(master_, std::move(msg), caf::actor_cast<caf::actor>(self_));
    return;
  }
  v1::ReregisterAgent msg;
  *msg.mutable_agent() = cfg_.info;
  msg.set_incarnation(incarnation());
  // Ordered across this agent's restarts too (process tokens are not): the clock, kept
  // strictly increasing within the process.
  reports_ = std::max(reports_ + 1, static_cast<uint64_t>(now() * 1e6));
  msg.set_report(reports_);
  for (auto& task : all_tasks())
    *msg.add_tasks() = std::move(task);
  for (const auto& [fid, fw] : frameworks_) {
    *msg.add_frameworks() = fw.info;
    for (const auto& [eid, ex] : fw.executors)
      *msg.add_executors() = ex.info;
  }
  // Both name this agent's handle: the master answers it whatever CAF thinks the connection is.
  self_->send(master_, std::move(msg), caf::actor_cast<caf::actor>(self_));
}

void agent_node::on_register_tick(uint64_t attempt) {
  if (phase_ == agent_phase::running || phase_ == agent_phase::terminating)
    return;
  if (attempt > 3)
    log_->warn("still no answer from the master after {} attempts", attempt);
  send_registration();
  self_->delayed_send(self_, cfg_.registration.delay(attempt), register_tick_atom::value,
                      attempt + 1);
}

// A new leader (after a failover): reregister with it (register, when this agent never got an
// ID). A running registration loop just sends to the new master from now on.
void agent_node::on_leader(protocols::master_actor master, const v1::MasterInfo& info) {
  // Election announcements carry no epoch (0): the master's own messages are fenced instead.
  if (phase_ == agent_phase::terminating || (info.epoch() != 0 && info.epoch() < epoch_)
      || master == master_)
    return;
  log_->info("master {} at {}:{} leads", info.id(), info.hostname(), info.actor_port());
  // A fixed --master names an address, not a master (its id is "host:port"): any master
  // serving there may answer. An election names the master itself.
  bool address_only = info.id() == info.hostname() + ":" + std::to_string(info.actor_port());
  leader_id_ = address_only ? std::string{} : info.id();
  if (info.epoch() > epoch_) // an announcement that knows the epoch fences older masters now
    epoch_ = info.epoch();
  if (master_)
    self_->demonitor(master_.address());
  master_ = std::move(master);
  self_->monitor(master_); // a broken connection: wait for the connector's new handle
  if (recovering_ || cfg_.executor_endpoint.empty())
    return; // registration starts when recovery ends / the endpoint is known
  if (phase_ == agent_phase::running) {
    phase_ = agent_phase::reregistering;
    begin_registration();
  } else {
    send_registration();
  }
}

// The connection to the master broke: its handle is dead. The leader connector connects again
// and names the master anew (possibly with an equal handle), which starts a reregistration.
void agent_node::on_master_down(const caf::actor_addr& who) {
  if (!master_ || who != master_.address())
    return;
  log_->warn("the connection to the master broke; waiting for the connector to reconnect");
  master_ = nullptr;
}

bool agent_node::fresh_epoch(uint64_t epoch) {
  if (epoch < epoch_) {
    log_->warn("ignoring a message of stale master epoch {} (current {})", epoch, epoch_);
    return false;
  }
  epoch_ = epoch;
  return true;
}

// Dynamic reservations change the agent's total, never its amounts: anything else is refused.
void agent_node::on_checkpoint_resources(const v1::CheckpointResources& msg) {
  // Also while reregistering: a master restoring lost reservations sends it with its answer.
  if ((phase_ != agent_phase::running && phase_ != agent_phase::reregistering)
      || !fresh_epoch(msg.epoch()) || msg.agent_id() != cfg_.info.id())
    return;
  auto total = resources::from_proto(msg.resources());
  auto current = resources::from_proto(cfg_.info.resources());
  // Only dynamic reservations may differ: undone, both totals are the same.
  if (!total || !current
      || without_dynamic_reservations(*total) != without_dynamic_reservations(*current)) {
    log_->error("refusing a new total from the master ({}): beyond dynamic reservations it "
                "differs from {}",
                total ? total->to_string() : error_message(total.error()),
                current ? current->to_string() : std::string{"ours"});
    return;
  }
  *cfg_.info.mutable_resources() = msg.resources();
  *checkpoint_.mutable_info() = cfg_.info;
  if (auto err = checkpoints_.write_agent(checkpoint_))
    log_->error("cannot checkpoint the agent's reservations: {}", error_message(err));
  log_->info("resources now {}", total->to_string());
}

void agent_node::on_registered(const v1::AgentID& id, const v1::MasterInfo& master,
                               double ping_seconds, bool reregistered) {
  if (phase_ == agent_phase::terminating || !fresh_epoch(master.epoch()))
    return;
  // A late answer of a master this agent has left for another (found by the simulated
  // ZooKeeper: a frozen leader's AgentRegistered arrived after the new leader was announced;
  // taking it made the agent run the old term's launches under an ID the new term had retired).
  if (!leader_id_.empty() && !master.id().empty() && master.id() != leader_id_) {
    log_->warn("ignoring the answer of master {}: {} leads now", master.id(), leader_id_);
    return;
  }
  if (phase_ == agent_phase::running && id == cfg_.info.id())
    return; // a duplicate answer
  if (!cfg_.info.id().value().empty() && id != cfg_.info.id() && !reregistered) {
    if (!frameworks_.empty()) { // taking it would orphan every task running under the old one
      log_->error("refusing the new ID {} from the master: tasks run under {}", id.value(),
                  cfg_.info.id().value());
      return;
    }
    log_->warn("master assigned a new ID {} (was {})", id.value(), cfg_.info.id().value());
  }
  *cfg_.info.mutable_id() = id;
  phase_ = agent_phase::running;
  internal::AgentCheckpoint cp;
  *cp.mutable_info() = cfg_.info;
  *cp.mutable_last_master() = master;
  cp.set_boot_id(current_boot_id());
  if (auto err = checkpoints_.write_agent(cp))
    log_->error("cannot checkpoint the agent: {}", error_message(err));
  checkpoint_ = std::move(cp);
  if (ping_seconds > 0)
    ping_interval_ = runtime::from_seconds(ping_seconds);
  if (updates_) // (a restarting manager resends its streams' heads anyway)
    self_->send(updates_, flush_atom::value); // updates in flight may have gone to a dead master
  last_ping_ = self_->clock().now();
  log_->info("agent {} {} with master {}", id.value(),
             reregistered ? "reregistered" : "registered", master.id());
  run_held_launches(master.epoch());
}

void agent_node::on_ping(const v1::Ping& ping) {
  if (!fresh_epoch(ping.epoch()))
    return;
  last_ping_ = self_->clock().now();
  v1::Pong pong;
  pong.set_seq(ping.seq());
  *pong.mutable_agent_id() = cfg_.info.id();
  auto sender = caf::actor_cast<protocols::master_actor>(self_->current_sender());
  self_->send(sender ? sender : master_, std::move(pong));
}

// A master that stopped pinging has marked us unreachable (or is gone): reregister, so our
// tasks' real states reach it again.
void agent_node::on_silence_tick() {
  if (phase_ == agent_phase::terminating)
    return;
  auto silence = self_->clock().now() - last_ping_;
  auto limit = std::chrono::duration_cast<caf::timespan>(ping_interval_
                                                         * cfg_.master_silence_pings);
  if (phase_ == agent_phase::running && silence > limit) {
    log_->warn("no ping from the master for {} ms: reregistering",
               std::chrono::duration_cast<std::chrono::milliseconds>(silence).count());
    phase_ = agent_phase::reregistering;
    begin_registration();
  }
  self_->delayed_send(self_, ping_interval_, silence_tick_atom::value);
}

void agent_node::on_shutdown_agent(const v1::ShutdownAgent& msg) {
  if (!fresh_epoch(msg.epoch()))
    return;
  log_->warn("the master shuts this agent down: {}", msg.message());
  phase_ = agent_phase::terminating;
  self_->quit(); // linked containerizer kills every container on exit
}

void agent_node::forward_update(const v1::StatusUpdate& update) {
  if (phase_ != agent_phase::running)
    return; // the manager retries; reregistration reports the latest states meanwhile
  auto copy = update;
  *copy.mutable_agent_id() = cfg_.info.id();
  *copy.mutable_status()->mutable_agent_id() = cfg_.info.id();
  self_->send(master_, std::move(copy));
}

std::vector<v1::Task> agent_node::all_tasks() const {
  std::vector<v1::Task> out;
  for (const auto& [fid, fw] : frameworks_)
    for (const auto& [tid, task] : fw.tasks)
      out.push_back(task);
  return out;
}

agent_node_actor spawn_agent(caf::actor_system& sys, agent_config cfg,
                             protocols::master_actor master, containerizer_factory containerizer) {
  return sys.spawn(agent_fn, std::move(cfg), std::move(master), std::move(containerizer));
}

} // namespace troupe::agent
