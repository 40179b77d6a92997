// The simulated ZooKeeper's messages between clients and the server (all through the
// simulated network; every request is answered with zkreply to its sender).
//
//   client -> server  (zkconnect, session | 0, timeout, node) -> (zksession, session, ok): 0 opens a
//                     new session; a known live one is resumed (ok), an expired one is not
//                     (ok = false)
//                     (zkcreate, session, xid, parent, prefix, data)   ephemeral sequential
//                     (zkchildren, session, xid, parent)
//                     (zkexists, session, xid, path)                   with a deletion watch
//                     (zkping, session, xid)
//                     -> (zkreply, xid, alive, created, children, exists)
//                     (zkclose, session)                               no answer
//   server -> client  (zkwatch, path): a watched znode was deleted
#pragma once

#include <caf/atom.hpp>

namespace troupe::sim {

using zkconnect_atom = caf::atom_constant<caf::atom("zkconnect")>;
using zksession_atom = caf::atom_constant<caf::atom("zksession")>;
using zkcreate_atom = caf::atom_constant<caf::atom("zkcreate")>;
using zkchildren_atom = caf::atom_constant<caf::atom("zkchildren")>;
using zkexists_atom = caf::atom_constant<caf::atom("zkexists")>;
using zkping_atom = caf::atom_constant<caf::atom("zkping")>;
using zkreply_atom = caf::atom_constant<caf::atom("zkreply")>;
using zkclose_atom = caf::atom_constant<caf::atom("zkclose")>;
using zkwatch_atom = caf::atom_constant<caf::atom("zkwatch")>;

} // namespace troupe::sim
