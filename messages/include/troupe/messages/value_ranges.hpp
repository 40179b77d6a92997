// Sets of unsigned integers stored as sorted, disjoint, non-adjacent inclusive ranges (ports).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace troupe {

/// One inclusive range [begin, end].
struct value_range {
  uint64_t begin = 0; ///< first value
  uint64_t end = 0;   ///< last value (inclusive), >= begin
};

/// Equal bounds.
bool operator==(const value_range& x, const value_range& y);

/// A set of integers kept as merged ranges. All operations keep the invariant: ranges sorted by
/// begin, disjoint and not adjacent (so equal sets have equal representations).
class value_ranges {
public:
  value_ranges() = default;

  /// Builds the union of `rs` (which may be unsorted, overlapping or adjacent). A range with
  /// begin > end throws std::invalid_argument (parsers reject those with an error first).
  static value_ranges merged(std::vector<value_range> rs);

  /// Adds every value of `r` (begin > end throws std::invalid_argument).
  void add(value_range r);

  /// Adds every value of `other`.
  void add(const value_ranges& other);

  /// Removes every value of `other` that is in this set, splitting ranges as needed.
  void subtract(const value_ranges& other);

  /// True when every value of `other` is in this set.
  bool contains(const value_ranges& other) const;

  /// True when `v` is in this set.
  bool contains(uint64_t v) const;

  /// The number of values (saturates at UINT64_MAX).
  uint64_t count() const;

  /// True when the set is empty.
  bool empty() const {
    return ranges_.empty();
  }

  /// The ranges, sorted and disjoint.
  const std::vector<value_range>& ranges() const {
    return ranges_;
  }

  /// "[31000-32000,33000-33100]"; a single value prints as "80-80".
  std::string to_string() const;

  friend bool operator==(const value_ranges& x, const value_ranges& y) {
    return x.ranges_ == y.ranges_;
  }
  friend bool operator!=(const value_ranges& x, const value_ranges& y) {
    return !(x == y);
  }

private:
  std::vector<value_range> ranges_;
};

} // namespace troupe
