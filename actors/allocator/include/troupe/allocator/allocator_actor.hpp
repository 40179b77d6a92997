// The allocator actor: a thin shell around allocator_state. It batches changes and runs an
// allocation pass every allocation_interval (and at once after a revive), sending each pass's
// offers to the master as one offer_batch. Node-internal protocol: plain structs, never on the
// wire.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "troupe/allocator/allocator_state.hpp"

namespace troupe::allocator {

/// The offers of one allocation pass.
struct offer_batch {
  std::vector<offer_decision> offers;
};

/// Resources the master gives back: declined (with an optional filter), rescinded, unused after
/// an accept, or freed by a terminal task.
struct recovered_resources {
  v1::FrameworkID framework;
  v1::AgentID agent;
  std::string role;
  resources res;
  std::optional<caf::timespan> refuse; ///< install a decline filter for this long
};

/// Resources now in use on a known agent, outside any offer.
struct used_resources {
  v1::FrameworkID framework;
  v1::AgentID agent;
  std::string role;
  resources res;
};

/// An agent joined (or reregistered with a master that did not know it), with the resources
/// its tasks already use.
struct agent_added {
  v1::AgentID agent;
  resources total;
  std::vector<used_allocation> used;
};

/// A dynamic reservation change (RESERVE/UNRESERVE accepted on an offer): `from` becomes `to`
/// in what `framework` holds on `agent` for `role`, and in the agent's total.
struct reservation_change {
  v1::FrameworkID framework;
  v1::AgentID agent;
  std::string role;
  resources from;
  resources to;
};

using set_weight_atom = caf::atom_constant<caf::atom("setweight")>;
using set_quota_atom = caf::atom_constant<caf::atom("setquota")>;
using remove_agent_atom = caf::atom_constant<caf::atom("rmagent")>;
using agent_active_atom = caf::atom_constant<caf::atom("agentact")>;
using add_framework_atom = caf::atom_constant<caf::atom("addfw")>;
using remove_framework_atom = caf::atom_constant<caf::atom("rmfw")>;
using update_framework_atom = caf::atom_constant<caf::atom("updfw")>;
using framework_active_atom = caf::atom_constant<caf::atom("fwact")>;
using suppress_atom = caf::atom_constant<caf::atom("suppress")>;
using revive_atom = caf::atom_constant<caf::atom("revive")>;

/// Where offers go: the master (or a test probe).
using offer_sink_actor = caf::typed_actor<
  /// Allocator -> master: the offers of one pass, at most one per (agent, role).
  caf::reacts_to<offer_batch>>;

using allocator_actor = caf::typed_actor<
  /// Master -> allocator: an agent registered; its tasks' resources are allocated at once.
  caf::reacts_to<agent_added>,
  /// Master -> allocator: an agent is gone; its allocations are forgotten. Idempotent.
  caf::reacts_to<remove_agent_atom, v1::AgentID>,
  /// Master -> allocator: an agent became unreachable (false) or came back (true); its
  /// allocations stay, so do not report its tasks again. Idempotent.
  caf::reacts_to<agent_active_atom, v1::AgentID, bool>,
  /// Master -> allocator: a framework subscribed to these roles (empty = "*").
  caf::reacts_to<add_framework_atom, v1::FrameworkID, std::vector<std::string>>,
  /// Master -> allocator: a resubscribed framework now wants offers for these roles (empty =
  /// "*"); what it holds in roles it left stays allocated until recovered. Idempotent.
  caf::reacts_to<update_framework_atom, v1::FrameworkID, std::vector<std::string>>,
  /// Master -> allocator: a framework is removed. Idempotent.
  caf::reacts_to<remove_framework_atom, v1::FrameworkID>,
  /// Master -> allocator: a framework disconnected (false) or resubscribed (true). Idempotent.
  caf::reacts_to<framework_active_atom, v1::FrameworkID, bool>,
  /// Master -> allocator: SUPPRESS for these roles (empty = all). Idempotent.
  caf::reacts_to<suppress_atom, v1::FrameworkID, std::vector<std::string>>,
  /// Master -> allocator: REVIVE for these roles (empty = all); clears the framework's filters
  /// and runs a pass at once. Idempotent.
  caf::reacts_to<revive_atom, v1::FrameworkID, std::vector<std::string>>,
  /// Master -> allocator: resources given back. Recovering more than is allocated is clamped.
  caf::reacts_to<recovered_resources>,
  /// Master -> allocator: resources now in use on a known agent, outside any offer.
  caf::reacts_to<used_resources>,
  /// Master -> allocator: a role's weight (validated and persisted by the master).
  caf::reacts_to<set_weight_atom, std::string, double>,
  /// Master -> allocator: a role's quota limits (empty: none).
  caf::reacts_to<set_quota_atom, std::string, resources>,
  /// Master -> allocator: a reservation change on allocated resources.
  caf::reacts_to<reservation_change>>;

/// Spawns the allocator; offers go to `sink`. Refused requests (unknown agents, resources that
/// do not fit) are logged on the "allocator" logger.
allocator_actor spawn_allocator(caf::actor_system& sys, allocator_config cfg,
                                offer_sink_actor sink);

} // namespace troupe::allocator

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(troupe::resources)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(troupe::allocator::offer_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(troupe::allocator::recovered_resources)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(troupe::allocator::used_resources)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(troupe::allocator::agent_added)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(troupe::allocator::reservation_change)
