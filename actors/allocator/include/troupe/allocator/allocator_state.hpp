// The allocator's pure part: which agent's free resources go to which framework, for which role.
// No actor system, no clock: callers pass the time, and the agent order of each pass comes from
// a seeded generator, so the same seed and the same calls give the same offers.
//
// Vocabulary
//   allocated   resources currently offered to or used by a framework (Mesos' "allocation":
//               offers and running tasks alike; the master recovers what is declined, rescinded,
//               unused or freed by a terminal task)
//   free        an agent's total minus everything allocated on it
//   filter      after a decline with refuse_seconds: the framework is not offered resources on
//               that agent that fit inside the declined ones until the filter expires
//   suppressed  a framework (per role) that asked for no offers until it revives
//   wanting     a subscribed, active framework, not suppressed in a role: it gets offers there
//   weight      a role's weight among its sibling roles (default 1)
//   quota limit an upper bound on what a role's subtree may hold (offers are trimmed to fit)
//
// Pass (hierarchical DRF): agents with free resources, in a seeded random order; per agent, walk
// the role tree (role_tree.hpp) in weighted-DRF order — at each level the sibling with the
// lowest weighted dominant share first, a role's own frameworks competing with its children as
// one more sibling — and within a role its wanting frameworks in DRF order. The first framework
// whose filters allow it gets everything on the agent allocatable to its role (unreserved plus
// reservations of the role and its ancestors), trimmed to the quota headroom of the role and
// its ancestors, if that meets the minimum allocatable size. Then the walk goes on for what is
// left (reservations of other roles). Agents with nothing free and roles with nobody wanting
// are not visited.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <caf/actor_clock.hpp>
#include <caf/error.hpp>
#include <caf/timespan.hpp>

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
  ~allocator_state();
  allocator_state(allocator_state&&) noexcept;
  allocator_state& operator=(allocator_state&&) noexcept;

  // -- agents -----------------------------------------------------------------------------

  /// Adds an agent with its total resources and what its tasks already use (one step, so no
  /// pass can offer the used part in between). Frameworks need not be known yet: their
  /// allocations count for their roles at once and for them once they subscribe.
  /// errc::already_exists if known; errc::invalid_resources if `used` does not fit in `total`
  /// (nothing is added).
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
  /// agent has free.
  caf::error add_allocation(const v1::FrameworkID& framework, const v1::AgentID& agent,
                            const std::string& role, const resources& res);

  /// Applies a dynamic reservation change (RESERVE or UNRESERVE) to resources `framework`
  /// holds on `agent` for `role`: `from` becomes `to` in that allocation and in the agent's
  /// total. The amounts must match (a reservation moves resources, it does not make any).
  /// errc::not_found (unknown agent), errc::invalid_resources (not held, or amounts differ).
  caf::error convert(const v1::FrameworkID& framework, const v1::AgentID& agent,
                     const std::string& role, const resources& from, const resources& to);

  // -- frameworks -------------------------------------------------------------------------

  /// Adds a framework subscribed to `roles` (empty = "*"). errc::already_exists if known;
  /// errc::invalid_argument for a malformed role.
  caf::error add_framework(const v1::FrameworkID& framework, std::vector<std::string> roles);

  /// Changes a subscribed framework's roles (empty = "*"): it leaves the roles not listed
  /// (suppression and filters there go; what it holds there stays allocated until recovered)
  /// and joins the new ones. errc::not_found for an unknown framework; errc::invalid_argument
  /// for a malformed role (nothing changes).
  caf::error update_framework(const v1::FrameworkID& framework, std::vector<std::string> roles);

  /// Removes a framework and forgets its allocations (the master recovers nothing afterwards).
  void remove_framework(const v1::FrameworkID& framework);

  /// A disconnected framework gets no offers until reactivated; its allocations stay.
  void set_framework_active(const v1::FrameworkID& framework, bool active);

  /// Stops offers to the framework for `roles` (empty = all its roles).
  void suppress(const v1::FrameworkID& framework, const std::vector<std::string>& roles);

  /// Resumes offers for `roles` (empty = all) and drops the framework's decline filters for
  /// those roles.
  void revive(const v1::FrameworkID& framework, const std::vector<std::string>& roles);

  // -- roles ------------------------------------------------------------------------------

  /// Sets a role's weight among its siblings. errc::invalid_argument for a malformed role or
  /// a weight that is not a finite number > 0.
  caf::error set_weight(const std::string& role, double weight);

  /// Sets a role's quota limit (scalar amounts; names not listed are unlimited); an empty bag
  /// removes the limit. errc::invalid_argument for a malformed role, reserved or non-scalar
  /// limits.
  caf::error set_quota(const std::string& role, const resources& limits);

  /// Roles with a weight other than the default, and their weights.
  std::map<std::string, double> weights() const;

  /// Roles with a quota limit, and their limits.
  std::map<std::string, resources> quotas() const;

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

  /// The scalar amounts allocated in a role's subtree (empty for unknown roles).
  resources role_allocation(const std::string& role) const;

  /// A role's weighted dominant share among its siblings (0 for unknown roles).
  double role_share(const std::string& role) const;

  /// The earliest filter expiry after `now`, if any (the actor re-runs a pass then).
  std::optional<time_point> next_filter_expiry(time_point now) const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace troupe::allocator
