// The wire and API messages (package troupe.v1 and its scheduler/executor sub-packages).
// This header and internal.hpp are the only includers of generated *.pb.h files.
//
// For every message type it also provides value equality (field-wise, MessageDifferencer),
// `operator<<` (ShortDebugString), and CAF's inspect (pb_inspect.hpp), so any message can be
// compared, printed and sent.
#pragma once

#include <ostream>
#include <type_traits>

#include <google/protobuf/message.h>

#include "troupe/v1/agent.pb.h"
#include "troupe/v1/agent_protocol.pb.h"
#include "troupe/v1/executor.pb.h"
#include "troupe/v1/framework.pb.h"
#include "troupe/v1/ids.pb.h"
#include "troupe/v1/offer.pb.h"
#include "troupe/v1/operator.pb.h"
#include "troupe/v1/resources.pb.h"
#include "troupe/v1/scheduler.pb.h"
#include "troupe/v1/task.pb.h"

#include "troupe/messages/pb_inspect.hpp"

namespace troupe::detail {

/// Field-wise equality of two messages of the same type (defined in ids.cpp).
bool pb_equal(const google::protobuf::Message& x, const google::protobuf::Message& y);

} // namespace troupe::detail

// Declares `==`, `!=` and `<<` for every message class of one proto package. They live in the
// package's namespace so argument-dependent lookup finds them.
#define TROUPE_PB_VALUE_OPERATORS                                                        \
  template <class T, std::enable_if_t<::troupe::detail::is_pb_message_v<T>, int> = 0>     \
  bool operator==(const T& x, const T& y) {                                              \
    return ::troupe::detail::pb_equal(x, y);                                             \
  }                                                                                      \
  template <class T, std::enable_if_t<::troupe::detail::is_pb_message_v<T>, int> = 0>     \
  bool operator!=(const T& x, const T& y) {                                              \
    return !::troupe::detail::pb_equal(x, y);                                            \
  }                                                                                      \
  template <class T, std::enable_if_t<::troupe::detail::is_pb_message_v<T>, int> = 0>     \
  std::ostream& operator<<(std::ostream& out, const T& x) {                              \
    return out << x.GetTypeName() << '{' << x.ShortDebugString() << '}';                 \
  }

namespace troupe::v1 {
TROUPE_PB_VALUE_OPERATORS
TROUPE_PB_INSPECT
namespace scheduler {
TROUPE_PB_VALUE_OPERATORS
TROUPE_PB_INSPECT
} // namespace scheduler
namespace executor {
TROUPE_PB_VALUE_OPERATORS
TROUPE_PB_INSPECT
} // namespace executor
} // namespace troupe::v1
