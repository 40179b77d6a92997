#include "troupe/allocator/drf_sorter.hpp"

#include <algorithm>
#include <stdexcept>

namespace troupe::allocator {

void drf_sorter::set_total(const resources& total) {
  totals_.clear();
  auto flat = total.flatten();
  for (const auto& [key, value] : flat.entries())
    if (value.kind == resource_kind::scalar)
      totals_[key.name] = static_cast<double>(value.millis) / 1000.0;
  for (auto& [name, c] : clients_)
    reorder(name, c);
}

void drf_sorter::add(const std::string& name, double weight) {
  if (!(weight > 0))
    throw std::invalid_argument("drf_sorter: weight of " + name + " must be > 0");
  auto [i, added] = clients_.emplace(name, client{});
  i->second.weight = weight;
  if (added)
    order_.emplace(0.0, name);
  reorder(name, i->second);
}

void drf_sorter::remove(const std::string& name) {
  auto i = clients_.find(name);
  if (i == clients_.end())
    return;
  order_.erase({i->second.share, name});
  clients_.erase(i);
}

void drf_sorter::set_weight(const std::string& name, double weight) {
  add(name, weight);
}

void drf_sorter::allocate(const std::string& name, const resources& res) {
  auto i = clients_.find(name);
  if (i == clients_.end())
    return;
  i->second.held += res.flatten();
  reorder(name, i->second);
}

void drf_sorter::unallocate(const std::string& name, const resources& res) {
  auto i = clients_.find(name);
  if (i == clients_.end())
    return;
  i->second.held -= res.flatten();
  reorder(name, i->second);
}

double drf_sorter::share(const std::string& name) const {
  auto i = clients_.find(name);
  return i == clients_.end() ? 0.0 : i->second.share;
}

const resources& drf_sorter::allocation(const std::string& name) const {
  static const resources none;
  auto i = clients_.find(name);
  return i == clients_.end() ? none : i->second.held;
}

std::vector<std::string> drf_sorter::sorted() const {
  std::vector<std::string> result;
  result.reserve(order_.size());
  for (const auto& entry : order_)
    result.push_back(entry.second);
  return result;
}

double drf_sorter::compute_share(const client& c) const {
  double dominant = 0.0;
  for (const auto& [name, total] : totals_)
    if (total > 0)
      dominant = std::max(dominant, c.held.scalar(name) / total);
  return dominant / c.weight;
}

void drf_sorter::reorder(const std::string& name, client& c) {
  order_.erase({c.share, name});
  c.share = compute_share(c);
  order_.emplace(c.share, name);
}

} // namespace troupe::allocator
