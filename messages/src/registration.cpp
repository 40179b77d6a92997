#include "troupe/messages/registration.hpp"

#include <caf/actor_system_config.hpp>

#include "troupe/messages/type_ids.hpp"

namespace troupe {

void add_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::troupe_messages>();
}

} // namespace troupe
