// Whom to answer: the sender CAF names, or the address a peer declared in its message.
//
// CAF 0.17.6's BASP broker names a connection by its socket descriptor and cleans up a closed
// connection only later, through its worker queue. When a new connection is accepted on the
// same descriptor before that cleanup ran (a server with many short-lived peers: an agent with
// its executors, a master with CLI clients), the new connection inherits the routing entry of
// the dead peer, and loses it when the cleanup runs: its messages arrive with the dead peer's
// proxy as sender, or with none. Replies to such a sender go nowhere. Peers that open a session
// therefore name their own handle in the message (CAF serializes it as node + actor ID, so it
// resolves to a proxy routed over the right connection), and the receiver answers that.
#pragma once

#include <caf/actor.hpp>
#include <caf/actor_control_block.hpp>

namespace troupe::runtime {

/// The address to answer a message whose sender is `sender` and which declares `declared`.
/// The sender wins when it is on the declared node (it may be a simulated-network proxy
/// standing for the declared actor), or when nothing is declared; otherwise the declared
/// handle (the sender is missing or misattributed to another node). May return null.
caf::actor reply_address(const caf::strong_actor_ptr& sender, const caf::actor& declared);

} // namespace troupe::runtime
