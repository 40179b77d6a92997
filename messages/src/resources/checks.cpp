#include "resources/checks.hpp"

#include <cmath>

namespace troupe::detail {

std::optional<std::string> scalar_problem(std::string_view name, double amount) {
  if (std::isnan(amount))
    return "amount is NaN";
  if (std::isinf(amount) || amount > max_scalar)
    return "amount is infinite or too large";
  if (amount < 0)
    return "amount is negative";
  if (name == "gpus" && amount != std::floor(amount))
    return "gpus must be a whole number";
  if (amount > 0 && std::llround(amount * 1000.0) == 0)
    return "amount is below the precision of 0.001";
  return std::nullopt;
}

bool overlaps_existing(const resources& bag, std::string_view name, const value_ranges& ranges) {
  auto existing = bag.ranges(name);
  auto without = existing;
  without.subtract(ranges);
  return without != existing;
}

} // namespace troupe::detail
