#include "troupe/messages/value_ranges.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace troupe {

bool operator==(const value_range& x, const value_range& y) {
  return x.begin == y.begin && x.end == y.end;
}

value_ranges value_ranges::merged(std::vector<value_range> rs) {
  for (const auto& r : rs)
    if (r.begin > r.end)
      throw std::invalid_argument("value range " + std::to_string(r.begin) + "-"
                                  + std::to_string(r.end) + " ends before it begins");
  std::sort(rs.begin(), rs.end(),
            [](const value_range& x, const value_range& y) { return x.begin < y.begin; });
  value_ranges result;
  for (const auto& r : rs) {
    auto& out = result.ranges_;
    // Merge when overlapping or adjacent; the end check avoids overflow at UINT64_MAX.
    if (!out.empty() && (out.back().end == std::numeric_limits<uint64_t>::max()
                         || r.begin <= out.back().end + 1))
      out.back().end = std::max(out.back().end, r.end);
    else
      out.push_back(r);
  }
  return result;
}

void value_ranges::add(value_range r) {
  auto all = ranges_;
  all.push_back(r);
  *this = merged(std::move(all));
}

void value_ranges::add(const value_ranges& other) {
  auto all = ranges_;
  all.insert(all.end(), other.ranges_.begin(), other.ranges_.end());
  *this = merged(std::move(all));
}

void value_ranges::subtract(const value_ranges& other) {
  std::vector<value_range> result;
  auto j = other.ranges_.begin();
  for (auto r : ranges_) {
    // Skip removals entirely left of r.
    while (j != other.ranges_.end() && j->end < r.begin)
      ++j;
    auto k = j;
    bool alive = true;
    while (alive && k != other.ranges_.end() && k->begin <= r.end) {
      if (k->begin > r.begin)
        result.push_back({r.begin, k->begin - 1});
      if (k->end >= r.end)
        alive = false;
      else
        r.begin = k->end + 1;
      ++k;
    }
    if (alive)
      result.push_back(r);
  }
  ranges_ = std::move(result);
}

bool value_ranges::contains(const value_ranges& other) const {
  auto i = ranges_.begin();
  for (const auto& r : other.ranges_) {
    while (i != ranges_.end() && i->end < r.begin)
      ++i;
    if (i == ranges_.end() || i->begin > r.begin || i->end < r.end)
      return false;
  }
  return true;
}

bool value_ranges::contains(uint64_t v) const {
  return contains(merged({{v, v}}));
}

uint64_t value_ranges::count() const {
  constexpr auto max = std::numeric_limits<uint64_t>::max();
  uint64_t total = 0;
  for (const auto& r : ranges_) {
    auto n = r.end - r.begin; // one less than the size: avoids overflow for [0, max]
    if (n == max || total > max - n - 1)
      return max;
    total += n + 1;
  }
  return total;
}

std::string value_ranges::to_string() const {
  std::string out = "[";
  for (size_t i = 0; i < ranges_.size(); ++i) {
    if (i > 0)
      out += ',';
    out += std::to_string(ranges_[i].begin) + '-' + std::to_string(ranges_[i].end);
  }
  out += ']';
  return out;
}

} // namespace troupe
