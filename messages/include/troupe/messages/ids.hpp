// Identifier types: equality, ordering, hashing and printing by value, so IDs work as keys of
// std::map / std::unordered_map and print as their bare value in logs.
#pragma once

#include <cstddef>
#include <functional>
#include <ostream>
#include <string>

#include "troupe/messages/proto.hpp"

#define TROUPE_DECLARE_ID_OPERATORS(T)                                                   \
  bool operator==(const T& x, const T& y);                                               \
  bool operator!=(const T& x, const T& y);                                               \
  bool operator<(const T& x, const T& y);                                                \
  std::ostream& operator<<(std::ostream& out, const T& x);

namespace troupe::v1 {
TROUPE_DECLARE_ID_OPERATORS(FrameworkID)
TROUPE_DECLARE_ID_OPERATORS(AgentID)
TROUPE_DECLARE_ID_OPERATORS(TaskID)
TROUPE_DECLARE_ID_OPERATORS(ExecutorID)
TROUPE_DECLARE_ID_OPERATORS(OfferID)
TROUPE_DECLARE_ID_OPERATORS(ContainerID)
} // namespace troupe::v1

#undef TROUPE_DECLARE_ID_OPERATORS

namespace troupe {

/// The full path of a container ID, parents first, joined by '.', e.g. "exec1.task2".
std::string to_path(const v1::ContainerID& id);

/// A status update UUID (16 raw bytes) as 32 lowercase hex digits, for logs.
std::string uuid_hex(const std::string& bytes);

} // namespace troupe

#define TROUPE_DECLARE_ID_HASH(T)                                                        \
  template <>                                                                            \
  struct hash<T> {                                                                       \
    size_t operator()(const T& x) const noexcept {                                       \
      return std::hash<std::string>{}(x.value());                                        \
    }                                                                                    \
  };

namespace std {
TROUPE_DECLARE_ID_HASH(troupe::v1::FrameworkID)
TROUPE_DECLARE_ID_HASH(troupe::v1::AgentID)
TROUPE_DECLARE_ID_HASH(troupe::v1::TaskID)
TROUPE_DECLARE_ID_HASH(troupe::v1::ExecutorID)
TROUPE_DECLARE_ID_HASH(troupe::v1::OfferID)
template <>
struct hash<troupe::v1::ContainerID> {
  size_t operator()(const troupe::v1::ContainerID& x) const noexcept {
    return std::hash<std::string>{}(troupe::to_path(x));
  }
};
} // namespace std

#undef TROUPE_DECLARE_ID_HASH
