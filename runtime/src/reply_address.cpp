#include "troupe/runtime/reply_address.hpp"

#include <caf/actor_cast.hpp>
#include <caf/node_id.hpp>

namespace troupe::runtime {

caf::actor reply_address(const caf::strong_actor_ptr& sender, const caf::actor& declared) {
  if (!declared)
    return caf::actor_cast<caf::actor>(sender);
  if (sender && sender->node() == declared.node())
    return caf::actor_cast<caf::actor>(sender);
  return declared;
}

} // namespace troupe::runtime
