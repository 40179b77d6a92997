#include "troupe/allocator/drf_sorter.hpp"

#include <algorithm>
#include <stdexcept>

namespace troupe::allocator {

void drf_sorter::set_total(const quantities& total) {
  totals_.assign(total.size(), 0.0);
  for (size_t i = 0; i < total.size(); ++i)
    totals_[i] = static_cast<double>(total.get(i));
  for (auto& [name, c] : clients_)
    reorder(c);
}

void drf_sorter::add(const std::string& name, double weight, uintptr_t tag) {
  if (!(weight > 0))
    throw std::invalid_argument("drf_sorter: weight of " + name + " must be > 0");
  auto [i, added] = clients_.try_emplace(name);
  auto& c = i->second;
  c.name = &i->first;
  if (!added && c.active)
    order_.erase({c.share, &i->first, c.tag});
  c.weight = weight;
  c.tag = tag;
  c.share = compute_share(c);
  if (c.active)
    order_.insert({c.share, &i->first, c.tag});
}

void drf_sorter::remove(const std::string& name) {
  auto i = clients_.find(name);
  if (i == clients_.end())
    return;
  if (i->second.active)
    order_.erase({i->second.share, &i->first, i->second.tag});
  clients_.erase(i);
}

void drf_sorter::set_weight(const std::string& name, double weight) {
  if (!(weight > 0))
    throw std::invalid_argument("drf_sorter: weight of " + name + " must be > 0");
  auto i = clients_.find(name);
  if (i == clients_.end())
    return;
  i->second.weight = weight;
  reorder(i->second);
}

void drf_sorter::set_active(const std::string& name, bool active) {
  auto i = clients_.find(name);
  if (i == clients_.end() || i->second.active == active)
    return;
  auto& c = i->second;
  c.active = active;
  if (active)
    order_.insert({c.share, &i->first, c.tag});
  else
    order_.erase({c.share, &i->first, c.tag});
}

drf_sorter::handle drf_sorter::find(const std::string& name) {
  auto i = clients_.find(name);
  return i == clients_.end() ? nullptr : &i->second;
}

void drf_sorter::allocate(const std::string& name, const quantities& q) {
  allocate(find(name), q);
}

void drf_sorter::unallocate(const std::string& name, const quantities& q) {
  unallocate(find(name), q);
}

void drf_sorter::allocate(handle c, const quantities& q) {
  if (c == nullptr)
    return;
  c->held += q;
  reorder(*c);
}

void drf_sorter::unallocate(handle c, const quantities& q) {
  if (c == nullptr)
    return;
  c->held -= q;
  reorder(*c);
}

double drf_sorter::share(const std::string& name) const {
  auto i = clients_.find(name);
  return i == clients_.end() ? 0.0 : i->second.share;
}

const quantities& drf_sorter::allocation(const std::string& name) const {
  static const quantities none;
  auto i = clients_.find(name);
  return i == clients_.end() ? none : i->second.held;
}

std::vector<std::string> drf_sorter::sorted() const {
  std::vector<std::string> result;
  result.reserve(order_.size());
  for (const auto& e : order_)
    result.push_back(*e.name);
  return result;
}

double drf_sorter::compute_share(const client& c) const {
  double dominant = 0.0;
  auto n = std::min(totals_.size(), c.held.size());
  for (size_t i = 0; i < n; ++i)
    if (totals_[i] > 0)
      dominant = std::max(dominant, static_cast<double>(c.held.get(i)) / totals_[i]);
  return dominant / c.weight;
}

void drf_sorter::reorder(client& c) {
  auto share = compute_share(c);
  if (share == c.share)
    return;
  if (c.active) { // move the node: no allocation on this hot path
    auto node = order_.extract({c.share, c.name, c.tag});
    node.value().share = share;
    order_.insert(std::move(node));
  }
  c.share = share;
}

} // namespace troupe::allocator
