// Dominant Resource Fairness ordering of clients (child roles of one role, or the frameworks of
// one role).
//
// A client's share of a resource is what it holds over the cluster total; its dominant share is
// the largest of those; weighted share = dominant share / weight. Active clients are kept in an
// ordered set keyed by (weighted share, name): an update is O(log n), walking the order never
// re-sorts, and inactive clients (frameworks that want no offers, roles with no such
// frameworks) are not walked at all while their allocations still count. Ties break by name:
// deterministic.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "troupe/allocator/quantities.hpp"

namespace troupe::allocator {

class drf_sorter {
  struct client {
    const std::string* name = nullptr; // the key in clients_ (stable: node-based container)
    double weight = 1.0;
    double share = 0.0;
    uintptr_t tag = 0;
    bool active = true;
    quantities held;
  };

public:
  /// A client's handle: valid until the client is removed (saves the name lookup on hot paths).
  using handle = client*;

  /// The handle of a client, or nullptr.
  handle find(const std::string& client);

  /// Sets the cluster total the shares are computed against; re-ranks every client.
  void set_total(const quantities& total);

  /// Adds a client with `weight` (> 0, else std::invalid_argument) and a caller's `tag`
  /// handed back by find_first. Adding an existing client updates weight and tag. New clients
  /// are active.
  void add(const std::string& client, double weight = 1.0, uintptr_t tag = 0);

  /// Removes a client and forgets its allocation.
  void remove(const std::string& client);

  /// Changes a client's weight (> 0). No-op for unknown clients.
  void set_weight(const std::string& client, double weight);

  /// Active clients are walked by find_first and sorted(); inactive ones keep their share.
  void set_active(const std::string& client, bool active);

  /// Records that `client` now also holds `q`.
  void allocate(const std::string& client, const quantities& q);

  /// Records that `client` gave `q` back (amounts never drop below zero).
  void unallocate(const std::string& client, const quantities& q);

  /// The same through a handle (nullptr: no-op).
  void allocate(handle client, const quantities& q);
  void unallocate(handle client, const quantities& q);

  bool contains(const std::string& client) const {
    return clients_.count(client) > 0;
  }

  /// The client's weighted dominant share (0 for unknown clients).
  double share(const std::string& client) const;

  /// What the client holds.
  const quantities& allocation(const std::string& client) const;

  /// Active clients in fairness order: lowest weighted share first, ties by name.
  std::vector<std::string> sorted() const;

  /// The first active client in fairness order for which `pred(name, tag)` holds, or nullptr.
  /// `pred` must not change this sorter.
  template <class Predicate>
  const std::string* find_first(Predicate&& pred) const {
    for (const auto& entry : order_)
      if (pred(*entry.name, entry.tag))
        return entry.name;
    return nullptr;
  }

  size_t size() const {
    return clients_.size();
  }

  /// Active clients.
  size_t active() const {
    return order_.size();
  }

private:
  struct entry {
    double share;
    const std::string* name; // the key of clients_ (stable: node-based container)
    uintptr_t tag;
    bool operator<(const entry& other) const {
      if (share != other.share)
        return share < other.share;
      return *name < *other.name;
    }
  };

  double compute_share(const client& c) const;
  void reorder(client& c);

  std::unordered_map<std::string, client> clients_;
  std::set<entry> order_;
  std::vector<double> totals_; // by name id, as doubles
};

} // namespace troupe::allocator
