// allocator_state: agents, frameworks, roles and the bookkeeping every change goes through.
// The pass itself is in allocation_pass.cpp.
#include <algorithm>
#include <cmath>

#include "allocator_impl.hpp"
#include "troupe/messages/errc.hpp"

namespace troupe::allocator {

namespace {

bool has_reserved(const resources& res) {
  for (const auto& [key, value] : res.entries())
    if (!key.reservations.empty())
      return true;
  return false;
}

caf::error check_roles(const std::vector<std::string>& roles) {
  for (const auto& role : roles)
    if (auto err = validate_role(role))
      return err;
  return caf::none;
}

} // namespace

// -- impl: slots and bookkeeping ------------------------------------------------------------

allocator_state::impl::impl(allocator_config c) : cfg(std::move(c)), rng(cfg.seed, "allocator") {
  for (const auto& alt : cfg.minimum.alternatives()) {
    for (const auto& [key, value] : alt.entries())
      if (value.kind != resource_kind::scalar)
        minimum_scalar = false;
    minimum.push_back(names.of(alt));
  }
}

agent_entry* allocator_state::impl::find_agent(const std::string& id) {
  auto i = agent_index.find(id);
  return i == agent_index.end() ? nullptr : &agents[i->second];
}

framework_entry* allocator_state::impl::find_framework(const std::string& id) {
  auto i = framework_index.find(id);
  return i == framework_index.end() ? nullptr : &frameworks[i->second];
}

uint32_t allocator_state::impl::framework_slot(const v1::FrameworkID& id) {
  if (auto i = framework_index.find(id.value()); i != framework_index.end())
    return i->second;
  uint32_t slot;
  if (free_framework_slots.empty()) {
    slot = static_cast<uint32_t>(frameworks.size());
    frameworks.emplace_back();
  } else {
    slot = free_framework_slots.back();
    free_framework_slots.pop_back();
  }
  auto& f = frameworks[slot];
  f = framework_entry{};
  f.live = true;
  f.id = id;
  f.key = id.value();
  framework_index.emplace(f.key, slot);
  return slot;
}

// `whole`: `res` is all of the agent's free resources (the common case; no subtraction).
void allocator_state::impl::charge(uint32_t agent, uint32_t framework, role_node& role,
                                   const resources& res, const quantities& amounts,
                                   bool whole) {
  auto& a = agents[agent];
  auto& f = frameworks[framework];
  auto slot = std::find_if(a.slots.begin(), a.slots.end(), [&](const allocation_slot& s) {
    return s.framework == framework && s.role == &role;
  });
  if (slot == a.slots.end()) {
    if (whole && a.slots.empty()) // all free and nothing else allocated: the whole total
      a.slots.push_back(allocation_slot{framework, &role, {}, amounts, true});
    else
      a.slots.push_back(allocation_slot{framework, &role, res, amounts});
    ++role.slots;
  } else {
    materialize(a, *slot) += res;
    slot->amounts += amounts;
  }
  if (whole) {
    a.free = resources{};
    a.free_amounts = quantities{};
    a.free_reserved = false;
  } else {
    a.free -= res;
    a.free_amounts -= amounts;
    a.free_reserved = has_reserved(a.free);
  }
  roles.charge(role, amounts);
  role.frameworks.allocate(f.sorter_handle(role), amounts);
  update_free(agent);
}

void allocator_state::impl::uncharge(agent_entry& a, allocation_slot& slot, const resources& res,
                                     const quantities& amounts) {
  auto& f = frameworks[slot.framework];
  materialize(a, slot) -= res;
  slot.amounts -= amounts;
  a.free += res;
  a.free_amounts += amounts;
  a.free_reserved = a.free_reserved || has_reserved(res);
  roles.uncharge(*slot.role, amounts);
  slot.role->frameworks.unallocate(f.sorter_handle(*slot.role), amounts);
}

void allocator_state::impl::forget_slot(agent_entry& a, size_t index) {
  auto& s = a.slots[index];
  auto res = held(a, s); // uncharge changes the slot
  auto amounts = s.amounts;
  uncharge(a, s, res, amounts);
  drop_slot(a, index);
}

void allocator_state::impl::drop_slot(agent_entry& a, size_t index) {
  auto* role = a.slots[index].role;
  a.slots.erase(a.slots.begin() + static_cast<std::ptrdiff_t>(index));
  --role->slots;
  roles.prune(role);
}

void allocator_state::impl::update_free(uint32_t agent) {
  auto& a = agents[agent];
  bool want = a.live && a.active && !a.free.empty();
  if (free_pos.size() <= agent)
    free_pos.resize(agent + 1, no_slot);
  auto& pos = free_pos[agent];
  if (want && pos == no_slot) {
    pos = static_cast<uint32_t>(free_agents.size());
    free_agents.push_back(agent);
  } else if (!want && pos != no_slot) {
    auto last = free_agents.back(); // swap-remove; positions live in a dense array (cache)
    free_agents[pos] = last;
    free_pos[last] = pos;
    free_agents.pop_back();
    pos = no_slot;
  }
}

void allocator_state::impl::refresh_wants(framework_entry& f) {
  for (size_t i = 0; i < f.roles.size(); ++i) {
    bool want = f.live && f.subscribed && f.active && f.suppressed.count(f.roles[i]) == 0;
    if (want == static_cast<bool>(f.wants[i]))
      continue;
    auto& node = roles.get(f.roles[i]);
    node.frameworks.set_active(f.key, want);
    roles.add_wanting(node, want ? 1 : -1);
    f.wants[i] = want;
  }
}

void allocator_state::impl::join_role(uint32_t slot, const std::string& role) {
  auto& f = frameworks[slot];
  auto& node = roles.get(role);
  ++node.subscribed;
  node.frameworks.add(f.key, 1.0, slot);
  node.frameworks.set_active(f.key, false);
  f.role_nodes.push_back(&node);
  f.handles.push_back(node.frameworks.find(f.key));
}

// Precondition: the framework no longer counts as wanting in `node` (refresh_wants ran).
void allocator_state::impl::leave_role(framework_entry& f, role_node& node) {
  node.frameworks.remove(f.key);
  --node.subscribed;
  roles.prune(&node);
}

void allocator_state::impl::refresh_totals() {
  if (!totals_dirty)
    return;
  totals_dirty = false;
  roles.set_total(cluster_total);
}

bool allocator_state::impl::allows_minimum(const resources& res,
                                           const quantities& amounts) const {
  if (!minimum_scalar)
    return cfg.minimum.allows(res);
  if (res.empty())
    return false;
  if (minimum.empty())
    return true;
  return std::any_of(minimum.begin(), minimum.end(),
                     [&](const quantities& m) { return amounts.contains(m); });
}

// -- construction ---------------------------------------------------------------------------

allocator_state::allocator_state(allocator_config cfg)
  : impl_(std::make_unique<impl>(std::move(cfg))) {
  // nop
}

allocator_state::~allocator_state() = default;
allocator_state::allocator_state(allocator_state&&) noexcept = default;
allocator_state& allocator_state::operator=(allocator_state&&) noexcept = default;

// -- agents ---------------------------------------------------------------------------------

caf::error allocator_state::add_agent(const v1::AgentID& agent, const resources& total,
                                      const std::vector<used_allocation>& used) {
  auto& m = *impl_;
  if (m.agent_index.count(agent.value()) > 0)
    return make_error(errc::already_exists, "agent " + agent.value() + " is already known");
  resources in_use;
  for (const auto& u : used) {
    if (auto err = validate_role(u.role))
      return err;
    in_use += u.res;
  }
  if (!total.contains(in_use))
    return make_error(errc::invalid_resources, "agent " + agent.value() + ": tasks use "
                                                 + in_use.to_string() + ", more than its total "
                                                 + total.to_string());
  uint32_t slot;
  if (m.free_agent_slots.empty()) {
    slot = static_cast<uint32_t>(m.agents.size());
    m.agents.emplace_back();
  } else {
    slot = m.free_agent_slots.back();
    m.free_agent_slots.pop_back();
  }
  auto& a = m.agents[slot];
  a = agent_entry{};
  a.live = true;
  a.id = agent;
  a.total = total;
  a.total_amounts = m.names.of(total);
  a.free = total;
  a.free_amounts = a.total_amounts;
  a.free_reserved = has_reserved(total);
  m.agent_index.emplace(agent.value(), slot);
  // Incremental: the sorters see the new total once, before the next pass (a failover
  // readmits tens of thousands of agents at once).
  m.cluster_total += a.total_amounts;
  m.totals_dirty = true;
  for (const auto& u : used)
    if (!u.res.empty())
      m.charge(slot, m.framework_slot(u.framework), m.roles.get(u.role), u.res,
               m.names.of(u.res), false);
  m.update_free(slot);
  return caf::none;
}

void allocator_state::remove_agent(const v1::AgentID& agent) {
  auto& m = *impl_;
  auto i = m.agent_index.find(agent.value());
  if (i == m.agent_index.end())
    return;
  auto slot = i->second;
  auto& a = m.agents[slot];
  while (!a.slots.empty())
    m.forget_slot(a, a.slots.size() - 1);
  for (auto& f : m.frameworks)
    f.filters.erase(slot);
  m.cluster_total -= a.total_amounts;
  m.totals_dirty = true;
  a.live = false;
  m.update_free(slot);
  a = agent_entry{};
  m.agent_index.erase(i);
  m.free_agent_slots.push_back(slot);
}

void allocator_state::set_agent_active(const v1::AgentID& agent, bool active) {
  auto& m = *impl_;
  if (auto i = m.agent_index.find(agent.value()); i != m.agent_index.end()) {
    m.agents[i->second].active = active;
    m.update_free(i->second);
  }
}

caf::error allocator_state::add_allocation(const v1::FrameworkID& framework,
                                           const v1::AgentID& agent, const std::string& role,
                                           const resources& res) {
  auto& m = *impl_;
  auto i = m.agent_index.find(agent.value());
  if (i == m.agent_index.end())
    return make_error(errc::not_found, "unknown agent " + agent.value());
  if (auto err = validate_role(role))
    return err;
  if (!m.agents[i->second].free.contains(res))
    return make_error(errc::invalid_resources,
                      "agent " + agent.value() + " does not have " + res.to_string() + " available");
  if (!res.empty())
    m.charge(i->second, m.framework_slot(framework), m.roles.get(role), res, m.names.of(res),
             false);
  return caf::none;
}

caf::error allocator_state::convert(const v1::FrameworkID& framework, const v1::AgentID& agent,
                                    const std::string& role, const resources& from,
                                    const resources& to) {
  auto& m = *impl_;
  auto* a = m.find_agent(agent.value());
  if (a == nullptr)
    return make_error(errc::not_found, "unknown agent " + agent.value());
  auto fi = m.framework_index.find(framework.value());
  auto* node = m.roles.find(role);
  auto slot = std::find_if(a->slots.begin(), a->slots.end(), [&](const allocation_slot& s) {
    return fi != m.framework_index.end() && s.framework == fi->second && s.role == node;
  });
  for (auto& s : a->slots)
    materialize(*a, s); // the total changes below
  if (slot == a->slots.end() || !slot->res.contains(from))
    return make_error(errc::invalid_resources, "framework " + framework.value() + " does not hold "
                                                 + from.to_string() + " on agent "
                                                 + agent.value() + " for role " + role);
  if (from.flatten() != to.flatten())
    return make_error(errc::invalid_resources, "a reservation change must keep the amounts: "
                                                 + from.to_string() + " vs " + to.to_string());
  slot->res -= from;
  slot->res += to;
  a->total -= from;
  a->total += to;
  return caf::none;
}

// -- frameworks -----------------------------------------------------------------------------

caf::error allocator_state::add_framework(const v1::FrameworkID& framework,
                                          std::vector<std::string> roles) {
  auto& m = *impl_;
  if (roles.empty())
    roles.push_back("*");
  std::sort(roles.begin(), roles.end());
  roles.erase(std::unique(roles.begin(), roles.end()), roles.end());
  if (auto err = check_roles(roles))
    return err;
  if (auto* known = m.find_framework(framework.value()); known && known->subscribed)
    return make_error(errc::already_exists,
                      "framework " + framework.value() + " is already known");
  bool had_allocations = m.find_framework(framework.value()) != nullptr;
  auto slot = m.framework_slot(framework);
  auto& f = m.frameworks[slot];
  f.subscribed = true;
  f.active = true;
  f.roles = std::move(roles);
  f.wants.assign(f.roles.size(), 0);
  for (const auto& role : f.roles)
    m.join_role(slot, role);
  // Allocations recorded before it subscribed (reregistered agents) now count for it.
  if (had_allocations)
    for (const auto& a : m.agents)
      for (const auto& s : a.slots)
        if (s.framework == slot)
          s.role->frameworks.allocate(f.sorter_handle(*s.role), s.amounts);
  m.refresh_wants(f);
  return caf::none;
}

caf::error allocator_state::update_framework(const v1::FrameworkID& framework,
                                             std::vector<std::string> roles) {
  auto& m = *impl_;
  if (roles.empty())
    roles.push_back("*");
  std::sort(roles.begin(), roles.end());
  roles.erase(std::unique(roles.begin(), roles.end()), roles.end());
  if (auto err = check_roles(roles))
    return err;
  auto i = m.framework_index.find(framework.value());
  if (i == m.framework_index.end() || !m.frameworks[i->second].subscribed)
    return make_error(errc::not_found, "unknown framework " + framework.value());
  auto slot = i->second;
  auto& f = m.frameworks[slot];
  auto current = f.roles; // kept roles, then joined ones: not sorted after an update
  std::sort(current.begin(), current.end());
  if (roles == current)
    return caf::none;
  bool was_active = f.active;
  f.active = false;
  m.refresh_wants(f); // out of every role's walk while the roles change
  std::vector<std::string> kept;
  for (size_t r = 0; r < f.roles.size(); ++r) {
    if (std::binary_search(roles.begin(), roles.end(), f.roles[r])) {
      kept.push_back(f.roles[r]);
      continue;
    }
    f.suppressed.erase(f.roles[r]);
    for (auto& [agent, filters] : f.filters)
      filters.erase(std::remove_if(filters.begin(), filters.end(),
                                   [&](const filter& x) { return x.role == f.roles[r]; }),
                    filters.end());
    m.leave_role(f, *f.role_nodes[r]);
  }
  // Rebuild the per-role vectors: kept roles first (their nodes and handles stay valid).
  std::vector<role_node*> nodes;
  std::vector<drf_sorter::handle> handles;
  for (const auto& role : kept) {
    auto r = std::find(f.roles.begin(), f.roles.end(), role) - f.roles.begin();
    nodes.push_back(f.role_nodes[r]);
    handles.push_back(f.handles[r]);
  }
  f.roles = kept;
  f.role_nodes = std::move(nodes);
  f.handles = std::move(handles);
  for (const auto& role : roles)
    if (std::find(kept.begin(), kept.end(), role) == kept.end()) {
      f.roles.push_back(role);
      m.join_role(slot, role);
      auto& node = *f.role_nodes.back();
      for (const auto& a : m.agents) // what it already holds in the role counts for it
        for (const auto& s : a.slots)
          if (s.framework == slot && s.role == &node)
            node.frameworks.allocate(f.handles.back(), s.amounts);
    }
  f.wants.assign(f.roles.size(), 0);
  f.active = was_active;
  m.refresh_wants(f);
  return caf::none;
}

void allocator_state::remove_framework(const v1::FrameworkID& framework) {
  auto& m = *impl_;
  auto i = m.framework_index.find(framework.value());
  if (i == m.framework_index.end())
    return;
  auto slot = i->second;
  auto& f = m.frameworks[slot];
  f.active = false;
  m.refresh_wants(f);
  for (uint32_t ai = 0; ai < m.agents.size(); ++ai) {
    auto& a = m.agents[ai];
    for (size_t s = a.slots.size(); s-- > 0;)
      if (a.slots[s].framework == slot) {
        m.forget_slot(a, s);
        m.update_free(ai);
      }
  }
  for (auto* node : f.role_nodes)
    m.leave_role(f, *node);
  m.framework_index.erase(i);
  f = framework_entry{};
  m.free_framework_slots.push_back(slot);
}

void allocator_state::set_framework_active(const v1::FrameworkID& framework, bool active) {
  auto& m = *impl_;
  if (auto* f = m.find_framework(framework.value())) {
    f->active = active;
    m.refresh_wants(*f);
  }
}

void allocator_state::suppress(const v1::FrameworkID& framework,
                               const std::vector<std::string>& roles) {
  auto& m = *impl_;
  auto* f = m.find_framework(framework.value());
  if (f == nullptr || !f->subscribed)
    return;
  for (const auto& role : roles.empty() ? f->roles : roles)
    if (std::find(f->roles.begin(), f->roles.end(), role) != f->roles.end())
      f->suppressed.insert(role);
  m.refresh_wants(*f);
}

void allocator_state::revive(const v1::FrameworkID& framework,
                             const std::vector<std::string>& roles) {
  auto& m = *impl_;
  auto* f = m.find_framework(framework.value());
  if (f == nullptr || !f->subscribed)
    return;
  const auto& revived = roles.empty() ? f->roles : roles;
  for (const auto& role : revived)
    f->suppressed.erase(role);
  for (auto i = f->filters.begin(); i != f->filters.end();) {
    auto& filters = i->second;
    filters.erase(std::remove_if(filters.begin(), filters.end(),
                                 [&](const filter& x) {
                                   return std::find(revived.begin(), revived.end(), x.role)
                                          != revived.end();
                                 }),
                  filters.end());
    i = filters.empty() ? f->filters.erase(i) : std::next(i);
  }
  m.refresh_wants(*f);
}

// -- roles ----------------------------------------------------------------------------------

caf::error allocator_state::set_weight(const std::string& role, double weight) {
  if (auto err = validate_role(role))
    return err;
  if (!std::isfinite(weight) || !(weight > 0))
    return make_error(errc::invalid_argument,
                      "the weight of role " + role + " must be a number > 0");
  impl_->roles.set_weight(role, weight);
  return caf::none;
}

caf::error allocator_state::set_quota(const std::string& role, const resources& limits) {
  if (auto err = validate_role(role))
    return err;
  limit_list list;
  for (const auto& [key, value] : limits.entries()) {
    if (value.kind != resource_kind::scalar || !key.reservations.empty())
      return make_error(errc::invalid_argument, "quota limits are unreserved scalar amounts, not "
                                                  + limits.to_string());
    list.emplace_back(impl_->names.intern(key.name), value.millis);
  }
  impl_->roles.set_limit(role, list.empty() ? std::nullopt : std::optional{std::move(list)});
  return caf::none;
}

std::map<std::string, double> allocator_state::weights() const {
  return impl_->roles.weights();
}

std::map<std::string, resources> allocator_state::quotas() const {
  std::map<std::string, resources> result;
  for (const auto& [role, list] : impl_->roles.limits()) {
    auto& r = result[role];
    for (auto [id, millis] : list) {
      resources one;
      one.add(resource_key{impl_->names.name(id), {}},
              resource_value{resource_kind::scalar, millis, {}, {}});
      r += one;
    }
  }
  return result;
}

// -- inspection -----------------------------------------------------------------------------

resources allocator_state::available(const v1::AgentID& agent) const {
  auto* a = impl_->find_agent(agent.value());
  return a == nullptr ? resources{} : a->free;
}

resources allocator_state::allocation(const v1::FrameworkID& framework, const v1::AgentID& agent,
                                      const std::string& role) const {
  auto* a = impl_->find_agent(agent.value());
  auto fi = impl_->framework_index.find(framework.value());
  auto* node = impl_->roles.find(role);
  if (a == nullptr || fi == impl_->framework_index.end() || node == nullptr)
    return {};
  for (const auto& s : a->slots)
    if (s.framework == fi->second && s.role == node)
      return held(*a, s);
  return {};
}

resources allocator_state::role_allocation(const std::string& role) const {
  resources result;
  auto* node = impl_->roles.find(role);
  if (node == nullptr)
    return result;
  for (size_t id = 0; id < node->allocated.size(); ++id)
    if (auto millis = node->allocated.get(id); millis > 0)
      result.add(resource_key{impl_->names.name(id), {}},
                 resource_value{resource_kind::scalar, millis, {}, {}});
  return result;
}

double allocator_state::role_share(const std::string& role) const {
  impl_->refresh_totals();
  auto* node = impl_->roles.find(role);
  return node == nullptr || node->parent == nullptr ? 0.0 : node->parent->sorter.share(role);
}

std::optional<time_point> allocator_state::next_filter_expiry(time_point now) const {
  std::optional<time_point> result;
  for (const auto& f : impl_->frameworks)
    for (const auto& [agent, filters] : f.filters)
      for (const auto& x : filters)
        if (x.expires > now && (!result || x.expires < *result))
          result = x.expires;
  return result;
}

} // namespace troupe::allocator
