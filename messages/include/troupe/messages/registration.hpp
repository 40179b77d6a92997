// Registers every troupe message type with a CAF actor system config. Every process and every
// test calls this (through runtime's base config), so all nodes agree on the types.
#pragma once

#include <caf/fwd.hpp>

namespace troupe {

/// Adds all types of the troupe_messages type-id block (and vectors of them) to `cfg`.
void add_message_types(caf::actor_system_config& cfg);

} // namespace troupe
