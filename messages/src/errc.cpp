#include "troupe/messages/errc.hpp"

#include <caf/atom.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>

namespace troupe {

const char* to_string(errc code) {
  switch (code) {
    case errc::none: return "none";
    case errc::invalid_argument: return "invalid_argument";
    case errc::invalid_resources: return "invalid_resources";
    case errc::invalid_message: return "invalid_message";
    case errc::not_found: return "not_found";
    case errc::already_exists: return "already_exists";
    case errc::timeout: return "timeout";
    case errc::unavailable: return "unavailable";
    case errc::supervisor_gave_up: return "supervisor_gave_up";
    case errc::not_leader: return "not_leader";
    case errc::stale_epoch: return "stale_epoch";
    case errc::io_error: return "io_error";
    case errc::config_error: return "config_error";
    case errc::version_conflict: return "version_conflict";
  }
  return "unknown";
}

caf::atom_value errc_category() {
  return caf::atom("troupe");
}

caf::error make_error(errc code, std::string message) {
  return caf::error{static_cast<uint8_t>(code), errc_category(),
                    caf::make_message(std::move(message))};
}

bool is(const caf::error& err, errc code) {
  if (!err)
    return code == errc::none;
  return err.category() == errc_category() && err.code() == static_cast<uint8_t>(code);
}

std::string error_message(const caf::error& err) {
  if (!err)
    return {};
  const auto& ctx = err.context();
  if (ctx.size() == 1 && ctx.match_element<std::string>(0))
    return ctx.get_as<std::string>(0);
  return {};
}

} // namespace troupe
