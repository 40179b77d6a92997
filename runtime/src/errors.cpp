#include "troupe/runtime/errors.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/error.hpp>
#include <caf/exit_reason.hpp>
#include <caf/message.hpp>
#include <caf/sec.hpp>

namespace troupe::runtime {

namespace {

std::string render_troupe(uint8_t code, const caf::message& ctx) {
  std::string out = "troupe::";
  out += to_string(static_cast<errc>(code));
  if (ctx.size() == 1 && ctx.match_element<std::string>(0))
    out += "(" + ctx.get_as<std::string>(0) + ")";
  else if (!ctx.empty())
    out += caf::to_string(ctx);
  return out;
}

} // namespace

void add_error_category(caf::actor_system_config& cfg) {
  // The templated add_error_category<T>() does not compile in CAF 0.17.6: pass a renderer.
  cfg.add_error_category(errc_category(),
                         [](uint8_t code, caf::atom_value, const caf::message& ctx) {
                           return render_troupe(code, ctx);
                         });
}

std::string render(const caf::error& err) {
  if (!err)
    return "none";
  if (err.category() == errc_category())
    return render_troupe(err.code(), err.context());
  return caf::to_string(err);
}

std::string say(const caf::error& err) {
  if (!err)
    return "no error";
  if (err.category() == errc_category()) {
    auto message = error_message(err);
    return message.empty() ? render(err) : message;
  }
  if (err == caf::sec::request_timeout)
    return "no answer in time";
  if (err == caf::sec::request_receiver_down || err == caf::exit_reason::remote_link_unreachable)
    return "the peer went away";
  if (err == caf::sec::cannot_connect_to_node)
    return "cannot connect";
  if (err == caf::sec::cannot_open_port)
    return "cannot listen on that port (in use?)";
  if (err == caf::exit_reason::user_shutdown || err == caf::exit_reason::normal)
    return "stopped";
  return caf::to_string(err);
}

} // namespace troupe::runtime
