// The role hierarchy of hierarchical DRF.
//
// Roles are '/'-separated paths ("eng/web" is a child of "eng"); each role is a node whose
// `sorter` orders its child roles — and, under the name ".", the frameworks subscribed to the
// role itself — by weighted dominant share of everything allocated in their subtrees. Its
// `frameworks` sorter orders those frameworks. A role's weight divides its share among its
// siblings; its quota limit caps what its whole subtree may hold. Nodes exist while a framework
// is subscribed to them or something is allocated in them (weights and limits are remembered
// apart, so a role that comes back gets them again).
//
// Only subtrees with frameworks that want offers (active, subscribed, not suppressed) are active
// in their parent's sorter, so an allocation pass walks nothing else.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "troupe/allocator/drf_sorter.hpp"
#include "troupe/allocator/quantities.hpp"

namespace troupe::allocator {

/// A quota limit: (name id, millis) for each limited scalar; names not listed are unlimited.
using limit_list = std::vector<std::pair<size_t, int64_t>>;

struct role_node {
  std::string name;              ///< the full role name; "" for the root
  role_node* parent = nullptr;   ///< nullptr for the root
  size_t children = 0;           ///< child roles
  drf_sorter sorter;             ///< child roles (tag: role_node*) and "." (tag: this)
  drf_sorter frameworks;         ///< frameworks subscribed to this role (tag: framework slot)
  quantities allocated;          ///< everything allocated in the subtree
  size_t wanting = 0;            ///< (framework, role) pairs wanting offers in the subtree
  size_t own_wanting = 0;        ///< ... of this role itself
  size_t subscribed = 0;         ///< frameworks subscribed to this role itself
  size_t slots = 0;              ///< agent allocations held in this role (kept by the caller)
  double weight = 1.0;           ///< among its siblings
  std::optional<limit_list> limit; ///< quota limit of the subtree
  bool limited_path = false;     ///< this role or an ancestor has a limit
  drf_sorter::handle self_handle = nullptr; ///< "." in `sorter`
  drf_sorter::handle in_parent = nullptr;   ///< this role in its parent's sorter
};

/// The key of a role's own frameworks in its sorter ("." is not a valid role name).
inline const std::string self_client = ".";

class role_tree {
public:
  role_tree();

  /// The node of `role`, created with its ancestors if missing.
  role_node& get(const std::string& role);

  /// The node of `role`, or nullptr.
  role_node* find(const std::string& role) const;

  role_node& root() {
    return *root_;
  }

  /// New cluster total: every share changes.
  void set_total(const quantities& total);

  /// `q` is now allocated to a framework of `node` (or taken back).
  void charge(role_node& node, const quantities& q);
  void uncharge(role_node& node, const quantities& q);

  /// One more (+1) or one fewer (-1) framework of `node` wants offers.
  void add_wanting(role_node& node, int delta);

  /// Sets a weight (> 0) that stays across the role's comings and goings.
  void set_weight(const std::string& role, double weight);
  double weight(const std::string& role) const;

  /// Sets (or, with nullopt, removes) the quota limit of a role's subtree.
  void set_limit(const std::string& role, std::optional<limit_list> limit);
  const std::map<std::string, limit_list>& limits() const {
    return limits_;
  }
  const std::map<std::string, double>& weights() const {
    return weights_;
  }

  /// Removes `node` and then its ancestors while they hold nothing and nobody uses them.
  void prune(role_node* node);

  /// Headroom under every limit on the path from `node` up: per limited name id, the least
  /// limit − allocated (never negative); unlimited names are absent (`limited[id]` false).
  void headroom(const role_node& node, quantities& room, std::vector<bool>& limited) const;

private:
  void refresh_limited_path(role_node& node);

  std::unordered_map<std::string, std::unique_ptr<role_node>> nodes_;
  role_node* root_;
  quantities total_;
  std::map<std::string, double> weights_;
  std::map<std::string, limit_list> limits_;
};

} // namespace troupe::allocator
