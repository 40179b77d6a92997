#include "troupe/tools/master_address.hpp"

#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <thread>

#include "troupe/messages/errc.hpp"
#include "troupe/messages/json.hpp"
#include "troupe/runtime/election/election.hpp"
#include "troupe/runtime/http_client.hpp"
#include "troupe/tools/leadership.hpp"

namespace troupe::tools {

namespace {

std::string url(const runtime::endpoint& at, const std::string& path) {
  return "http://" + at.host + ":" + std::to_string(at.port) + path;
}

// The head of a body for error messages.
std::string excerpt(const std::string& body) {
  constexpr size_t max = 200;
  return body.size() <= max ? body : body.substr(0, max) + "...";
}

} // namespace

namespace {

// One attempt at resolving, and whether (and after how long) trying again could help.
struct attempt {
  caf::expected<master_address> result;
  bool retryable = false;
  double retry_after = 0; ///< seconds the master asked for (0 = our own pace)
};

attempt try_resolve(const std::string& text, caf::timespan timeout);

} // namespace

caf::expected<master_address> resolve_master(const std::string& text, caf::timespan timeout) {
  return try_resolve(text, timeout).result;
}

namespace {

attempt try_resolve(const std::string& text, caf::timespan timeout) {
  if (runtime::election::is_zk_url(text)) {
    auto zk = runtime::election::parse_zk_url(text);
    if (!zk)
      return {make_error(errc::invalid_argument, error_message(zk.error()))};
    auto info = find_leader(*zk, timeout);
    if (!info)
      return {info.error(), true};
    auto host = info->hostname();
    return {master_address{{host, static_cast<uint16_t>(info->actor_port())},
                           runtime::endpoint{host, static_cast<uint16_t>(info->http_port())},
                           *info}};
  }
  // The URL the master prints ("http://host:port", maybe with a trailing '/') works too.
  auto plain = text;
  if (plain.rfind("http://", 0) == 0)
    plain = plain.substr(7);
  while (!plain.empty() && plain.back() == '/')
    plain.pop_back();
  auto at = runtime::parse_endpoint(plain);
  if (!at)
    return {make_error(errc::invalid_argument,
                       "'" + text + "' is not an address: " + error_message(at.error())
                         + " (--master HOST:PORT)")};
  auto reply = runtime::http_get(*at, "/api/v1/master", timeout);
  if (!reply) {
    if (is(reply.error(), errc::io_error)) // not HTTP: the actor endpoint itself (older form)
      return {master_address{*at, std::nullopt, std::nullopt}};
    return {reply.error(), true};
  }
  if (reply->status == 503 || reply->status == 502 || reply->status == 504)
    return {make_error(errc::unavailable, "it is not ready yet: " + url(*at, "/api/v1/master")
                                            + " answered " + std::to_string(reply->status)
                                            + " " + excerpt(reply->body)),
            true, reply->retry_after};
  if (reply->status != 200)
    return {make_error(errc::unavailable, url(*at, "/api/v1/master") + " answered "
                                            + std::to_string(reply->status) + " "
                                            + excerpt(reply->body)
                                            + "; is it a troupe master's HTTP port?")};
  v1::MasterInfo info;
  if (auto err = from_json(reply->body, info))
    return {make_error(errc::unavailable, url(*at, "/api/v1/master")
                                            + " is not a troupe master: " + error_message(err))};
  if (info.actor_port() == 0 || info.actor_port() > 65535)
    return {make_error(errc::unavailable, url(*at, "/api/v1/master") + " names no actor port")};
  auto host = info.hostname();
  if (host.empty() || host == "0.0.0.0" || host == "::")
    host = at->host;
  master_address out;
  out.actors = runtime::endpoint{host, static_cast<uint16_t>(info.actor_port())};
  out.http = *at;
  out.info = std::move(info);
  return {std::move(out)};
}

// The progress line: rewritten in place on a terminal, printed once elsewhere.
class progress_line {
public:
  explicit progress_line(std::string what) : what_(std::move(what)), tty_(isatty(2) == 1) {}
  ~progress_line() {
    if (tty_ && shown_)
      std::cerr << "\r\033[K" << std::flush;
  }
  void show(const std::string& reason, double waited_s, double wait_s) {
    if (tty_) {
      std::cerr << "\r\033[Ktroupe: waiting for " << what_ << " (" << reason << "), "
                << static_cast<int>(waited_s) << " s of " << static_cast<int>(wait_s) << " s"
                << std::flush;
    } else if (!shown_) {
      std::cerr << "troupe: waiting up to " << static_cast<int>(wait_s) << " s for " << what_
                << " (" << reason << ")" << std::endl;
    }
    shown_ = true;
  }

private:
  std::string what_;
  bool tty_;
  bool shown_ = false;
};

} // namespace

caf::expected<master_address> wait_for_master(const std::string& text, caf::timespan wait) {
  using clock = std::chrono::steady_clock;
  auto start = clock::now();
  auto deadline = start + wait;
  progress_line progress{"the master at " + text};
  auto pause = std::chrono::milliseconds{200};
  for (;;) {
    auto left = std::chrono::duration_cast<caf::timespan>(deadline - clock::now());
    auto per_try = std::clamp(left, caf::timespan{std::chrono::milliseconds{500}},
                              caf::timespan{std::chrono::seconds{3}});
    auto got = try_resolve(text, per_try);
    if (got.result || !got.retryable)
      return std::move(got.result);
    auto reason = error_message(got.result.error());
    auto now = clock::now();
    if (now >= deadline) {
      auto waited = std::chrono::duration<double>(now - start).count();
      std::string hint = is(got.result.error(), errc::unavailable)
                             && reason.rfind("it is not ready", 0) == 0
                           ? "; it may still be starting (--wait SECONDS)"
                           : "; is troupe-master running? (--master HOST:PORT)";
      return make_error(errc::unavailable,
                        "cannot reach the master at " + text + " (" + reason + ")"
                          + (waited >= 1 ? " after " + std::to_string(static_cast<int>(waited))
                                             + " s"
                                         : std::string{})
                          + hint);
    }
    progress.show(reason, std::chrono::duration<double>(now - start).count(),
                  std::chrono::duration<double>(wait).count());
    caf::timespan delay = pause;
    if (got.retry_after > 0)
      delay = std::chrono::duration_cast<caf::timespan>(
        std::chrono::duration<double>(std::min(got.retry_after, 5.0)));
    pause = std::min(pause * 2, std::chrono::milliseconds{2000});
    std::this_thread::sleep_for(std::min(delay, caf::timespan{deadline - clock::now()}));
  }
}

int exit_code_for(const caf::error& err) {
  if (is(err, errc::invalid_argument) || is(err, errc::invalid_resources)
      || is(err, errc::config_error))
    return exit_code::usage;
  if (is(err, errc::unavailable) || is(err, errc::timeout) || is(err, errc::not_leader)
      || is(err, errc::io_error))
    return exit_code::unreachable;
  return exit_code::failed;
}

caf::expected<v1::MasterState> fetch_master_state(const runtime::endpoint& http,
                                                  caf::timespan timeout) {
  auto reply = runtime::http_get(http, "/api/v1/state", timeout);
  if (!reply)
    return reply.error();
  if (reply->status != 200)
    return make_error(errc::unavailable, url(http, "/api/v1/state") + " answered "
                                           + std::to_string(reply->status) + ": "
                                           + excerpt(reply->body));
  v1::MasterState st;
  if (auto err = from_json(reply->body, st))
    return err;
  return st;
}

} // namespace troupe::tools
