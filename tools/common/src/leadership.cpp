#include "troupe/tools/leadership.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "troupe/messages/errc.hpp"
#include "troupe/messages/json.hpp"
#include "troupe/runtime/election/leader_connector.hpp"
#include "troupe/runtime/logging.hpp"
#include "troupe/runtime/node_config.hpp"
#include "troupe/runtime/options.hpp"

namespace troupe::tools {

namespace election = runtime::election;

namespace {

std::optional<v1::MasterInfo> parse_leader(const std::optional<std::string>& data) {
  if (!data)
    return std::nullopt;
  v1::MasterInfo info;
  if (from_json(*data, info))
    return std::nullopt;
  return info;
}

} // namespace

void leadership_view::set_self(std::string id) {
  std::lock_guard<std::mutex> guard{mtx_};
  self_id_ = std::move(id);
}

void leadership_view::set_term(const v1::MasterInfo* serving) {
  std::lock_guard<std::mutex> guard{mtx_};
  serving_ = serving ? std::optional<v1::MasterInfo>{*serving} : std::nullopt;
}

void leadership_view::set_leader(std::optional<v1::MasterInfo> leader) {
  std::lock_guard<std::mutex> guard{mtx_};
  leader_ = std::move(leader);
}

bool leadership_view::serving() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return serving_.has_value();
}

std::optional<runtime::http_response> leadership_view::redirect(const std::string& path) const {
  std::lock_guard<std::mutex> guard{mtx_};
  if (serving_)
    return std::nullopt;
  if (leader_ && leader_->http_port() != 0 && leader_->id() != self_id_) {
    auto location = "http://" + leader_->hostname() + ":" + std::to_string(leader_->http_port())
                    + path;
    return runtime::http_response{307, "application/json",
                                  "{\"leader\":\"" + location + "\"}",
                                  {{"Location", location}}};
  }
  return runtime::http_response{503, "application/json",
                                "{\"error\":\"no leading master yet\"}",
                                {{"Retry-After", "1"}}};
}

election::leader_listener spawn_leadership_listener(caf::actor_system& sys,
                                                    leadership_view& view) {
  auto* target = &view;
  return sys.spawn([target]() -> election::leader_listener::behavior_type {
    return {
      [target](election::leader_atom, const std::optional<std::string>& data) {
        auto leader = parse_leader(data);
        // Operators read a standby's log to learn who leads.
        if (!leader)
          runtime::node_logger("master")->warn("no master leads right now");
        else
          runtime::node_logger("master")->info("master {} at {}:{} (HTTP) leads",
                                               leader->id(), leader->hostname(),
                                               leader->http_port());
        target->set_leader(std::move(leader));
      },
    };
  });
}

election::detector_actor follow_master(caf::actor_system& sys, runtime::transport& tp,
                                       const election::zk_config& zk, caf::actor client) {
  auto connector = election::spawn_leader_connector(sys, tp.connector(), std::move(client));
  return election::spawn_zookeeper_detector(sys, zk, connector);
}

caf::actor follow_fixed_master(caf::actor_system& sys, runtime::transport& tp,
                               const runtime::endpoint& at, caf::actor client) {
  // Its id names the address (the connector ignores an empty one; an agent takes "host:port"
  // for "whichever master serves there").
  v1::MasterInfo info;
  info.set_id(at.host + ":" + std::to_string(at.port));
  info.set_hostname(at.host);
  info.set_actor_port(at.port);
  auto connector = election::spawn_leader_connector(sys, tp.connector(), std::move(client));
  return caf::actor_cast<caf::actor>(
    election::spawn_standalone_detector(sys, to_json(info), connector));
}

caf::expected<v1::MasterInfo> find_leader(const election::zk_config& zk, caf::timespan timeout) {
  runtime::node_options opts;
  opts.node_name = "cli";
  runtime::node_config cfg{opts};
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto detector = election::spawn_zookeeper_detector(
    sys, zk, caf::actor_cast<election::leader_listener>(self));
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::optional<v1::MasterInfo> found;
  while (!found) {
    auto left = std::chrono::duration_cast<caf::timespan>(deadline
                                                          - std::chrono::steady_clock::now());
    if (left <= caf::timespan{0})
      break;
    bool timed_out = false;
    self->receive(
      [&](election::leader_atom, const std::optional<std::string>& data) {
        found = parse_leader(data);
      },
      caf::after(left) >> [&] { timed_out = true; });
    if (timed_out)
      break;
  }
  caf::anon_send_exit(detector, caf::exit_reason::user_shutdown);
  if (!found)
    return make_error(errc::unavailable, "no master leads at " + zk.hosts + zk.path);
  return *found;
}

} // namespace troupe::tools
