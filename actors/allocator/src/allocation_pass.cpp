// The allocation pass (hierarchical DRF over the role tree) and recovery of resources.
#include <algorithm>

#include "allocator_impl.hpp"

namespace troupe::allocator {

resources trim_to(const resources& res, const name_table& names, const quantities& room,
                  const std::vector<bool>& limited) {
  resources result;
  quantities left = room;
  // The role's reservations first: nobody else may use them, while unreserved amounts left
  // out go to other roles.
  for (bool reserved : {true, false})
    for (const auto& [key, value] : res.entries()) {
      if (key.reservations.empty() == reserved)
        continue;
      if (value.kind != resource_kind::scalar) {
        result.add(key, value);
        continue;
      }
      auto id = names.find(key.name);
      if (id >= limited.size() || !limited[id]) {
        result.add(key, value);
        continue;
      }
      auto take = std::min(value.millis, left.get(id));
      if (take <= 0)
        continue;
      left.set(id, left.get(id) - take);
      auto cut = value;
      cut.millis = take;
      result.add(key, cut);
    }
  return result;
}

// -- recovery -------------------------------------------------------------------------------

resources allocator_state::recover(const v1::FrameworkID& framework, const v1::AgentID& agent,
                                   const std::string& role, const resources& res,
                                   std::optional<caf::timespan> refuse, time_point now) {
  auto& m = *impl_;
  auto ai = m.agent_index.find(agent.value());
  auto fi = m.framework_index.find(framework.value());
  auto* node = m.roles.find(role);
  if (ai == m.agent_index.end() || fi == m.framework_index.end() || node == nullptr)
    return {};
  auto& a = m.agents[ai->second];
  auto s = std::find_if(a.slots.begin(), a.slots.end(), [&](const allocation_slot& x) {
    return x.framework == fi->second && x.role == node;
  });
  if (s == a.slots.end())
    return {};
  // Recover only what is allocated: a duplicate or stale recover cannot inflate availability.
  auto recovered = res - (res - held(a, *s));
  if (recovered.empty())
    return recovered;
  m.uncharge(a, *s, recovered, m.names.of(recovered));
  if (s->res.empty())
    m.drop_slot(a, static_cast<size_t>(s - a.slots.begin()));
  m.update_free(ai->second);
  if (refuse && *refuse > caf::timespan{0}) {
    auto& filters = m.frameworks[fi->second].filters[ai->second];
    filters.erase(std::remove_if(filters.begin(), filters.end(),
                                 [&](const filter& x) { return x.expires <= now; }),
                  filters.end());
    filters.push_back(filter{role, recovered.flatten(), now + *refuse});
  }
  return recovered;
}

// -- the pass -------------------------------------------------------------------------------

std::vector<offer_decision> allocator_state::allocate(time_point now) {
  auto& m = *impl_;
  m.refresh_totals();
  std::vector<offer_decision> out;
  if (m.roles.root().wanting == 0 || m.free_agents.empty())
    return out;
  auto order = m.free_agents;
  m.rng.shuffle(order.begin(), order.end());
  out.reserve(order.size());
  // The order is random, so every agent is a cache miss: fetch the next ones' entries early.
  constexpr size_t ahead = 4;
  auto prefetch = [&](size_t i) {
    if (i < order.size()) {
      const auto* a = reinterpret_cast<const char*>(&m.agents[order[i]]);
      for (size_t line = 0; line < sizeof(agent_entry); line += 64)
        __builtin_prefetch(a + line);
    }
  };
  for (size_t i = 0; i < ahead; ++i)
    prefetch(i);
  for (size_t i = 0; i < order.size(); ++i) {
    prefetch(i + ahead);
    m.allocate_agent(order[i], now, out);
  }
  return out;
}

void allocator_state::impl::allocate_agent(uint32_t agent, time_point now,
                                           std::vector<offer_decision>& out) {
  auto& a = agents[agent];
  visited.clear();
  while (!a.free.empty()) {
    choice found;
    if (!walk(roles.root(), agent, now, found))
      return;
    charge(agent, found.framework, *found.role, found.offer, found.amounts, found.whole);
    visited.push_back(found.role);
    out.push_back(offer_decision{frameworks[found.framework].id, a.id, found.role->name,
                                 std::move(found.offer)});
  }
}

// Depth first in DRF order: a child role's subtree, or (under ".") the role's own frameworks.
bool allocator_state::impl::walk(role_node& node, uint32_t agent, time_point now,
                                 choice& found) {
  return node.sorter.find_first([&](const std::string&, uintptr_t tag) {
           auto* n = reinterpret_cast<role_node*>(tag);
           return n == &node ? offer_to_role(node, agent, now, found)
                             : walk(*n, agent, now, found);
         })
         != nullptr;
}

bool allocator_state::impl::offer_to_role(role_node& node, uint32_t agent, time_point now,
                                          choice& found) {
  if (std::find(visited.begin(), visited.end(), &node) != visited.end())
    return false;
  auto& a = agents[agent];
  const resources* offer = &a.free;
  const quantities* amounts = &a.free_amounts;
  bool whole = true;
  resources cut;
  quantities cut_amounts;
  if (a.free_reserved) { // only what this role may use
    cut = a.free.allocatable_to(node.name);
    if (cut.empty())
      return false;
    cut_amounts = names.of(cut);
    offer = &cut;
    amounts = &cut_amounts;
    whole = false;
  }
  if (node.limited_path) {
    room = quantities{};
    limited.clear();
    roles.headroom(node, room, limited);
    bool over = false;
    for (size_t id = 0; id < limited.size(); ++id)
      over = over || (limited[id] && amounts->get(id) > room.get(id));
    if (over) {
      cut = trim_to(*offer, names, room, limited);
      cut_amounts = names.of(cut);
      offer = &cut;
      amounts = &cut_amounts;
      whole = false;
    }
  }
  if (!allows_minimum(*offer, *amounts))
    return false;
  uint32_t chosen = no_slot;
  std::optional<resources> flat;
  node.frameworks.find_first([&](const std::string&, uintptr_t tag) {
    auto slot = static_cast<uint32_t>(tag);
    if (filtered(frameworks[slot], agent, node.name, *offer, flat, now))
      return false;
    chosen = slot;
    return true;
  });
  if (chosen == no_slot)
    return false;
  found.role = &node;
  found.framework = chosen;
  // `whole`: the agent's free resources go entirely (charge() empties them): move, not copy.
  found.offer = offer == &cut ? std::move(cut) : whole ? std::move(a.free) : *offer;
  found.amounts = amounts == &cut_amounts ? std::move(cut_amounts)
                  : whole                 ? std::move(a.free_amounts)
                                          : *amounts;
  found.whole = whole;
  return true;
}

bool allocator_state::impl::filtered(framework_entry& fw, uint32_t agent, const std::string& role,
                                     const resources& offer, std::optional<resources>& flat,
                                     time_point now) {
  if (fw.filters.empty())
    return false;
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
  if (!flat)
    flat = offer.flatten();
  for (const auto& f : filters)
    if (f.role == role && f.refused.contains(*flat))
      return true;
  return false;
}

} // namespace troupe::allocator
