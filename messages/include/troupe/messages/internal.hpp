// Durable records (package troupe.internal): the registry and agent checkpoints. Never sent to
// frameworks. With proto.hpp, the only includer of generated *.pb.h files.
#pragma once

#include "troupe/messages/proto.hpp"

#include "troupe/internal/checkpoint.pb.h"
#include "troupe/internal/registry.pb.h"

namespace troupe::internal {
TROUPE_PB_VALUE_OPERATORS
TROUPE_PB_INSPECT
} // namespace troupe::internal
