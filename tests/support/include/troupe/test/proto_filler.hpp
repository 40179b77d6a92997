// Fills any protobuf message with seeded random values through reflection: every singular
// field, one or two elements per repeated field, one member per oneof, nested messages down to
// a depth limit. Used to round-trip every message type without writing a sample per type.
#pragma once

#include <google/protobuf/message.h>

#include "troupe/runtime/random.hpp"

namespace troupe::test {

void fill_message(google::protobuf::Message& msg, runtime::seeded_random& rng, int max_depth = 4);

} // namespace troupe::test
