#include "troupe/allocator/role_tree.hpp"

#include <algorithm>

namespace troupe::allocator {

namespace {

std::string parent_of(const std::string& role) {
  auto slash = role.rfind('/');
  return slash == std::string::npos ? std::string{} : role.substr(0, slash);
}

} // namespace

role_tree::role_tree() {
  auto root = std::make_unique<role_node>();
  root_ = root.get();
  nodes_.emplace("", std::move(root));
}

role_node& role_tree::get(const std::string& role) {
  if (auto* found = find(role))
    return *found;
  auto& parent = get(parent_of(role));
  auto node = std::make_unique<role_node>();
  auto* n = node.get();
  n->name = role;
  n->parent = &parent;
  n->sorter.set_total(total_);
  n->frameworks.set_total(total_);
  n->sorter.add(self_client, 1.0, reinterpret_cast<uintptr_t>(n));
  n->sorter.set_active(self_client, false);
  n->self_handle = n->sorter.find(self_client);
  if (auto w = weights_.find(role); w != weights_.end())
    n->weight = w->second;
  if (auto l = limits_.find(role); l != limits_.end())
    n->limit = l->second;
  n->limited_path = n->limit.has_value() || parent.limited_path;
  parent.sorter.add(role, n->weight, reinterpret_cast<uintptr_t>(n));
  parent.sorter.set_active(role, false);
  n->in_parent = parent.sorter.find(role);
  ++parent.children;
  nodes_.emplace(role, std::move(node));
  return *n;
}

role_node* role_tree::find(const std::string& role) const {
  auto i = nodes_.find(role);
  return i == nodes_.end() ? nullptr : i->second.get();
}

void role_tree::set_total(const quantities& total) {
  total_ = total;
  for (auto& [name, node] : nodes_) {
    node->sorter.set_total(total);
    node->frameworks.set_total(total);
  }
}

void role_tree::charge(role_node& node, const quantities& q) {
  node.sorter.allocate(node.self_handle, q);
  for (auto* n = &node; n != nullptr; n = n->parent) {
    n->allocated += q;
    if (n->parent != nullptr)
      n->parent->sorter.allocate(n->in_parent, q);
  }
}

void role_tree::uncharge(role_node& node, const quantities& q) {
  node.sorter.unallocate(node.self_handle, q);
  for (auto* n = &node; n != nullptr; n = n->parent) {
    n->allocated -= q;
    if (n->parent != nullptr)
      n->parent->sorter.unallocate(n->in_parent, q);
  }
}

void role_tree::add_wanting(role_node& node, int delta) {
  node.own_wanting += delta;
  node.sorter.set_active(self_client, node.own_wanting > 0);
  for (auto* n = &node; n != nullptr; n = n->parent) {
    n->wanting += delta;
    if (n->parent != nullptr)
      n->parent->sorter.set_active(n->name, n->wanting > 0);
  }
}

void role_tree::set_weight(const std::string& role, double weight) {
  weights_[role] = weight;
  if (auto* n = find(role)) {
    n->weight = weight;
    n->parent->sorter.set_weight(role, weight);
  }
}

double role_tree::weight(const std::string& role) const {
  auto i = weights_.find(role);
  return i == weights_.end() ? 1.0 : i->second;
}

void role_tree::set_limit(const std::string& role, std::optional<limit_list> limit) {
  if (limit)
    limits_[role] = *limit;
  else
    limits_.erase(role);
  if (auto* n = find(role)) {
    n->limit = std::move(limit);
    refresh_limited_path(*n);
  }
}

void role_tree::refresh_limited_path(role_node& node) {
  node.limited_path = node.limit.has_value()
                      || (node.parent != nullptr && node.parent->limited_path);
  if (node.children == 0)
    return;
  for (auto& [name, child] : nodes_)
    if (child->parent == &node)
      refresh_limited_path(*child);
}

void role_tree::prune(role_node* node) {
  while (node != nullptr && node != root_ && node->children == 0 && node->subscribed == 0
         && node->slots == 0
         && node->wanting == 0 && node->allocated.empty()) {
    auto* parent = node->parent;
    parent->sorter.remove(node->name);
    --parent->children;
    nodes_.erase(node->name);
    node = parent;
  }
}

void role_tree::headroom(const role_node& node, quantities& room,
                         std::vector<bool>& limited) const {
  for (auto* n = &node; n != nullptr; n = n->parent) {
    if (!n->limit)
      continue;
    for (auto [id, cap] : *n->limit) {
      auto used = n->allocated.get(id);
      auto left = cap > used ? cap - used : 0;
      if (id >= limited.size())
        limited.resize(id + 1, false);
      if (!limited[id] || left < room.get(id)) {
        room.set(id, left);
        limited[id] = true;
      }
    }
  }
}

} // namespace troupe::allocator
