// A blocking HTTP GET for tools and tests (the CLI reads the master's API with it). Like
// http_server, it keeps httplib.h (and the pkg-config flags it needs) inside runtime/.
#pragma once

#include <chrono>
#include <string>

#include <caf/expected.hpp>
#include <caf/timespan.hpp>

#include "troupe/runtime/transport.hpp"

namespace troupe::runtime {

/// An HTTP answer of any status.
struct http_reply {
  int status = 0;           ///< HTTP status code
  std::string content_type; ///< Content-Type header ("" when absent)
  std::string body;         ///< response body
  double retry_after = 0;   ///< seconds, from a Retry-After header (0 when absent)
};

/// GETs http://at.host:at.port`path` on a fresh connection. `timeout` bounds connecting,
/// sending and each read. Redirects are followed unless `follow_redirects` is false (a standby
/// master answers 307 with the leader's address). Any HTTP status is a reply. Without one:
/// errc::unavailable when nothing accepts the connection, errc::timeout when no answer came in
/// time, errc::io_error when the peer answered at once but not with HTTP (e.g. a CAF actor
/// port); each names the reason in words. Never call it from inside an actor: it blocks.
caf::expected<http_reply> http_get(const endpoint& at, const std::string& path,
                                   caf::timespan timeout = std::chrono::seconds{3},
                                   bool follow_redirects = true);

} // namespace troupe::runtime
