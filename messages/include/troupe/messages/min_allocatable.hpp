// Minimum allocatable resources: the smallest bags worth offering (Mesos'
// --min_allocatable_resources), as alternatives.
#pragma once

#include <string_view>
#include <vector>

#include <caf/expected.hpp>

#include "troupe/messages/resources.hpp"

namespace troupe {

/// Alternatives of minimum allocatable resources: a bag is allocatable when it contains (after
/// flattening) at least one alternative. Parsed from "cpus:0.01|mem:32" (the default).
class min_allocatable {
public:
  /// The default alternatives: cpus:0.01 or mem:32.
  min_allocatable();

  /// Parses alternatives separated by '|', each in the flag syntax. Errors name the part.
  static caf::expected<min_allocatable> parse(std::string_view text);

  /// True when `r` holds enough of at least one alternative to be worth offering.
  bool allows(const resources& r) const;

  /// The alternatives, in the order given.
  const std::vector<resources>& alternatives() const {
    return alternatives_;
  }

private:
  std::vector<resources> alternatives_;
};

} // namespace troupe
