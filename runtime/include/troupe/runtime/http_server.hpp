// A small HTTP server for a node's read-only API (DESIGN.md §8): GET routes that answer from
// snapshots, served by cpp-httplib on threads of its own (never by an actor). httplib.h stays
// inside http_server.cpp: it must be compiled with its pkg-config flags, see
// notes/infra.md "HTTP and JSON".
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/expected.hpp>

namespace troupe::runtime {

/// What a GET route answers.
struct http_response {
  int status = 200;                                          ///< HTTP status code
  std::string content_type = "application/json";            ///< Content-Type header
  std::string body;                                          ///< response body
  std::vector<std::pair<std::string, std::string>> headers; ///< extra response headers
};

/// One listening socket and the routes behind it. Settings: TCP_NODELAY, a pool of 64 request
/// threads (each keep-alive connection holds one), read/write timeouts of 5 s, keep-alive
/// connections closed after 2 s idle or 100 requests. Unknown paths answer 404 with
/// `{"error":"no such endpoint: /x"}`, methods other than GET/HEAD 405, and a route that
/// throws 500 with the reason.
class http_server {
public:
  /// A route's handler. Runs on a server thread, concurrently with other requests: it must
  /// be thread-safe and must not block on actors (read a snapshot instead).
  using handler = std::function<http_response()>;

  http_server();

  /// Stops the server (see stop()).
  ~http_server();

  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// Answers GET (and HEAD) requests for exactly `path` (no patterns, no query matching) with
  /// `fn`. Call before start().
  void add_get(const std::string& path, handler fn);

  /// Binds host:port (port 0 = any) synchronously, then serves on a thread of its own. Returns
  /// the bound port; errc::io_error when the address cannot be bound or the server is started
  /// already.
  caf::expected<uint16_t> start(const std::string& host, uint16_t port);

  /// Closes the listening socket and waits for the serving thread (up to the keep-alive
  /// timeout, 2 s, when clients hold idle connections; plus requests in flight). Idempotent;
  /// a no-op before start().
  void stop();

  /// The bound port (0 before start()).
  uint16_t port() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace troupe::runtime
