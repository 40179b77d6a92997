// How a driver reaches its peer (the master for a scheduler, the agent for an executor): an
// in-process handle (troupe local, simulation, tests) or host:port through the transport's
// connector actor (another process).
#pragma once

#include <caf/actor.hpp>

#include "troupe/runtime/transport.hpp"

namespace troupe::sdk {

struct peer_locator {
  caf::actor local;          ///< when set, used as is
  runtime::endpoint remote;  ///< otherwise connect here ...
  caf::actor connector;      ///< ... through this runtime::transport connector
};

} // namespace troupe::sdk
