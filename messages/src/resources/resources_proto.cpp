// Conversion between the resources value type and protobuf Resource lists (and their JSON).
#include <cmath>

#include <google/protobuf/util/json_util.h>

#include "resources/checks.hpp"
#include "troupe/messages/errc.hpp"
#include "troupe/messages/resources.hpp"

namespace troupe {

namespace {

caf::error bad(const v1::Resource& r, const std::string& why) {
  return make_error(errc::invalid_resources,
                    "resource '" + (r.name().empty() ? std::string{"<unnamed>"} : r.name())
                      + "': " + why);
}

v1::Value::Type to_proto_type(resource_kind kind) {
  switch (kind) {
    case resource_kind::scalar: return v1::Value::SCALAR;
    case resource_kind::ranges: return v1::Value::RANGES;
    case resource_kind::set: return v1::Value::SET;
  }
  return v1::Value::UNKNOWN;
}

caf::expected<reservation> from_proto(const v1::Resource& r, const v1::ReservationInfo& info) {
  if (info.type() != v1::ReservationInfo::STATIC && info.type() != v1::ReservationInfo::DYNAMIC)
    return bad(r, "reservation type must be STATIC or DYNAMIC");
  if (info.role() == "*")
    return bad(r, "a reservation cannot be for role '*'");
  if (auto err = validate_role(info.role()))
    return bad(r, error_message(err));
  reservation result{info.type(), info.role(), info.principal(), {}};
  for (const auto& label : info.labels().labels())
    result.labels.emplace_back(label.key(), label.value());
  return result;
}

caf::expected<resource_value> value_from_proto(const v1::Resource& r, resource_kind kind) {
  resource_value v;
  v.kind = kind;
  switch (kind) {
    case resource_kind::scalar: {
      auto x = r.scalar().value();
      if (auto problem = detail::scalar_problem(r.name(), x))
        return bad(r, *problem);
      v.millis = std::llround(x * 1000.0);
      break;
    }
    case resource_kind::ranges: {
      std::vector<value_range> rs;
      for (const auto& range : r.ranges().range()) {
        if (range.end() < range.begin())
          return bad(r, "range " + std::to_string(range.begin()) + "-"
                          + std::to_string(range.end()) + " ends before it begins");
        for (const auto& prev : rs)
          if (range.begin() <= prev.end && prev.begin <= range.end())
            return bad(r, "ranges overlap");
        rs.push_back({range.begin(), range.end()});
      }
      v.ranges = value_ranges::merged(std::move(rs));
      break;
    }
    case resource_kind::set:
      for (const auto& item : r.set().item())
        if (!v.items.insert(item).second)
          return bad(r, "set member '" + item + "' appears twice");
      break;
  }
  return v;
}

} // namespace

caf::expected<resources>
resources::from_proto(const google::protobuf::RepeatedPtrField<v1::Resource>& list,
                      const resource_schema& schema) {
  resources result;
  for (const auto& r : list) {
    auto kind = schema.kinds.find(r.name());
    if (kind == schema.kinds.end())
      return bad(r, "unknown resource name");
    if (r.type() != to_proto_type(kind->second))
      return bad(r, "has type " + v1::Value::Type_Name(r.type()) + ", expected "
                      + v1::Value::Type_Name(to_proto_type(kind->second)));
    resource_key key{r.name(), {}};
    for (const auto& info : r.reservations()) {
      auto res = troupe::from_proto(r, info);
      if (!res)
        return res.error();
      key.reservations.push_back(std::move(*res));
    }
    auto value = value_from_proto(r, kind->second);
    if (!value)
      return value.error();
    if (value->kind == resource_kind::ranges
        && detail::overlaps_existing(result, r.name(), value->ranges))
      return bad(r, "ranges overlap with another entry of the same name");
    result.add(key, *value);
  }
  return result;
}

void resources::to_proto(google::protobuf::RepeatedPtrField<v1::Resource>* out) const {
  for (const auto& [key, value] : entries_) {
    auto* r = out->Add();
    r->set_name(key.name);
    r->set_type(to_proto_type(value.kind));
    switch (value.kind) {
      case resource_kind::scalar:
        r->mutable_scalar()->set_value(static_cast<double>(value.millis) / 1000.0);
        break;
      case resource_kind::ranges:
        for (const auto& range : value.ranges.ranges()) {
          auto* pr = r->mutable_ranges()->add_range();
          pr->set_begin(range.begin);
          pr->set_end(range.end);
        }
        break;
      case resource_kind::set:
        for (const auto& item : value.items)
          r->mutable_set()->add_item(item);
        break;
    }
    for (const auto& res : key.reservations) {
      auto* info = r->add_reservations();
      info->set_type(res.type);
      info->set_role(res.role);
      info->set_principal(res.principal);
      for (const auto& [k, v] : res.labels) {
        auto* label = info->mutable_labels()->add_labels();
        label->set_key(k);
        label->set_value(v);
      }
    }
  }
}

google::protobuf::RepeatedPtrField<v1::Resource> resources::to_proto() const {
  google::protobuf::RepeatedPtrField<v1::Resource> result;
  to_proto(&result);
  return result;
}

caf::expected<resources> resources::parse_json(std::string_view json,
                                               const resource_schema& schema) {
  std::string text{json};
  auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '[')
    text = "{\"resources\":" + text + "}";
  v1::ResourceList list;
  auto status = google::protobuf::util::JsonStringToMessage(text, &list);
  if (!status.ok())
    return make_error(errc::invalid_resources,
                      "invalid resources JSON: " + std::string{status.message()});
  return from_proto(list.resources(), schema);
}

std::string resources::to_json() const {
  v1::ResourceList list;
  to_proto(list.mutable_resources());
  std::string out;
  (void) google::protobuf::util::MessageToJsonString(list, &out);
  // Render the array form, the one operators write on the command line.
  auto open = out.find('[');
  auto close = out.rfind(']');
  if (open == std::string::npos || close == std::string::npos)
    return "[]";
  return out.substr(open, close - open + 1);
}

} // namespace troupe
