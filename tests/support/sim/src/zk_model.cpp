#include "zk_model.hpp"

#include <cstdio>

namespace troupe::sim {

uint64_t zk_model::open(const std::string& client_node, caf::timespan timeout, time_point now) {
  auto id = next_session_++;
  sessions_[id] = session{client_node, timeout, now, {}};
  return id;
}

bool zk_model::alive(uint64_t s) const {
  return sessions_.count(s) > 0;
}

void zk_model::touch(uint64_t s, time_point now) {
  if (auto i = sessions_.find(s); i != sessions_.end())
    i->second.last_heard = now;
}

std::optional<caf::timespan> zk_model::remaining(uint64_t s, time_point now) const {
  auto i = sessions_.find(s);
  if (i == sessions_.end())
    return std::nullopt;
  return i->second.timeout - (now - i->second.last_heard);
}

void zk_model::remove(const std::string& path) {
  nodes_.erase(path);
  if (auto w = watches_.find(path); w != watches_.end()) {
    for (auto s : w->second)
      fired_.emplace_back(s, path);
    watches_.erase(w);
  }
}

void zk_model::end(uint64_t s, bool expired) {
  auto i = sessions_.find(s);
  if (i == sessions_.end())
    return;
  auto ephemerals = std::move(i->second.ephemerals);
  sessions_.erase(i);
  if (expired)
    ++expired_;
  for (const auto& path : ephemerals)
    remove(path);
  for (auto& [path, who] : watches_) // a dead session's watches never fire
    who.erase(s);
}

std::string zk_model::create_sequential(uint64_t s, const std::string& parent,
                                        const std::string& prefix, std::string data) {
  // A retry of a create whose answer was lost (a connection loss in between) must not leave
  // an orphan member that outlives the client's interest (the real contender looks for its
  // own member among the children; here the server finds it): one member per session.
  if (auto i = sessions_.find(s); i != sessions_.end())
    for (const auto& path : i->second.ephemerals)
      if (path.rfind(parent + "/" + prefix, 0) == 0)
        return path.substr(parent.size() + 1);
  // ZooKeeper numbers children by the parent's counter: never reused, gaps allowed.
  char digits[16];
  std::snprintf(digits, sizeof(digits), "%010llu",
                static_cast<unsigned long long>(counters_[parent]++));
  auto name = prefix + digits;
  auto path = parent + "/" + name;
  nodes_[path] = znode{std::move(data), s};
  if (auto i = sessions_.find(s); i != sessions_.end())
    i->second.ephemerals.insert(path);
  return name;
}

std::vector<std::string> zk_model::children(const std::string& parent) const {
  std::vector<std::string> out;
  auto prefix = parent + "/";
  for (auto i = nodes_.lower_bound(prefix); i != nodes_.end() && i->first.rfind(prefix, 0) == 0;
       ++i) {
    auto rest = i->first.substr(prefix.size());
    if (rest.find('/') == std::string::npos)
      out.push_back(rest);
  }
  return out; // std::map keeps them sorted
}

bool zk_model::exists_watch(uint64_t s, const std::string& path) {
  if (nodes_.count(path) == 0)
    return false;
  watches_[path].insert(s);
  return true;
}

std::vector<std::pair<uint64_t, std::string>> zk_model::take_fired() {
  auto out = std::move(fired_);
  fired_.clear();
  return out;
}

std::vector<uint64_t> zk_model::sessions_of(const std::string& client_node) const {
  std::vector<uint64_t> out;
  for (const auto& [id, s] : sessions_)
    if (s.node == client_node)
      out.push_back(id);
  return out;
}

} // namespace troupe::sim
