#include "troupe/runtime/http_server.hpp"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <thread>

#include "troupe/messages/errc.hpp"

namespace troupe::runtime {

namespace {

constexpr size_t request_threads = 64;
constexpr time_t io_timeout_s = 5;
constexpr time_t keep_alive_timeout_s = 2; // also bounds stop(): idle connections hold it
constexpr size_t keep_alive_max_requests = 100;

// A JSON string literal of `text` (quotes included).
std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string json_error(const std::string& message) {
  return "{\"error\":" + json_string(message) + "}";
}

// httplib matches routes as regular expressions; ours are exact paths.
std::string exact_pattern(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (std::string{".^$|()[]{}*+?\\"}.find(c) != std::string::npos)
      out += '\\';
    out += c;
  }
  return out;
}

} // namespace

struct http_server::impl {
  httplib::Server server;
  std::thread serving;
  std::atomic<bool> serving_ended{false};
  uint16_t port = 0;
};

http_server::http_server() : impl_(std::make_unique<impl>()) {
  auto& srv = impl_->server;
  srv.new_task_queue = [] { return new httplib::ThreadPool(request_threads); };
  srv.set_tcp_nodelay(true);
  srv.set_read_timeout(io_timeout_s, 0);
  srv.set_write_timeout(io_timeout_s, 0);
  srv.set_keep_alive_timeout(keep_alive_timeout_s);
  srv.set_keep_alive_max_count(keep_alive_max_requests);
  // The API is read-only: anything but GET/HEAD is refused before routing.
  srv.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    if (req.method == "GET" || req.method == "HEAD")
      return httplib::Server::HandlerResponse::Unhandled;
    res.status = 405;
    res.set_header("Allow", "GET, HEAD");
    res.set_content(json_error("method not allowed: " + req.method), "application/json");
    return httplib::Server::HandlerResponse::Handled;
  });
  // Runs for every answer with status >= 400, including a route's own: only fill in a body
  // when there is none.
  srv.set_error_handler(httplib::Server::HandlerWithResponse{[](const httplib::Request& req,
                                                                httplib::Response& res) {
    if (!res.body.empty())
      return httplib::Server::HandlerResponse::Unhandled;
    auto message = res.status == 404 ? "no such endpoint: " + req.path
                                     : "HTTP status " + std::to_string(res.status);
    res.set_content(json_error(message), "application/json");
    return httplib::Server::HandlerResponse::Handled;
  }});
  srv.set_exception_handler(
    [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
      std::string what = "unknown exception";
      try {
        std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
        // keep the generic text
      }
      res.status = 500;
      res.set_content(json_error("internal error: " + what), "application/json");
    });
}

http_server::~http_server() {
  stop();
}

void http_server::add_get(const std::string& path, handler fn) {
  impl_->server.Get(exact_pattern(path),
                    [fn = std::move(fn)](const httplib::Request&, httplib::Response& res) {
                      auto out = fn();
                      res.status = out.status;
                      for (auto& [name, value] : out.headers)
                        res.set_header(name.c_str(), value);
                      res.set_content(std::move(out.body), out.content_type.c_str());
                    });
}

caf::expected<uint16_t> http_server::start(const std::string& host, uint16_t port) {
  if (impl_->serving.joinable())
    return make_error(errc::io_error, "HTTP server already started on port "
                                        + std::to_string(impl_->port));
  auto& srv = impl_->server;
  int bound = port;
  if (port == 0)
    bound = srv.bind_to_any_port(host);
  else if (!srv.bind_to_port(host, port))
    bound = -1;
  if (bound <= 0)
    return make_error(errc::io_error, "cannot bind HTTP to " + host + ":" + std::to_string(port));
  impl_->port = static_cast<uint16_t>(bound);
  impl_->serving = std::thread{[this] {
    impl_->server.listen_after_bind();
    impl_->serving_ended = true;
  }};
  // httplib's stop() only closes the socket once the accept loop runs: wait for it, so a
  // stop() right after start() cannot leave the thread listening forever.
  while (!srv.is_running() && !impl_->serving_ended)
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  if (impl_->serving_ended) {
    impl_->serving.join();
    return make_error(errc::io_error, "HTTP server on " + host + ":" + std::to_string(bound)
                                        + " stopped right after it started");
  }
  return impl_->port;
}

void http_server::stop() {
  if (!impl_ || !impl_->serving.joinable())
    return;
  impl_->server.stop();
  impl_->serving.join();
}

uint16_t http_server::port() const {
  return impl_->port;
}

} // namespace troupe::runtime
