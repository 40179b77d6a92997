// A framework's scheduler as the master sees it: a wire contract between nodes. The master
// sends every event in one envelope, the same one the HTTP API streams.
#pragma once

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "troupe/messages/proto.hpp"

namespace troupe::protocols {

using scheduler_actor = caf::typed_actor<
  /// Master -> scheduler: subscribed, offers, rescind, update, message, failure, error,
  /// heartbeat. Updates with a uuid must be acknowledged (the SDK does it).
  caf::reacts_to<v1::scheduler::Event>>;

} // namespace troupe::protocols
