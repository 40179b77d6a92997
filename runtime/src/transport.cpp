#include "troupe/runtime/transport.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/node_id.hpp>
#include <caf/sec.hpp>

#include "troupe/messages/errc.hpp"
#include "troupe/runtime/errors.hpp"

namespace troupe::runtime {

transport::~transport() = default;

namespace {

// Why a connection attempt failed, in words for people (CAF's codes go to debug logs only).
std::string connect_failure(const caf::error& err, const std::string& where) {
  if (err == caf::sec::cannot_connect_to_node)
    return "nothing accepts connections at " + where;
  if (err == caf::sec::request_timeout)
    return "no answer from " + where + " in time";
  if (err == caf::sec::incompatible_application_ids || err == caf::sec::unexpected_response)
    return where + " is not a troupe node";
  return "cannot connect to " + where + ": " + render(err);
}

// Turns the middleman's (node_id, strong_actor_ptr, interface set) answer into a plain handle.
caf::behavior middleman_connector(caf::event_based_actor* self, caf::timespan timeout) {
  return {
    [self, timeout](connect_atom, const std::string& host,
                    uint16_t port) -> caf::result<caf::actor> {
      auto rp = self->make_response_promise<caf::actor>();
      auto mm = self->system().middleman().actor_handle();
      auto where = host + ":" + std::to_string(port);
      self
        ->request(mm, timeout, connect_atom::value, host, port)
        .then(
          [rp, where](const caf::node_id&, caf::strong_actor_ptr& ptr,
                      const std::set<std::string>&) mutable {
            if (!ptr)
              rp.deliver(make_error(errc::unavailable, "no actor published at " + where));
            else
              rp.deliver(caf::actor_cast<caf::actor>(std::move(ptr)));
          },
          [rp, where](caf::error& err) mutable {
            rp.deliver(make_error(errc::unavailable, connect_failure(err, where)));
          });
      return rp;
    },
  };
}

class middleman_transport final : public transport {
public:
  middleman_transport(caf::actor_system& sys, caf::timespan connect_timeout) : sys_(sys) {
    connector_ = sys_.spawn<caf::hidden>(middleman_connector, connect_timeout);
  }

  ~middleman_transport() override {
    caf::anon_send_exit(connector_, caf::exit_reason::user_shutdown);
  }

  caf::expected<uint16_t> publish(const caf::actor& whom, const endpoint& at) override {
    auto port = sys_.middleman().publish(whom, at.port, at.host.empty() ? nullptr : at.host.c_str(),
                                         true);
    if (!port)
      return make_error(errc::unavailable,
                        "cannot listen on " + at.host + ":" + std::to_string(at.port)
                          + (port.error() == caf::sec::cannot_open_port
                               ? std::string{" (is the port in use? another port, or 0 for any)"}
                               : " (" + say(port.error()) + ")"));
    return *port;
  }

  caf::expected<caf::actor> connect(const endpoint& at) override {
    auto hdl = sys_.middleman().remote_actor(at.host, at.port);
    if (!hdl)
      return make_error(errc::unavailable,
                        connect_failure(hdl.error(), at.host + ":" + std::to_string(at.port)));
    return *hdl;
  }

  caf::actor connector() override {
    return connector_;
  }

private:
  caf::actor_system& sys_;
  caf::actor connector_;
};

} // namespace

std::unique_ptr<transport> make_middleman_transport(caf::actor_system& sys,
                                                    caf::timespan connect_timeout) {
  return std::make_unique<middleman_transport>(sys, connect_timeout);
}

caf::expected<endpoint> parse_endpoint(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return make_error(errc::invalid_argument, "'" + text + "': expected host:port");
  auto port_text = text.substr(colon + 1);
  if (port_text.empty() || port_text.size() > 5
      || port_text.find_first_not_of("0123456789") != std::string::npos)
    return make_error(errc::invalid_argument, "'" + text + "': port must be a number");
  auto port = std::stoul(port_text);
  if (port == 0 || port > 65535)
    return make_error(errc::invalid_argument, "'" + text + "': port must be in 1..65535");
  return endpoint{text.substr(0, colon), static_cast<uint16_t>(port)};
}

} // namespace troupe::runtime
