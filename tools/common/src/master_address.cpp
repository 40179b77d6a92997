#include "troupe/tools/master_address.hpp"

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

caf::expected<master_address> resolve_master(const std::string& text, caf::timespan timeout) {
  if (runtime::election::is_zk_url(text)) {
    auto zk = runtime::election::parse_zk_url(text);
    if (!zk)
      return zk.error();
    auto info = find_leader(*zk, timeout);
    if (!info)
      return info.error();
    auto host = info->hostname();
    return master_address{{host, static_cast<uint16_t>(info->actor_port())},
                          runtime::endpoint{host, static_cast<uint16_t>(info->http_port())},
                          *info};
  }
  // The URL the master prints ("http://host:port", maybe with a trailing '/') works too.
  auto plain = text;
  if (plain.rfind("http://", 0) == 0)
    plain = plain.substr(7);
  while (!plain.empty() && plain.back() == '/')
    plain.pop_back();
  auto at = runtime::parse_endpoint(plain);
  if (!at)
    return at.error();
  auto reply = runtime::http_get(*at, "/api/v1/master", timeout);
  if (!reply) // no HTTP here: the actor endpoint itself (the pre-HTTP form of --master)
    return master_address{*at, std::nullopt, std::nullopt};
  if (reply->status != 200)
    return make_error(errc::unavailable, url(*at, "/api/v1/master") + " answered "
                                           + std::to_string(reply->status) + ": "
                                           + excerpt(reply->body));
  v1::MasterInfo info;
  if (auto err = from_json(reply->body, info))
    return make_error(errc::unavailable, url(*at, "/api/v1/master") + " is not a troupe master: "
                                           + error_message(err));
  if (info.actor_port() == 0 || info.actor_port() > 65535)
    return make_error(errc::unavailable, url(*at, "/api/v1/master") + " names no actor port");
  auto host = info.hostname();
  if (host.empty() || host == "0.0.0.0" || host == "::")
    host = at->host;
  master_address out;
  out.actors = runtime::endpoint{host, static_cast<uint16_t>(info.actor_port())};
  out.http = *at;
  out.info = std::move(info);
  return out;
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
