#include "troupe/runtime/http_client.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include <httplib.h>

#include "troupe/messages/errc.hpp"

namespace troupe::runtime {

namespace {

std::string fmt_seconds(caf::timespan t) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", std::chrono::duration<double>(t).count());
  return text;
}

} // namespace

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
  auto start = std::chrono::steady_clock::now();
  auto res = client.Get(path);
  auto where = at.host + ":" + std::to_string(at.port);
  if (!res) {
    auto err = res.error();
    if (err == httplib::Error::Connection)
      return make_error(errc::unavailable, "nothing accepts connections at " + where);
    // A read that failed late timed out; one that failed at once met something else than HTTP.
    bool late = std::chrono::steady_clock::now() - start >= timeout * 8 / 10;
    if (err == httplib::Error::ConnectionTimeout || late)
      return make_error(errc::timeout, "no answer from " + where + " within "
                                         + fmt_seconds(timeout));
    return make_error(errc::io_error, where + " does not answer HTTP ("
                                        + httplib::to_string(err) + ")");
  }
  http_reply out{res->status, res->get_header_value("Content-Type"), std::move(res->body)};
  if (auto ra = res->get_header_value("Retry-After"); !ra.empty()) {
    char* end = nullptr;
    auto secs = std::strtod(ra.c_str(), &end);
    if (end != ra.c_str() && secs >= 0)
      out.retry_after = secs;
  }
  return out;
}

} // namespace troupe::runtime
