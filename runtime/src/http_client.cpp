#include "troupe/runtime/http_client.hpp"

#include <httplib.h>

#include "troupe/messages/errc.hpp"

namespace troupe::runtime {

caf::expected<http_reply> http_get(const endpoint& at, const std::string& path,
                                   caf::timespan timeout, bool follow_redirects) {
  httplib::Client client{at.host, at.port};
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(timeout).count();
  auto sec = static_cast<time_t>(us / 1000000);
  auto usec = static_cast<time_t>(us % 1000000);
  client.set_connection_timeout(sec, usec);
  client.set_read_timeout(sec, usec);
  client.set_write_timeout(sec, usec);
  client.set_keep_alive(false);
  client.set_follow_location(follow_redirects); // a standby master redirects (307)
  auto res = client.Get(path);
  if (!res)
    return make_error(errc::unavailable, "GET http://" + at.host + ":" + std::to_string(at.port)
                                           + path + ": " + httplib::to_string(res.error()));
  return http_reply{res->status, res->get_header_value("Content-Type"), std::move(res->body)};
}

} // namespace troupe::runtime
