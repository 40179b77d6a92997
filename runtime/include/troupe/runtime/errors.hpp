// Registers the troupe error category (codes in troupe/messages/errc.hpp) with CAF, so
// `sys.render(err)` prints "troupe::invalid_resources('mem:-5': amount is negative)".
#pragma once

#include <string>

#include <caf/fwd.hpp>

#include "troupe/messages/errc.hpp"

namespace troupe::runtime {

/// Adds the "troupe" error category renderer to `cfg`.
void add_error_category(caf::actor_system_config& cfg);

/// Renders any error without an actor system: troupe errors as "troupe::code(message)",
/// others through caf::to_string.
std::string render(const caf::error& err);

/// An error for people (CLI output, daemon start-up, HTTP error bodies): a troupe error's
/// message alone, common CAF errors in words ("no answer in time"), anything else rendered.
/// render() is for debug logs.
std::string say(const caf::error& err);

} // namespace troupe::runtime
