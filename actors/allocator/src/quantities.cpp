#include "troupe/allocator/quantities.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace troupe::allocator {

void quantities::grow(size_t size) {
  if (size <= size_)
    return;
  if (size > inline_size)
    overflow_.resize(size - inline_size, 0);
  size_ = size;
}

void quantities::set(size_t id, int64_t millis) {
  if (id >= size_) {
    if (millis == 0)
      return;
    grow(id + 1);
  }
  at(id) = millis;
}

quantities& quantities::operator+=(const quantities& other) {
  grow(other.size_);
  for (size_t i = 0; i < other.size_; ++i)
    at(i) += other.get(i);
  return *this;
}

quantities& quantities::operator-=(const quantities& other) {
  auto n = std::min(size_, other.size_);
  for (size_t i = 0; i < n; ++i) {
    auto& x = at(i);
    auto y = other.get(i);
    x = x > y ? x - y : 0;
  }
  return *this;
}

bool quantities::contains(const quantities& other) const {
  for (size_t i = 0; i < other.size_; ++i)
    if (get(i) < other.get(i))
      return false;
  return true;
}

bool quantities::empty() const {
  for (size_t i = 0; i < size_; ++i)
    if (get(i) != 0)
      return false;
  return true;
}

bool operator==(const quantities& x, const quantities& y) {
  auto n = std::max(x.size(), y.size());
  for (size_t i = 0; i < n; ++i)
    if (x.get(i) != y.get(i))
      return false;
  return true;
}

size_t name_table::intern(std::string_view name) {
  auto id = find(name);
  if (id == names_.size())
    names_.emplace_back(name);
  return id;
}

size_t name_table::find(std::string_view name) const {
  for (size_t i = 0; i < names_.size(); ++i)
    if (names_[i] == name)
      return i;
  return names_.size();
}

quantities name_table::of(const resources& res) {
  quantities result;
  for (const auto& [key, value] : res.entries())
    if (value.kind == resource_kind::scalar) {
      auto id = intern(key.name);
      result.set(id, result.get(id) + value.millis);
    }
  return result;
}

std::string name_table::to_string(const quantities& q) const {
  std::string out;
  for (size_t i = 0; i < q.size() && i < names_.size(); ++i)
    if (q.get(i) != 0) {
      if (!out.empty())
        out += ';';
      out += fmt::format("{}:{}", names_[i], static_cast<double>(q.get(i)) / 1000.0);
    }
  return out;
}

} // namespace troupe::allocator
