#include "troupe/messages/resources.hpp"

#include <cmath>
#include <stdexcept>
#include <tuple>

#include "resources/checks.hpp"
#include "troupe/messages/errc.hpp"

namespace troupe {

// -- reservation and key -----------------------------------------------------------------

bool operator==(const reservation& x, const reservation& y) {
  return std::tie(x.type, x.role, x.principal, x.labels)
         == std::tie(y.type, y.role, y.principal, y.labels);
}

bool operator<(const reservation& x, const reservation& y) {
  return std::tie(x.type, x.role, x.principal, x.labels)
         < std::tie(y.type, y.role, y.principal, y.labels);
}

const std::string& resource_key::role() const {
  static const std::string unreserved = "*";
  return reservations.empty() ? unreserved : reservations.back().role;
}

bool operator==(const resource_key& x, const resource_key& y) {
  return x.name == y.name && x.reservations == y.reservations;
}

bool operator<(const resource_key& x, const resource_key& y) {
  return std::tie(x.name, x.reservations) < std::tie(y.name, y.reservations);
}

bool resource_value::empty() const {
  switch (kind) {
    case resource_kind::scalar: return millis == 0;
    case resource_kind::ranges: return ranges.empty();
    case resource_kind::set: return items.empty();
  }
  return true;
}

bool operator==(const resource_value& x, const resource_value& y) {
  if (x.kind != y.kind)
    return false;
  switch (x.kind) {
    case resource_kind::scalar: return x.millis == y.millis;
    case resource_kind::ranges: return x.ranges == y.ranges;
    case resource_kind::set: return x.items == y.items;
  }
  return false;
}

namespace {

resource_key key_for(std::string name, std::string role) {
  if (auto err = validate_role(role))
    throw std::invalid_argument(error_message(err));
  resource_key key{std::move(name), {}};
  if (role != "*")
    key.reservations.push_back({v1::ReservationInfo::STATIC, std::move(role), {}, {}});
  return key;
}

// x += y for values of the same kind.
void add_value(resource_value& x, const resource_value& y) {
  switch (x.kind) {
    case resource_kind::scalar: x.millis += y.millis; break;
    case resource_kind::ranges: x.ranges.add(y.ranges); break;
    case resource_kind::set: x.items.insert(y.items.begin(), y.items.end()); break;
  }
}

// x -= y, saturating at empty.
void subtract_value(resource_value& x, const resource_value& y) {
  switch (x.kind) {
    case resource_kind::scalar: x.millis = x.millis > y.millis ? x.millis - y.millis : 0; break;
    case resource_kind::ranges: x.ranges.subtract(y.ranges); break;
    case resource_kind::set:
      for (const auto& item : y.items)
        x.items.erase(item);
      break;
  }
}

bool value_contains(const resource_value& x, const resource_value& y) {
  if (x.kind != y.kind)
    return y.empty();
  switch (x.kind) {
    case resource_kind::scalar: return x.millis >= y.millis;
    case resource_kind::ranges: return x.ranges.contains(y.ranges);
    case resource_kind::set:
      for (const auto& item : y.items)
        if (x.items.count(item) == 0)
          return false;
      return true;
  }
  return false;
}

// True when `role` equals `ancestor` or lies below it ("eng/web" under "eng").
bool is_same_or_below(std::string_view role, std::string_view ancestor) {
  if (role == ancestor)
    return true;
  return role.size() > ancestor.size() && role.substr(0, ancestor.size()) == ancestor
         && role[ancestor.size()] == '/';
}

} // namespace

// -- building ----------------------------------------------------------------------------

resources& resources::add(const resource_key& key, const resource_value& value) {
  if (value.empty())
    return *this;
  auto i = entries_.find(key);
  if (i == entries_.end()) {
    entries_.emplace(key, value);
    return *this;
  }
  if (i->second.kind != value.kind)
    throw std::invalid_argument("resource '" + key.name + "' added with two different kinds");
  add_value(i->second, value);
  return *this;
}

resources& resources::add_scalar(std::string name, double amount, std::string role) {
  if (auto problem = detail::scalar_problem(name, amount))
    throw std::invalid_argument("add_scalar(" + name + "): " + *problem);
  resource_value v;
  v.kind = resource_kind::scalar;
  v.millis = std::llround(amount * 1000.0);
  return add(key_for(std::move(name), std::move(role)), v);
}

resources& resources::add_ranges(std::string name, const value_ranges& values,
                                 std::string role) {
  resource_value v;
  v.kind = resource_kind::ranges;
  v.ranges = values;
  return add(key_for(std::move(name), std::move(role)), v);
}

resources& resources::add_set(std::string name, std::set<std::string> items, std::string role) {
  resource_value v;
  v.kind = resource_kind::set;
  v.items = std::move(items);
  return add(key_for(std::move(name), std::move(role)), v);
}

// -- arithmetic --------------------------------------------------------------------------

resources& resources::operator+=(const resources& other) {
  for (const auto& [key, value] : other.entries_)
    add(key, value);
  return *this;
}

resources& resources::operator-=(const resources& other) {
  for (const auto& [key, value] : other.entries_) {
    auto i = entries_.find(key);
    if (i == entries_.end() || i->second.kind != value.kind)
      continue;
    subtract_value(i->second, value);
    if (i->second.empty())
      entries_.erase(i);
  }
  return *this;
}

bool resources::contains(const resources& other) const {
  for (const auto& [key, value] : other.entries_) {
    auto i = entries_.find(key);
    if (i == entries_.end() ? !value.empty() : !value_contains(i->second, value))
      return false;
  }
  return true;
}

// -- queries and views -------------------------------------------------------------------

double resources::scalar(std::string_view name) const {
  int64_t total = 0;
  for (const auto& [key, value] : entries_)
    if (key.name == name && value.kind == resource_kind::scalar)
      total += value.millis;
  return static_cast<double>(total) / 1000.0;
}

value_ranges resources::ranges(std::string_view name) const {
  value_ranges total;
  for (const auto& [key, value] : entries_)
    if (key.name == name && value.kind == resource_kind::ranges)
      total.add(value.ranges);
  return total;
}

resources resources::unreserved() const {
  resources result;
  for (const auto& [key, value] : entries_)
    if (key.reservations.empty())
      result.entries_.emplace(key, value);
  return result;
}

resources resources::reserved(std::string_view role) const {
  resources result;
  for (const auto& [key, value] : entries_)
    if (!key.reservations.empty() && key.role() == role)
      result.entries_.emplace(key, value);
  return result;
}

resources resources::reserved() const {
  resources result;
  for (const auto& [key, value] : entries_)
    if (!key.reservations.empty())
      result.entries_.emplace(key, value);
  return result;
}

resources resources::allocatable_to(std::string_view role) const {
  resources result;
  for (const auto& [key, value] : entries_)
    if (key.reservations.empty() || is_same_or_below(role, key.role()))
      result.entries_.emplace(key, value);
  return result;
}

std::set<std::string> resources::roles() const {
  std::set<std::string> result;
  for (const auto& [key, value] : entries_)
    if (!key.reservations.empty())
      result.insert(key.role());
  return result;
}

resources resources::flatten() const {
  resources result;
  for (const auto& [key, value] : entries_)
    result.add(resource_key{key.name, {}}, value);
  return result;
}

} // namespace troupe
