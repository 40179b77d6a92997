// JSON through protobuf's JSON mapping: one schema for wire and API (DESIGN.md §8).
#pragma once

#include <string>
#include <string_view>

#include <caf/expected.hpp>

#include <google/protobuf/message.h>

namespace troupe {

/// Renders `msg` as compact JSON (proto field names in lowerCamelCase, as the mapping defines).
std::string to_json(const google::protobuf::Message& msg);

/// Parses JSON into `msg`. The error (errc::invalid_message) quotes the parser, which names
/// the offending field. Unknown fields are rejected.
caf::error from_json(std::string_view json, google::protobuf::Message& msg);

} // namespace troupe
