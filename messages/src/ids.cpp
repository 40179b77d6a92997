#include "troupe/messages/ids.hpp"

#include <google/protobuf/util/message_differencer.h>

namespace troupe::detail {

bool pb_equal(const google::protobuf::Message& x, const google::protobuf::Message& y) {
  return google::protobuf::util::MessageDifferencer::Equals(x, y);
}

} // namespace troupe::detail

#define TROUPE_DEFINE_ID_OPERATORS(T)                                                    \
  bool operator==(const T& x, const T& y) { return x.value() == y.value(); }             \
  bool operator!=(const T& x, const T& y) { return !(x == y); }                          \
  bool operator<(const T& x, const T& y) { return x.value() < y.value(); }               \
  std::ostream& operator<<(std::ostream& out, const T& x) { return out << x.value(); }

namespace troupe::v1 {

TROUPE_DEFINE_ID_OPERATORS(FrameworkID)
TROUPE_DEFINE_ID_OPERATORS(AgentID)
TROUPE_DEFINE_ID_OPERATORS(TaskID)
TROUPE_DEFINE_ID_OPERATORS(ExecutorID)
TROUPE_DEFINE_ID_OPERATORS(OfferID)

// Container IDs are equal when their whole parent chains are.
bool operator==(const ContainerID& x, const ContainerID& y) {
  return to_path(x) == to_path(y);
}
bool operator!=(const ContainerID& x, const ContainerID& y) {
  return !(x == y);
}
bool operator<(const ContainerID& x, const ContainerID& y) {
  return to_path(x) < to_path(y);
}
std::ostream& operator<<(std::ostream& out, const ContainerID& x) {
  return out << to_path(x);
}

} // namespace troupe::v1

namespace troupe {

std::string to_path(const v1::ContainerID& id) {
  if (!id.has_parent())
    return id.value();
  return to_path(id.parent()) + "." + id.value();
}

} // namespace troupe

namespace troupe {

std::string uuid_hex(const std::string& bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 0xf];
  }
  return out;
}

} // namespace troupe
