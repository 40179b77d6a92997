#include "troupe/allocator/allocator_state.hpp"

#include <algorithm>
#include <tuple>

#include "troupe/messages/errc.hpp"

namespace troupe::allocator {

allocator_state::allocator_state(allocator_config cfg)
  : cfg_(std::move(cfg)), rng_(cfg_.seed, "allocator") {
  // nop
}

// -- agents -----------------------------------------------------------------------------

caf::error allocator_state::add_agent(const v1::AgentID& agent, const resources& total,
                                      const std::vector<used_allocation>& used) {
  if (agents_.count(agent.value()) > 0)
    return make_error(errc::already_exists, "agent " + agent.value() + " is already known");
  resources in_use;
  for (const auto& u : used)
    in_use += u.res;
  if (!total.contains(in_use))
    return make_error(errc::invalid_resources, "agent " + agent.value() + ": tasks use "
                                                 + in_use.to_string() + ", more than its total "
                                                 + total.to_string());
  auto& entry = agents_[agent.value()];
  entry.id = agent;
  entry.total = total;
  // Incremental: recomputing over every agent here made adding N agents O(N²) (a failover
  // readmits tens of thousands at once).
  cluster_total_ += entry.total;
  totals_dirty_ = true; // the sorters re-rank every client on a new total: once per pass
  for (const auto& u : used)
    charge(entry, u.framework, u.role, u.res);
  return caf::none;
}

void allocator_state::remove_agent(const v1::AgentID& agent) {
  auto i = agents_.find(agent.value());
  if (i == agents_.end())
    return;
  for (const auto& [key, res] : i->second.by)
    forget_allocation(key, res);
  agents_.erase(i);
  for (auto& [id, fw] : frameworks_)
    fw.filters.erase(agent.value());
  update_total();
}

void allocator_state::set_agent_active(const v1::AgentID& agent, bool active) {
  if (auto i = agents_.find(agent.value()); i != agents_.end())
    i->second.active = active;
}

caf::error allocator_state::add_allocation(const v1::FrameworkID& framework,
                                           const v1::AgentID& agent, const std::string& role,
                                           const resources& res) {
  auto a = agents_.find(agent.value());
  if (a == agents_.end())
    return make_error(errc::not_found, "unknown agent " + agent.value());
  if (!(a->second.total - a->second.allocated).contains(res))
    return make_error(errc::invalid_resources,
                      "agent " + agent.value() + " does not have " + res.to_string() + " available");
  charge(a->second, framework, role, res);
  return caf::none;
}

// -- frameworks -------------------------------------------------------------------------

caf::error allocator_state::add_framework(const v1::FrameworkID& framework,
                                          std::vector<std::string> roles) {
  if (roles.empty())
    roles.push_back("*");
  auto [i, added] = frameworks_.emplace(framework.value(), framework_entry{});
  if (!added)
    return make_error(errc::already_exists,
                      "framework " + framework.value() + " is already known");
  i->second.id = framework;
  i->second.roles = std::move(roles);
  for (const auto& role : i->second.roles) {
    if (!role_sorter_.contains(role))
      role_sorter_.add(role);
    framework_sorter(role).add(framework.value());
  }
  // Allocations recorded before it subscribed (reregistered agents) now count for it.
  for (const auto& [id, agent] : agents_)
    for (const auto& [key, res] : agent.by)
      if (key.framework == framework.value()) {
        role_sorter_.allocate(key.role, res);
        framework_sorter(key.role).allocate(key.framework, res);
      }
  return caf::none;
}

void allocator_state::remove_framework(const v1::FrameworkID& framework) {
  auto i = frameworks_.find(framework.value());
  if (i == frameworks_.end())
    return;
  for (auto& [id, agent] : agents_) {
    for (auto j = agent.by.begin(); j != agent.by.end();) {
      if (j->first.framework == framework.value()) {
        agent.allocated -= j->second;
        forget_allocation(j->first, j->second);
        j = agent.by.erase(j);
      } else {
        ++j;
      }
    }
  }
  for (const auto& role : i->second.roles) {
    auto& sorter = framework_sorter(role);
    sorter.remove(framework.value());
    if (sorter.size() == 0) {
      framework_sorters_.erase(role);
      role_sorter_.remove(role);
    }
  }
  frameworks_.erase(i);
}

void allocator_state::set_framework_active(const v1::FrameworkID& framework, bool active) {
  if (auto i = frameworks_.find(framework.value()); i != frameworks_.end())
    i->second.active = active;
}

void allocator_state::suppress(const v1::FrameworkID& framework,
                               const std::vector<std::string>& roles) {
  auto i = frameworks_.find(framework.value());
  if (i == frameworks_.end())
    return;
  for (const auto& role : roles.empty() ? i->second.roles : roles)
    i->second.suppressed.insert(role);
}

void allocator_state::revive(const v1::FrameworkID& framework,
                             const std::vector<std::string>& roles) {
  auto i = frameworks_.find(framework.value());
  if (i == frameworks_.end())
    return;
  const auto& revived = roles.empty() ? i->second.roles : roles;
  for (const auto& role : revived)
    i->second.suppressed.erase(role);
  for (auto& [agent, filters] : i->second.filters)
    filters.erase(std::remove_if(filters.begin(), filters.end(),
                                 [&](const filter& f) {
                                   return std::find(revived.begin(), revived.end(), f.role)
                                          != revived.end();
                                 }),
                  filters.end());
}

// -- resources --------------------------------------------------------------------------

resources allocator_state::recover(const v1::FrameworkID& framework, const v1::AgentID& agent,
                                   const std::string& role, const resources& res,
                                   std::optional<caf::timespan> refuse, time_point now) {
  auto a = agents_.find(agent.value());
  if (a == agents_.end())
    return {};
  allocation_key key{framework.value(), role};
  auto j = a->second.by.find(key);
  if (j == a->second.by.end())
    return {};
  // Recover only what is allocated: a duplicate or stale recover cannot inflate availability.
  auto recovered = res - (res - j->second);
  j->second -= recovered;
  if (j->second.empty())
    a->second.by.erase(j);
  a->second.allocated -= recovered;
  forget_allocation(key, recovered);
  auto f = frameworks_.find(framework.value());
  if (f != frameworks_.end() && refuse && *refuse > caf::timespan{0} && !recovered.empty()) {
    auto& filters = f->second.filters[agent.value()];
    filters.erase(std::remove_if(filters.begin(), filters.end(),
                                 [&](const filter& x) { return x.expires <= now; }),
                  filters.end());
    filters.push_back(filter{role, recovered.flatten(), now + *refuse});
  }
  return recovered;
}

std::vector<offer_decision> allocator_state::allocate(time_point now) {
  refresh_totals();
  std::vector<offer_decision> out;
  std::vector<agent_entry*> order;
  order.reserve(agents_.size());
  for (auto& [id, agent] : agents_)
    if (agent.active)
      order.push_back(&agent);
  rng_.shuffle(order.begin(), order.end());
  for (auto* agent : order)
    allocate_agent(*agent, now, out);
  return out;
}

void allocator_state::allocate_agent(agent_entry& agent, time_point now,
                                     std::vector<offer_decision>& out) {
  for (const auto& role : role_sorter_.sorted()) {
    auto candidate = (agent.total - agent.allocated).allocatable_to(role);
    if (candidate.empty() || !cfg_.minimum.allows(candidate))
      continue;
    auto* chosen = framework_sorter(role).find_first([&](const std::string& name) {
      auto& fw = frameworks_.at(name);
      return fw.active && fw.suppressed.count(role) == 0
             && !filtered(fw, agent.id.value(), role, candidate, now);
    });
    if (chosen == nullptr)
      continue;
    auto& fw = frameworks_.at(*chosen); // charge() reorders the sorter: look up first
    charge(agent, fw.id, role, candidate); // all of it to this framework
    out.push_back({fw.id, agent.id, role, candidate});
  }
}

bool allocator_state::filtered(framework_entry& fw, const std::string& agent,
                               const std::string& role, const resources& offer, time_point now) {
  auto i = fw.filters.find(agent);
  if (i == fw.filters.end())
    return false;
  auto& filters = i->second;
  filters.erase(std::remove_if(filters.begin(), filters.end(),
                               [&](const filter& f) { return f.expires <= now; }),
                filters.end());
  if (filters.empty()) {
    fw.filters.erase(i);
    return false;
  }
  // Mesos semantics: a filter refuses offers that fit inside what was declined.
  auto flat = offer.flatten();
  for (const auto& f : filters)
    if (f.role == role && f.refused.contains(flat))
      return true;
  return false;
}

void allocator_state::charge(agent_entry& agent, const v1::FrameworkID& framework,
                             const std::string& role, const resources& res) {
  agent.by[{framework.value(), role}] += res;
  agent.allocated += res;
  // Shares count only for subscribed frameworks; add_framework catches up on the rest.
  if (frameworks_.count(framework.value()) == 0)
    return;
  role_sorter_.allocate(role, res);
  framework_sorter(role).allocate(framework.value(), res);
}

void allocator_state::forget_allocation(const allocation_key& key, const resources& res) {
  if (frameworks_.count(key.framework) == 0)
    return; // never charged to the sorters
  role_sorter_.unallocate(key.role, res);
  if (auto i = framework_sorters_.find(key.role); i != framework_sorters_.end())
    i->second.unallocate(key.framework, res);
}

drf_sorter& allocator_state::framework_sorter(const std::string& role) {
  auto [i, added] = framework_sorters_.try_emplace(role);
  if (added)
    i->second.set_total(cluster_total_);
  return i->second;
}

// Recomputed (on removal): range resources of several agents overlap, so the union cannot be
// taken apart by subtraction.
void allocator_state::update_total() {
  cluster_total_ = resources{};
  for (const auto& [id, agent] : agents_)
    cluster_total_ += agent.total;
  set_sorter_totals();
}

void allocator_state::set_sorter_totals() const {
  totals_dirty_ = false;
  role_sorter_.set_total(cluster_total_);
  for (auto& [role, sorter] : framework_sorters_)
    sorter.set_total(cluster_total_);
}

// -- inspection -------------------------------------------------------------------------

resources allocator_state::available(const v1::AgentID& agent) const {
  auto i = agents_.find(agent.value());
  return i == agents_.end() ? resources{} : i->second.total - i->second.allocated;
}

resources allocator_state::allocation(const v1::FrameworkID& framework, const v1::AgentID& agent,
                                      const std::string& role) const {
  auto i = agents_.find(agent.value());
  if (i == agents_.end())
    return {};
  auto j = i->second.by.find({framework.value(), role});
  return j == i->second.by.end() ? resources{} : j->second;
}

std::optional<time_point> allocator_state::next_filter_expiry(time_point now) const {
  std::optional<time_point> result;
  for (const auto& [id, fw] : frameworks_)
    for (const auto& [agent, filters] : fw.filters)
      for (const auto& f : filters)
        if (f.expires > now && (!result || f.expires < *result))
          result = f.expires;
  return result;
}

} // namespace troupe::allocator
