// Dominant Resource Fairness ordering of clients (roles, or frameworks within a role).
//
// A client's share of a resource is what it holds over the cluster total; its dominant share is
// the largest of those over the scalar resources; weighted share = dominant share / weight.
// Clients are kept in an ordered set keyed by (weighted share, name), so an allocation update is
// O(log n) and iterating in fairness order never re-sorts. Ties break by name: deterministic.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "troupe/messages/resources.hpp"

namespace troupe::allocator {

class drf_sorter {
public:
  /// Sets the cluster total the shares are computed against (reserved amounts included).
  void set_total(const resources& total);

  /// Adds a client with `weight` (> 0). Adding an existing client only updates its weight.
  void add(const std::string& client, double weight = 1.0);

  /// Removes a client and forgets its allocation.
  void remove(const std::string& client);

  /// Changes a client's weight (> 0).
  void set_weight(const std::string& client, double weight);

  /// Records that `client` now also holds `res`.
  void allocate(const std::string& client, const resources& res);

  /// Records that `client` gave `res` back (amounts never drop below zero).
  void unallocate(const std::string& client, const resources& res);

  /// True when the client is known.
  bool contains(const std::string& client) const {
    return clients_.count(client) > 0;
  }

  /// The client's weighted dominant share (0 for unknown clients).
  double share(const std::string& client) const;

  /// What the client holds (flattened scalars and ranges).
  const resources& allocation(const std::string& client) const;

  /// Clients in fairness order: lowest weighted share first, ties by name.
  std::vector<std::string> sorted() const;

  /// The first client in fairness order for which `pred(name)` holds, without copying the
  /// order (a pass asks this once per agent). `pred` must not change the sorter.
  template <class Predicate>
  const std::string* find_first(Predicate&& pred) const {
    for (const auto& entry : order_)
      if (pred(entry.second))
        return &entry.second;
    return nullptr;
  }

  /// The number of clients.
  size_t size() const {
    return clients_.size();
  }

private:
  struct client {
    double weight = 1.0;
    double share = 0.0;
    resources held; // flattened: reservations do not matter for shares
  };

  double compute_share(const client& c) const;
  void reorder(const std::string& name, client& c);

  std::map<std::string, client> clients_;
  std::set<std::pair<double, std::string>> order_;
  std::map<std::string, double> totals_; // scalar totals by resource name
};

} // namespace troupe::allocator
