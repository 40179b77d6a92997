// Scalar amounts by resource name, the currency of fairness and quota.
//
// Shares and quota limits compare amounts, never reservations or ranges, so the allocator keeps
// them as a flat vector of fixed-point amounts (millis, like `resources`) indexed by a small
// per-allocator name table. Adding, subtracting and comparing touch a handful of integers and
// allocate nothing once sized — the sorters update them on every offer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <array>
#include <vector>

#include "troupe/messages/resources.hpp"

namespace troupe::allocator {

/// Scalar amounts (× 1000) indexed by name id; missing trailing ids are zero.
class quantities {
public:
  quantities() = default;

  int64_t get(size_t id) const {
    if (id >= size_)
      return 0;
    return id < inline_size ? inline_[id] : overflow_[id - inline_size];
  }

  void set(size_t id, int64_t millis);

  quantities& operator+=(const quantities& other);

  /// Subtracts, never going below zero.
  quantities& operator-=(const quantities& other);

  /// True when every amount here is at least the one in `other`.
  bool contains(const quantities& other) const;

  /// True when every amount is zero.
  bool empty() const;

  /// One past the highest id that may be non-zero.
  size_t size() const {
    return size_;
  }

  friend bool operator==(const quantities& x, const quantities& y);

private:
  static constexpr size_t inline_size = 8; // names beyond the first 8 allocate

  int64_t& at(size_t id) {
    return id < inline_size ? inline_[id] : overflow_[id - inline_size];
  }
  void grow(size_t size);

  std::array<int64_t, inline_size> inline_{};
  std::vector<int64_t> overflow_;
  size_t size_ = 0;
};

/// Interns scalar resource names (a handful per cluster) to dense ids.
class name_table {
public:
  /// The id of `name`, added if new.
  size_t intern(std::string_view name);

  /// The id of `name`, or size() when unknown.
  size_t find(std::string_view name) const;

  const std::string& name(size_t id) const {
    return names_[id];
  }

  size_t size() const {
    return names_.size();
  }

  /// The scalar amounts of `res` over all reservations; ranges and sets are not amounts.
  quantities of(const resources& res);

  /// `q` in the flag syntax ("cpus:2;mem:1024"), names in id order.
  std::string to_string(const quantities& q) const;

private:
  std::vector<std::string> names_;
};

} // namespace troupe::allocator
