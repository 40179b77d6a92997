#include <charconv>

#include "troupe/messages/errc.hpp"
#include "troupe/runtime/election/election.hpp"

namespace troupe::runtime::election {

namespace {

constexpr std::string_view scheme = "zk://";
constexpr std::string_view leader_suffix = "/leader";

caf::error check_host(const std::string& url, std::string_view host_port) {
  auto colon = host_port.rfind(':');
  if (colon == std::string_view::npos || colon == 0)
    return make_error(errc::invalid_argument,
                      "ZooKeeper URL " + url + ": '" + std::string{host_port}
                        + "' is not host:port");
  auto port_text = host_port.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0
      || port > 65535)
    return make_error(errc::invalid_argument, "ZooKeeper URL " + url + ": bad port in '"
                                                + std::string{host_port} + "'");
  return caf::none;
}

} // namespace

bool is_zk_url(const std::string& text) {
  return text.compare(0, scheme.size(), scheme) == 0;
}

caf::expected<zk_config> parse_zk_url(const std::string& text) {
  if (!is_zk_url(text))
    return make_error(errc::invalid_argument, "'" + text + "' is not a zk:// URL");
  auto rest = std::string_view{text}.substr(scheme.size());
  auto slash = rest.find('/');
  if (slash == std::string_view::npos || slash + 1 >= rest.size())
    return make_error(errc::invalid_argument,
                      "ZooKeeper URL " + text + " needs a path, e.g. zk://127.0.0.1:2181/troupe");
  auto hosts = rest.substr(0, slash);
  auto path = rest.substr(slash);
  if (hosts.empty())
    return make_error(errc::invalid_argument, "ZooKeeper URL " + text + " names no host");
  for (size_t start = 0; start <= hosts.size();) {
    auto comma = hosts.find(',', start);
    auto one = hosts.substr(start, comma == std::string_view::npos ? hosts.npos : comma - start);
    if (auto err = check_host(text, one))
      return err;
    if (comma == std::string_view::npos)
      break;
    start = comma + 1;
  }
  if (path.back() == '/' || path.find("//") != std::string_view::npos)
    return make_error(errc::invalid_argument,
                      "ZooKeeper URL " + text + ": the path may not end in '/' or contain '//'");
  zk_config out;
  out.hosts = std::string{hosts};
  out.path = std::string{path} + std::string{leader_suffix};
  return out;
}

std::string registry_root(const zk_config& election) {
  auto path = election.path;
  if (path.size() >= leader_suffix.size()
      && path.compare(path.size() - leader_suffix.size(), leader_suffix.size(), leader_suffix)
           == 0)
    path.resize(path.size() - leader_suffix.size());
  return path + "/registry";
}

} // namespace troupe::runtime::election
