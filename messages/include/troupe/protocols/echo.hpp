// The echo protocol: a diagnostic peer that troupe-demo serves and the wire tests talk to
// across real processes. It exercises the three shapes every cross-node protocol uses:
// typed request/response, one-way with a reply sent back to the current sender, and
// arbitrary messages reflected unchanged.
#pragma once

#include <cstdint>

#include <caf/atom.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "troupe/messages/proto.hpp"

namespace troupe::protocols {

/// (echo_stats_atom) -> (one-way updates received, undecodable messages received).
using echo_stats_atom = caf::atom_constant<caf::atom("echostats")>;

using echo_actor = caf::typed_actor<
  /// Any node -> echo: liveness probe, answered with a Pong of the same seq. Idempotent.
  caf::replies_to<v1::Ping>::with<v1::Pong>,
  /// Any node -> echo, one-way: the echo answers with a StatusUpdateAcknowledgement of the
  /// update, sent as a message of its own to the current sender. Counted, not idempotent.
  caf::reacts_to<v1::StatusUpdate>,
  /// Any node -> echo: counters, see echo_stats_atom.
  caf::replies_to<echo_stats_atom>::with<uint64_t, uint64_t>>;

/// What an echo sends back to the sender of a one-way StatusUpdate.
using echo_client_actor = caf::typed_actor<
  /// Echo -> sender of a StatusUpdate: the update was received. Idempotent.
  caf::reacts_to<v1::StatusUpdateAcknowledgement>>;

// Any other registered troupe message sent to an echo (through a dynamically typed handle)
// comes back unchanged. A message that arrives empty (CAF 0.17 delivers an empty message when
// the bytes on the wire do not decode) is counted as undecodable and dropped.

} // namespace troupe::protocols
