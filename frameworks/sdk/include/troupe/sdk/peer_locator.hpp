// How a driver reaches its peer (the master for a scheduler, the agent for an executor): an
// in-process handle (troupe local, simulation, tests), host:port through the transport's
// connector actor (another process), or — for the master under HA — whatever a leader
// connector (runtime/election/leader_connector.hpp) names, as it names it.
#pragma once

#include <caf/actor.hpp>

#include "troupe/runtime/transport.hpp"

namespace troupe::sdk {

struct peer_locator {
  caf::actor local;          ///< when set, used as is
  runtime::endpoint remote;  ///< otherwise connect here ...
  caf::actor connector;      ///< ... through this runtime::transport connector
  bool follow_leader = false; ///< neither: wait for (leader_atom, actor, MasterInfo) messages
};

} // namespace troupe::sdk
