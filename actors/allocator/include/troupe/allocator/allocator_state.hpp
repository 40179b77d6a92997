// The allocator's pure part: which agent's free resources go to which framework, for which role
// (hierarchical DRF: roles first, then frameworks within a role). No actor system, no clock:
// callers pass the time, and the agent order of each pass comes from a seeded generator, so the
// same seed and the same calls give the same offers.
//
// Vocabulary
//   allocated   resources currently offered to or used by a framework (Mesos' "allocation":
//               offers and running tasks alike; the master recovers what is declined, rescinded,
//               unused or freed by a terminal task)
//   available   an agent's total minus everything allocated on it
//   filter      after a decline with refuse_seconds: the framework is not offered resources on
//               that agent that fit inside the declined ones until the filter expires
//   suppressed  a framework (per role) that asked for no offers until it revives
//
// Pass: agents in a seeded random order; for each agent, roles in DRF order; within a role,
// active unsuppressed frameworks in DRF order; the first whose filters allow it is offered all
// of the agent's available resources allocatable to that role (reservations of the role and its
// ancestors plus unreserved ones), if they meet the minimum allocatable size.
// Weights, quota and dynamic reservation bookkeeping slot in later (Allocator issue): role
// weights already exist in the role sorter.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <caf/actor_clock.hpp>
#include <caf/error.hpp>
#include <caf/timespan.hpp>

#include "troupe/allocator/drf_sorter.hpp"
#include "troupe/messages/ids.hpp"
#include "troupe/messages/min_allocatable.hpp"
#include "troupe/messages/resources.hpp"
#include "troupe/runtime/random.hpp"

namespace troupe::allocator {

using time_point = caf::actor_clock::time_point;

/// One offer the allocator decided on.
struct offer_decision {
  v1::FrameworkID framework;
  v1::AgentID agent;
  std::string role;
  resources res;
};

/// Resources a framework already uses on an agent (its tasks, when the agent reregisters).
struct used_allocation {
  v1::FrameworkID framework;
  std::string role;
  resources res;
};

/// Knobs of the allocator.
struct allocator_config {
  caf::timespan allocation_interval = std::chrono::seconds{1}; ///< batch changes this long
  min_allocatable minimum;                                     ///< smallest offer worth making
  uint64_t seed = 1;                                           ///< agent order per pass
};

class allocator_state {
public:
  explicit allocator_state(allocator_config cfg);

  // -- agents -----------------------------------------------------------------------------

  /// Adds an agent with its total resources and what its tasks already use (one step, so no
  /// pass can offer the used part in between). Frameworks need not be known yet: their
  /// allocations count towards their shares once they subscribe. errc::already_exists if
  /// known; errc::invalid_resources if `used` does not fit in `total` (nothing is added).
  caf::error add_agent(const v1::AgentID& agent, const resources& total,
                       const std::vector<used_allocation>& used = {});

  /// Removes an agent and every allocation on it (the master rescinds its offers and marks its
  /// tasks itself). No-op for unknown agents.
  void remove_agent(const v1::AgentID& agent);

  /// An unreachable agent gets no offers until reactivated; its allocations stay (so a
  /// returning agent must not report its tasks' resources again).
  void set_agent_active(const v1::AgentID& agent, bool active);

  /// Adds resources now in use on a known agent (e.g. a task launched outside an offer).
  /// errc::not_found for an unknown agent; errc::invalid_resources when they exceed what the
  /// agent has available.
  caf::error add_allocation(const v1::FrameworkID& framework, const v1::AgentID& agent,
                            const std::string& role, const resources& res);

  // -- frameworks -------------------------------------------------------------------------

  /// Adds a framework subscribed to `roles` (empty = "*"). errc::already_exists if known.
  caf::error add_framework(const v1::FrameworkID& framework, std::vector<std::string> roles);

  /// Removes a framework and forgets its allocations (the master recovers nothing afterwards).
  void remove_framework(const v1::FrameworkID& framework);

  /// A disconnected framework gets no offers until reactivated; its allocations stay.
  void set_framework_active(const v1::FrameworkID& framework, bool active);

  /// Stops offers to the framework for `roles` (empty = all its roles).
  void suppress(const v1::FrameworkID& framework, const std::vector<std::string>& roles);

  /// Resumes offers for `roles` (empty = all) and drops the framework's decline filters for
  /// those roles.
  void revive(const v1::FrameworkID& framework, const std::vector<std::string>& roles);

  // -- resources --------------------------------------------------------------------------

  /// Gives allocated resources back (declined, rescinded, unused part of an accept, terminal
  /// task). With `refuse` > 0, installs a filter (for this agent and role) until now + refuse;
  /// earlier filters stay. Returns what was actually recovered (never more than was allocated
  /// to that framework and role on that agent).
  resources recover(const v1::FrameworkID& framework, const v1::AgentID& agent,
                    const std::string& role, const resources& res,
                    std::optional<caf::timespan> refuse, time_point now);

  /// One allocation pass at `now`.
  std::vector<offer_decision> allocate(time_point now);

  // -- inspection -------------------------------------------------------------------------

  /// An agent's total minus everything allocated on it (empty for unknown agents).
  resources available(const v1::AgentID& agent) const;

  /// What `framework` holds on `agent` for `role`.
  resources allocation(const v1::FrameworkID& framework, const v1::AgentID& agent,
                       const std::string& role) const;

  /// The earliest filter expiry after `now`, if any (the actor re-runs a pass then).
  std::optional<time_point> next_filter_expiry(time_point now) const;

  /// The role sorter (shares, weights).
  const drf_sorter& roles() const {
    refresh_totals();
    return role_sorter_;
  }

private:
  struct allocation_key {
    std::string framework;
    std::string role;
    bool operator<(const allocation_key& other) const {
      return std::tie(framework, role) < std::tie(other.framework, other.role);
    }
  };

  struct agent_entry {
    v1::AgentID id;
    resources total;
    resources allocated; // sum of `by`
    std::map<allocation_key, resources> by;
    bool active = true;
  };

  struct filter {
    std::string role;
    resources refused; // flattened
    time_point expires;
  };

  struct framework_entry {
    v1::FrameworkID id;
    std::vector<std::string> roles;
    std::set<std::string> suppressed;
    std::map<std::string, std::vector<filter>> filters; // by agent ID
    bool active = true;
  };

  bool filtered(framework_entry& fw, const std::string& agent, const std::string& role,
                const resources& offer, time_point now);
  void charge(agent_entry& agent, const v1::FrameworkID& framework, const std::string& role,
              const resources& res);
  void allocate_agent(agent_entry& agent, time_point now, std::vector<offer_decision>& out);
  void forget_allocation(const allocation_key& key, const resources& res);
  drf_sorter& framework_sorter(const std::string& role);
  void update_total();
  void set_sorter_totals() const;
  /// Added agents only grow cluster_total_; the sorters (which re-rank every client on a new
  /// total) see it when shares are next needed — once per pass, not once per agent.
  void refresh_totals() const {
    if (totals_dirty_)
      set_sorter_totals();
  }

  allocator_config cfg_;
  runtime::seeded_random rng_;
  std::map<std::string, agent_entry> agents_;
  std::map<std::string, framework_entry> frameworks_;
  mutable bool totals_dirty_ = false; ///< cluster_total_ grew since the sorters saw it
  mutable drf_sorter role_sorter_;
  mutable std::map<std::string, drf_sorter> framework_sorters_; // by role
  resources cluster_total_;
};

} // namespace troupe::allocator
