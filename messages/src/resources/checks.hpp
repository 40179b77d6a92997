// Checks shared by the flag parser and the protobuf conversion of resources (private header).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "troupe/messages/resources.hpp"

namespace troupe::detail {

/// Largest scalar amount accepted: keeps amount × 1000 far inside int64.
inline constexpr double max_scalar = 1e12;

/// Why `amount` is not a valid amount of resource `name`, or nullopt when it is.
std::optional<std::string> scalar_problem(std::string_view name, double amount);

/// True when `ranges` shares a value with the ranges of `name` already in `bag` (one port
/// cannot be in two entries).
bool overlaps_existing(const resources& bag, std::string_view name, const value_ranges& ranges);

} // namespace troupe::detail
