#include "troupe/messages/json.hpp"

#include <google/protobuf/util/json_util.h>

#include "troupe/messages/errc.hpp"

namespace troupe {

std::string to_json(const google::protobuf::Message& msg) {
  std::string out;
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = false;
  (void) google::protobuf::util::MessageToJsonString(msg, &out, opts);
  return out;
}

caf::error from_json(std::string_view json, google::protobuf::Message& msg) {
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(
    google::protobuf::StringPiece{json.data(), json.size()}, &msg, opts);
  if (!status.ok())
    return make_error(errc::invalid_message, msg.GetTypeName() + ": "
                                               + std::string{status.message()});
  return caf::none;
}

} // namespace troupe
