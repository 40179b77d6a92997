// allocator_state's insides, shared by its source files (private to actors/allocator).
//
// Agents and frameworks live in slot vectors (indices stay valid; freed slots are reused) with
// an ID -> slot index. An agent keeps its free resources (and their amounts) up to date, and
// the allocations on it as a short list of slots per (framework, role). Agents with something
// free and active are in `free_agents` — the only ones a pass visits.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "troupe/allocator/allocator_state.hpp"
#include "troupe/allocator/quantities.hpp"
#include "troupe/allocator/role_tree.hpp"

namespace troupe::allocator {

constexpr uint32_t no_slot = UINT32_MAX;

struct allocation_slot {
  uint32_t framework;
  role_node* role;
  resources res;        ///< unless is_total
  quantities amounts;
  bool is_total = false; ///< holds the agent's whole total, `res` left empty: whole agents are
                         ///< offered every pass, and this saves copying them a second time
};

struct agent_entry {
  bool live = false;
  v1::AgentID id;
  resources total;
  quantities total_amounts;
  resources free;
  quantities free_amounts;
  bool free_reserved = false; ///< `free` holds reserved entries
  std::vector<allocation_slot> slots;
  bool active = true;
};

/// What a slot holds.
inline const resources& held(const agent_entry& a, const allocation_slot& s) {
  return s.is_total ? a.total : s.res;
}

/// What a slot holds, as its own bag from now on (before changing it or the agent's total).
inline resources& materialize(const agent_entry& a, allocation_slot& s) {
  if (s.is_total) {
    s.res = a.total;
    s.is_total = false;
  }
  return s.res;
}

struct filter {
  std::string role;
  resources refused; // flattened
  time_point expires;
};

struct framework_entry {
  bool live = false;
  v1::FrameworkID id;
  std::string key;        ///< id.value()
  bool subscribed = false; ///< add_framework was called (else: only allocations known)
  bool active = true;
  std::vector<std::string> roles;
  std::vector<char> wants; ///< per roles[i]: counted as wanting in the role tree
  std::vector<role_node*> role_nodes;        ///< per roles[i] (alive while subscribed)
  std::vector<drf_sorter::handle> handles;   ///< per roles[i]: in role_nodes[i]->frameworks
  std::set<std::string> suppressed;
  std::unordered_map<uint32_t, std::vector<filter>> filters; ///< by agent slot

  /// This framework in `role`'s framework sorter, or nullptr when not subscribed to it.
  drf_sorter::handle sorter_handle(const role_node& role) const {
    for (size_t i = 0; i < role_nodes.size(); ++i)
      if (role_nodes[i] == &role)
        return handles[i];
    return nullptr;
  }
};

struct allocator_state::impl {
  explicit impl(allocator_config c);

  allocator_config cfg;
  runtime::seeded_random rng;
  name_table names;
  std::vector<quantities> minimum; ///< cfg.minimum as amounts (empty: check resources)
  bool minimum_scalar = true;
  role_tree roles;
  std::vector<agent_entry> agents;
  std::vector<uint32_t> free_agent_slots;
  std::unordered_map<std::string, uint32_t> agent_index;
  std::vector<framework_entry> frameworks;
  std::vector<uint32_t> free_framework_slots;
  std::unordered_map<std::string, uint32_t> framework_index;
  std::vector<uint32_t> free_agents; ///< active agents with something free
  std::vector<uint32_t> free_pos;    ///< by agent slot: its index in free_agents, or no_slot
  quantities cluster_total;
  bool totals_dirty = false;

  // -- slots ------------------------------------------------------------------------------
  agent_entry* find_agent(const std::string& id);
  uint32_t framework_slot(const v1::FrameworkID& id); ///< created (unsubscribed) if missing
  framework_entry* find_framework(const std::string& id);

  // -- bookkeeping ------------------------------------------------------------------------
  void charge(uint32_t agent, uint32_t framework, role_node& role, const resources& res,
              const quantities& amounts, bool whole);
  void uncharge(agent_entry& agent, allocation_slot& slot, const resources& res,
                const quantities& amounts);
  void drop_slot(agent_entry& agent, size_t index);
  void forget_slot(agent_entry& agent, size_t index); ///< uncharge all it holds, then drop it
  void update_free(uint32_t agent);
  void refresh_wants(framework_entry& fw);
  void join_role(uint32_t framework, const std::string& role); ///< appends to roles vectors
  void leave_role(framework_entry& fw, role_node& node);
  void refresh_totals();
  bool allows_minimum(const resources& res, const quantities& amounts) const;

  // -- the pass ---------------------------------------------------------------------------
  /// What a walk of the role tree found for one agent.
  struct choice {
    role_node* role = nullptr;
    uint32_t framework = no_slot;
    resources offer;
    quantities amounts;
    bool whole = false; ///< the offer is all of the agent's free resources
  };

  void allocate_agent(uint32_t agent, time_point now, std::vector<offer_decision>& out);
  bool walk(role_node& node, uint32_t agent, time_point now, choice& found);
  bool offer_to_role(role_node& node, uint32_t agent, time_point now, choice& found);

  std::vector<role_node*> visited; ///< roles already offered the current agent (scratch)
  quantities room;                 ///< quota headroom (scratch)
  std::vector<bool> limited;       ///< names limited on the current path (scratch)
  /// `flat` is the offer flattened, computed on first need (most frameworks have no filters).
  bool filtered(framework_entry& fw, uint32_t agent, const std::string& role,
                const resources& offer, std::optional<resources>& flat, time_point now);
};

/// Cuts scalar entries of `res` so that each limited name id holds at most `room`.
resources trim_to(const resources& res, const name_table& names, const quantities& room,
                  const std::vector<bool>& limited);

} // namespace troupe::allocator
