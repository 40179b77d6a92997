// The registry side of a leadership term: what the term recovered at its start (admitted agents
// that must reregister within agent_reregister_timeout, framework leases that keep running), and
// the operations the master records as it goes.
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "master_node.hpp"
#include "troupe/runtime/seconds.hpp"

namespace troupe::master {

void master_node::recover_registry() {
  const auto& reg = cfg_.registry;
  recover_roles();
  std::set<std::string> unreachable;
  for (const auto& u : reg.unreachable())
    unreachable.insert(u.agent_id().value());
  for (const auto& g : reg.gone()) {
    v1::AgentInfo info;
    *info.mutable_id() = g.agent_id();
    agents_.recover(std::move(info), {}, agent_status::gone);
  }
  size_t awaiting = 0;
  for (const auto& a : reg.admitted()) {
    auto total = resources::from_proto(a.info().resources());
    auto status = unreachable.count(a.info().id().value()) > 0 ? agent_status::unreachable
                                                                : agent_status::recovered;
    awaiting += status == agent_status::recovered ? 1 : 0;
    agents_.recover(a.info(), total ? *total : resources{}, status);
    if (!a.incarnation().empty())
      agent_by_incarnation_[a.incarnation()] = a.info().id().value();
  }
  auto now_s = now();
  for (const auto& lease : reg.frameworks()) {
    const auto& id = lease.info().id();
    auto& fw = frameworks_[id.value()];
    fw.info = lease.info();
    fw.connected = false;
    self_->send(allocator_, allocator::add_framework_atom::value, id, roles_of(fw.info));
    self_->send(allocator_, allocator::framework_active_atom::value, id, false);
    // A framework connected at the failover gets its whole failover_timeout from now; one that
    // was already disconnected keeps its deadline (persisted, unlike Mesos).
    double left = lease.connected() ? fw.info.failover_timeout()
                                    : std::max(0.0, lease.deadline() - now_s);
    self_->delayed_send(self_, runtime::from_seconds(left), failover_expired_atom::value, id,
                        fw.generation);
  }
  if (awaiting > 0)
    self_->delayed_send(self_, cfg_.agent_reregister_timeout, reregister_timeout_atom::value);
  if (reg.admitted_size() + reg.frameworks_size() > 0)
    log_->info("recovered {} agents ({} awaiting reregistration) and {} framework leases",
               reg.admitted_size(), awaiting, reg.frameworks_size());
}

// Agents of an earlier term that did not come back in time become unreachable — unless that
// would be more than the safety limit (a partitioned new leader must not write off the cluster).
void master_node::on_reregister_timeout() {
  if (deferred_while_paused(caf::make_message(reregister_timeout_atom::value)))
    return;
  auto missing = agents_.with_status(agent_status::recovered);
  if (missing.empty())
    return;
  auto back = agents_.with_status(agent_status::registered).size();
  double fraction = static_cast<double>(missing.size())
                    / static_cast<double>(missing.size() + back);
  if (fraction > cfg_.recovery_removal_limit) {
    log_->error("{} of {} recovered agents did not reregister; that is above the removal limit "
                "of {:.0f}%: not marking them unreachable, waiting another {} s",
                missing.size(), missing.size() + back, cfg_.recovery_removal_limit * 100,
                runtime::to_seconds(cfg_.agent_reregister_timeout));
    self_->delayed_send(self_, cfg_.agent_reregister_timeout, reregister_timeout_atom::value);
    return;
  }
  log_->warn("{} recovered agents did not reregister in time: unreachable", missing.size());
  for (const auto& id : missing) {
    agents_.mark_unreachable(id);
    record_unreachable(id);
  }
}

void master_node::record(internal::RegistryOperation op) {
  if (cfg_.registrar)
    self_->send(cfg_.registrar, std::move(op));
}

void master_node::record_unreachable(const v1::AgentID& id) {
  internal::RegistryOperation op;
  *op.mutable_mark_unreachable()->mutable_agent_id() = id;
  op.mutable_mark_unreachable()->set_since(now());
  record(std::move(op));
}

void master_node::record_lease(const framework_record& fw, double deadline) {
  if (!cfg_.registrar)
    return;
  internal::RegistryOperation op;
  auto* lease = op.mutable_record_lease();
  *lease->mutable_info() = fw.info;
  lease->set_connected(fw.connected);
  if (!fw.connected) {
    lease->set_disconnected_at(now());
    lease->set_deadline(deadline);
  }
  record(std::move(op));
}

} // namespace troupe::master
