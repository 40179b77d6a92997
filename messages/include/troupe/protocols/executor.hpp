// An executor as its agent sees it: a wire contract between the agent and the executor
// process (or, in simulation, an in-process executor actor).
#pragma once

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "troupe/messages/proto.hpp"

namespace troupe::protocols {

using executor_actor = caf::typed_actor<
  /// Agent -> executor: subscribed, launch, kill, acknowledged, message, shutdown, error.
  caf::reacts_to<v1::executor::Event>>;

} // namespace troupe::protocols
