// Dynamic reservations as a whole: undoing them, and making them again on another total.
#include "troupe/messages/errc.hpp"
#include "troupe/messages/resources.hpp"

namespace troupe {

namespace {

bool dynamic_innermost(const resource_key& key) {
  return !key.reservations.empty()
         && key.reservations.back().type == v1::ReservationInfo::DYNAMIC;
}

resource_key undone(resource_key key) {
  while (dynamic_innermost(key))
    key.reservations.pop_back();
  return key;
}

} // namespace

resources without_dynamic_reservations(const resources& res) {
  resources out;
  for (const auto& [key, value] : res.entries())
    out.add(undone(key), value);
  return out;
}

resources dynamic_reservations(const resources& res) {
  resources out;
  for (const auto& [key, value] : res.entries())
    if (dynamic_innermost(key))
      out.add(key, value);
  return out;
}

bool has_dynamic_reservations(const resources& res) {
  for (const auto& [key, value] : res.entries())
    if (dynamic_innermost(key))
      return true;
  return false;
}

caf::expected<resources> with_dynamic_reservations(const resources& base,
                                                   const resources& source) {
  resources from, to;
  for (const auto& [key, value] : source.entries())
    if (dynamic_innermost(key)) {
      resources one;
      one.add(key, value);
      to += one;
      resources back;
      back.add(undone(key), value);
      from += back;
    }
  if (!base.contains(from))
    return make_error(errc::invalid_resources, "the reservations " + to.to_string()
                                                 + " need " + from.to_string() + " but "
                                                 + base.to_string() + " lacks them");
  return base - from + to;
}

} // namespace troupe
