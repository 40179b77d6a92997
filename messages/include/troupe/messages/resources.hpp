// The resources library: a pure value type for agent, offer and task resources.
//
// Vocabulary
//   entry        one (name, reservation) pair with its value: "cpus(web):2"
//   scalar       an amount kept in fixed point with 0.001 precision, so + and − are exact
//   ranges       a set of integers (ports), see value_ranges
//   set          a set of strings
//   role         "*" for unreserved resources, else the role of the innermost reservation
//
// Syntax (agent --resources flag, and to_string()):
//   cpus:4;mem:8192;disk:10000;ports:[31000-32000,33000-33100];cpus(web):2;devs:{a,b}
// JSON: a protobuf Resource array, `[{"name":"cpus","type":"SCALAR","scalar":{"value":4}}]`,
// or the object form `{"resources":[...]}`.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/expected.hpp>

#include "troupe/messages/proto.hpp"
#include "troupe/messages/value_ranges.hpp"

namespace troupe {

/// What kind of value a resource holds.
enum class resource_kind { scalar, ranges, set };

/// One reservation of a resource (static from the agent flag, or dynamic from RESERVE).
struct reservation {
  v1::ReservationInfo::Type type = v1::ReservationInfo::STATIC;
  std::string role;
  std::string principal;
  std::vector<std::pair<std::string, std::string>> labels;
};

bool operator==(const reservation& x, const reservation& y);
bool operator<(const reservation& x, const reservation& y);

/// Identity of an entry: its name and its reservation stack (empty = unreserved).
struct resource_key {
  std::string name;
  std::vector<reservation> reservations;

  /// "*" when unreserved, else the role of the last (innermost) reservation.
  const std::string& role() const;
};

bool operator==(const resource_key& x, const resource_key& y);
bool operator<(const resource_key& x, const resource_key& y);

/// The value of one entry.
struct resource_value {
  resource_kind kind = resource_kind::scalar;
  int64_t millis = 0;          ///< scalar amount × 1000
  value_ranges ranges;         ///< for kind == ranges
  std::set<std::string> items; ///< for kind == set

  /// True when the value holds nothing (0, no ranges, no items).
  bool empty() const;
};

bool operator==(const resource_value& x, const resource_value& y);

/// Which names the parser accepts, and their kinds. Defaults: cpus, mem, disk, gpus (scalar;
/// gpus whole numbers) and ports (ranges). Operators add custom resources here.
struct resource_schema {
  std::map<std::string, resource_kind, std::less<>> kinds = {
    {"cpus", resource_kind::scalar}, {"mem", resource_kind::scalar},
    {"disk", resource_kind::scalar}, {"gpus", resource_kind::scalar},
    {"ports", resource_kind::ranges}};
};

/// A bag of resources. Entries with equal keys are merged; empty entries are dropped, so two
/// bags holding the same resources compare equal.
class resources {
public:
  using map_type = std::map<resource_key, resource_value>;

  resources() = default;

  // -- parsing and formatting -----------------------------------------------------------

  /// Parses the flag syntax. Errors (errc::invalid_resources) name the offending part:
  /// negative, NaN or infinite amounts, overlapping ranges, unknown names, kind mismatches,
  /// duplicates, malformed roles, garbage.
  static caf::expected<resources> parse(std::string_view text, const resource_schema& schema = {});

  /// Parses a JSON Resource array (or {"resources": [...]}), with the same checks as from_proto.
  static caf::expected<resources> parse_json(std::string_view json,
                                             const resource_schema& schema = {});

  /// Validates and converts protobuf resources.
  static caf::expected<resources>
  from_proto(const google::protobuf::RepeatedPtrField<v1::Resource>& list,
             const resource_schema& schema = {});

  /// Converts to protobuf resources (one Resource per entry, in key order).
  google::protobuf::RepeatedPtrField<v1::Resource> to_proto() const;

  /// Appends the protobuf form to `out`.
  void to_proto(google::protobuf::RepeatedPtrField<v1::Resource>* out) const;

  /// The flag syntax. Round-trips through parse() for unreserved and statically reserved
  /// resources; dynamic reservations print their role only (use to_json to keep them).
  std::string to_string() const;

  /// The JSON array form; lossless.
  std::string to_json() const;

  // -- building -------------------------------------------------------------------------

  /// Adds `amount` of a scalar resource for `role` ("*" = unreserved, otherwise a static
  /// reservation). For trusted input (tests, defaults): an invalid amount or role throws
  /// std::invalid_argument; parse input from peers and operators with parse()/from_proto().
  resources& add_scalar(std::string name, double amount, std::string role = "*");

  /// Adds ranges of a resource for `role`.
  resources& add_ranges(std::string name, const value_ranges& values, std::string role = "*");

  /// Adds set items of a resource for `role`.
  resources& add_set(std::string name, std::set<std::string> items, std::string role = "*");

  /// Adds one entry under an explicit key. Precondition: an existing entry with the same key has
  /// the same kind (guaranteed for bags built through one resource_schema); otherwise throws
  /// std::invalid_argument.
  resources& add(const resource_key& key, const resource_value& value);

  // -- arithmetic -----------------------------------------------------------------------

  resources& operator+=(const resources& other);

  /// Removes `other` entry by entry; amounts never go below zero, missing values are ignored.
  resources& operator-=(const resources& other);

  /// True when every entry of `other` is covered by the entry with the same key here.
  bool contains(const resources& other) const;

  friend resources operator+(resources x, const resources& y) {
    return x += y;
  }
  friend resources operator-(resources x, const resources& y) {
    return x -= y;
  }
  /// x <= y: y contains x.
  friend bool operator<=(const resources& x, const resources& y) {
    return y.contains(x);
  }
  friend bool operator==(const resources& x, const resources& y) {
    return x.entries_ == y.entries_;
  }
  friend bool operator!=(const resources& x, const resources& y) {
    return !(x == y);
  }

  // -- queries and views ----------------------------------------------------------------

  bool empty() const {
    return entries_.empty();
  }

  const map_type& entries() const {
    return entries_;
  }

  /// Total amount of a scalar resource over all reservations (0 if absent).
  double scalar(std::string_view name) const;

  /// Union of a ranges resource over all reservations.
  value_ranges ranges(std::string_view name) const;

  /// Only the unreserved entries.
  resources unreserved() const;

  /// Only entries reserved for exactly `role`.
  resources reserved(std::string_view role) const;

  /// Only reserved entries (any role).
  resources reserved() const;

  /// What a framework in `role` may use: unreserved entries plus entries reserved for `role`
  /// or one of its ancestors ("eng" reservations serve "eng/web").
  resources allocatable_to(std::string_view role) const;

  /// The roles of reserved entries.
  std::set<std::string> roles() const;

  /// The same amounts with every reservation dropped (for quantity comparisons).
  resources flatten() const;

private:
  map_type entries_;
};

/// `res` with every dynamic reservation undone: each entry's trailing DYNAMIC reservations are
/// dropped (its amount goes back to what it was reserved from).
resources without_dynamic_reservations(const resources& res);

/// Only the entries whose innermost reservation is DYNAMIC.
resources dynamic_reservations(const resources& res);

/// True when some entry's innermost reservation is DYNAMIC.
bool has_dynamic_reservations(const resources& res);

/// `base` with the dynamic reservations of `source` made again: for each entry of `source` whose
/// innermost reservation is DYNAMIC, its amount moves in `base` from what it was reserved from
/// to it. errc::invalid_resources when `base` lacks what they were reserved from (nothing is
/// returned then). Agents use it to keep their reservations over a changed --resources, the
/// master to restore an agent's reservations that the agent's report lost.
caf::expected<resources> with_dynamic_reservations(const resources& base,
                                                   const resources& source);

/// Validates a role name: "*" or one or more '/'-separated components, none empty, "." or
/// "..", no whitespace, no leading '-'. Returns an error naming the problem.
caf::error validate_role(std::string_view role);

} // namespace troupe
