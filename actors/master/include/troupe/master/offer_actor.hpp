// One offer actor per outstanding offer (DESIGN.md §3 "Offer actors"). It holds the resources of
// one offer and ends in exactly one way: accepted, declined, rescinded or expired. On every end
// except accepted - including being killed or crashing - it returns the resources to the
// allocator exactly once (a functor attached to the actor's exit guarantees it).
#pragma once

#include <chrono>
#include <string>

#include <caf/atom.hpp>
#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_actor.hpp>

#include "troupe/allocator/allocator_actor.hpp"
#include "troupe/messages/proto.hpp"

namespace troupe::master {

using accept_atom = caf::atom_constant<caf::atom("accept")>;
using decline_atom = caf::atom_constant<caf::atom("decline")>;
using rescind_atom = caf::atom_constant<caf::atom("rescind")>;
using offer_expired_atom = caf::atom_constant<caf::atom("offerexp")>;

/// Where an offer actor returns resources: the allocator (any handle with this message).
using resource_sink_actor = caf::typed_actor<caf::reacts_to<allocator::recovered_resources>>;

/// Who learns that an offer expired: the master, which tells the framework (Rescind).
using offer_owner_actor = caf::typed_actor<
  /// Offer actor -> master: the offer timed out; its resources are back at the allocator.
  caf::reacts_to<offer_expired_atom, v1::OfferID>>;

using offer_actor = caf::typed_actor<
  /// Master -> offer: the framework accepts. Answers with the offer (its resources now belong to
  /// the master, which launches and recovers the unused part) and ends. An offer that already
  /// ended cannot answer: the request fails, and the master drops the tasks (TASK_DROPPED).
  caf::replies_to<accept_atom>::with<v1::Offer>,
  /// Master -> offer: the framework declines; the resources go back with a filter of `refuse`
  /// (0 = none) and the offer ends.
  caf::reacts_to<decline_atom, caf::timespan>,
  /// Master -> offer: rescinded (agent lost, framework gone, operator, suppress); the resources
  /// go back without a filter and the offer ends. `reason` is for the log.
  caf::reacts_to<rescind_atom, std::string>>;

struct offer_config {
  caf::timespan timeout = std::chrono::seconds{30}; ///< expire after this long (0 = never)
  /// The term's offers supervisor: each offer links itself to it on start, so the supervisor's
  /// end (its term's end, or a crash) ends every offer — and each gives its resources back
  /// once. Unset: the offer lives on its own (tests, a master without a term).
  caf::actor supervisor;
};

/// Spawns the offer actor for `offer` (made for `role`). `owner` hears about expiry.
offer_actor spawn_offer(caf::actor_system& sys, v1::Offer offer, std::string role,
                        resources res, resource_sink_actor allocator, offer_owner_actor owner,
                        offer_config cfg);

} // namespace troupe::master
