// The protobuf <-> CAF inspect bridge (see caf_bridge.hpp). Included by proto.hpp and
// internal.hpp, so every translation unit that can name a message can also send it.
#pragma once

#include <string>
#include <type_traits>

#include <google/protobuf/message.h>

#include <caf/deserializer.hpp>
#include <caf/error.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/sec.hpp>
#include <caf/serializer.hpp>

namespace troupe::detail {

/// True for every protoc-generated message class.
template <class T>
inline constexpr bool is_pb_message_v = std::is_base_of_v<google::protobuf::Message, T>;

} // namespace troupe::detail

namespace troupe::detail {

/// A stable C string with the proto full name of T, e.g. "troupe.v1.TaskStatus".
template <class T>
const char* pb_type_name() {
  static const std::string name = T::default_instance().GetTypeName();
  return name.c_str();
}

template <class Inspector, class T>
typename Inspector::result_type inspect_pb(Inspector& f, T& x) {
  if constexpr (std::is_base_of_v<caf::serializer, Inspector>) {
    std::string bytes;
    if (!x.SerializeToString(&bytes))
      return caf::make_error(caf::sec::invalid_argument, "protobuf serialize failed",
                             std::string{pb_type_name<T>()});
    return f(bytes);
  } else if constexpr (std::is_base_of_v<caf::deserializer, Inspector>) {
    std::string bytes;
    return f(bytes, caf::meta::load_callback([&]() -> caf::error {
               if (!x.ParseFromString(bytes))
                 return caf::make_error(caf::sec::invalid_argument, "protobuf parse failed",
                                        std::string{pb_type_name<T>()});
               return caf::none;
             }));
  } else {
    return f(caf::meta::type_name(pb_type_name<T>()), x.ShortDebugString());
  }
}

} // namespace troupe::detail

#define TROUPE_PB_INSPECT                                                                \
  template <class Inspector, class T,                                                    \
            std::enable_if_t<::troupe::detail::is_pb_message_v<T>, int> = 0>             \
  typename Inspector::result_type inspect(Inspector& f, T& x) {                          \
    return ::troupe::detail::inspect_pb(f, x);                                           \
  }

