#include "zk_session.hpp"

#include <algorithm>
#include <cstdio>
#include <mutex>

#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/send.hpp>

namespace troupe::runtime::election {

namespace {

constexpr const char member_prefix[] = "member_";

// The C client logs every failed connect attempt to stderr; its log stream is process-global.
void silence_client_log() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (auto* devnull = std::fopen("/dev/null", "w"))
      zoo_set_log_stream(devnull);
  });
}

std::optional<uint64_t> member_sequence(const std::string& name) {
  constexpr size_t prefix_len = sizeof(member_prefix) - 1;
  if (name.size() <= prefix_len || name.compare(0, prefix_len, member_prefix) != 0)
    return std::nullopt;
  auto digits = name.substr(prefix_len);
  if (digits.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  return std::stoull(digits);
}

} // namespace

bool zk_connection_problem(int rc) {
  return rc == ZCONNECTIONLOSS || rc == ZOPERATIONTIMEOUT || rc == ZSESSIONEXPIRED
         || rc == ZINVALIDSTATE || rc == ZSESSIONMOVED || rc == ZCLOSING;
}

zk_session::zk_session(caf::actor_control_block* owner, zk_config cfg)
  : owner_(owner), cfg_(std::move(cfg)) {
  silence_client_log();
}

zk_session::~zk_session() {
  close();
}

bool zk_session::open() {
  close();
  ctx_ = std::make_unique<context>(context{owner_, ++generation_});
  zh_ = zookeeper_init(cfg_.hosts.c_str(), &zk_session::forward,
                       static_cast<int>(cfg_.session_timeout.count()), nullptr, ctx_.get(), 0);
  return zh_ != nullptr;
}

void zk_session::close() {
  if (zh_ != nullptr) {
    // Joins the client's threads: no callback can use ctx_ afterwards.
    zookeeper_close(zh_);
    zh_ = nullptr;
  }
  ctx_.reset();
}

int64_t zk_session::session_id() const {
  if (zh_ == nullptr)
    return 0;
  auto* id = zoo_client_id(zh_);
  return id != nullptr ? id->client_id : 0;
}

void zk_session::forward(zhandle_t*, int type, int state, const char*, void* ctx) {
  auto* c = static_cast<context*>(ctx);
  if (c == nullptr)
    return;
  if (auto owner = c->owner.lock())
    caf::anon_send(caf::actor_cast<caf::actor>(owner), zk_event_atom::value, c->generation, type,
                   state);
}

int zk_session::ensure_path() {
  const auto& path = cfg_.path;
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/')
      continue;
    auto prefix = path.substr(0, pos);
    auto rc = zoo_create(zh_, prefix.c_str(), nullptr, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT,
                         nullptr, 0);
    if (rc != ZOK && rc != ZNODEEXISTS)
      return rc;
  }
  return ZOK;
}

int zk_session::list_members(std::vector<zk_member>& out, bool watch) {
  out.clear();
  String_vector children{0, nullptr};
  auto rc = watch ? zoo_wget_children(zh_, cfg_.path.c_str(), &zk_session::forward, ctx_.get(),
                                      &children)
                  : zoo_get_children(zh_, cfg_.path.c_str(), 0, &children);
  if (rc != ZOK)
    return rc;
  for (int32_t i = 0; i < children.count; ++i) {
    std::string name{children.data[i]};
    if (auto seq = member_sequence(name))
      out.push_back(zk_member{std::move(name), *seq});
  }
  deallocate_String_vector(&children);
  std::sort(out.begin(), out.end(),
            [](const zk_member& x, const zk_member& y) { return x.sequence < y.sequence; });
  return ZOK;
}

int zk_session::watch_member(const std::string& child, struct Stat* stat) {
  struct Stat ignored;
  return zoo_wexists(zh_, child_path(child).c_str(), &zk_session::forward, ctx_.get(),
                     stat != nullptr ? stat : &ignored);
}

int zk_session::watch_path() {
  struct Stat ignored;
  return zoo_wexists(zh_, cfg_.path.c_str(), &zk_session::forward, ctx_.get(), &ignored);
}

int zk_session::read_member(const std::string& child, std::string& data) {
  auto path = child_path(child);
  std::vector<char> buf(64 * 1024);
  for (;;) {
    struct Stat stat;
    int len = static_cast<int>(buf.size());
    auto rc = zoo_get(zh_, path.c_str(), 0, buf.data(), &len, &stat);
    if (rc != ZOK)
      return rc;
    if (stat.dataLength > static_cast<int32_t>(buf.size())) { // truncated: read again
      buf.resize(static_cast<size_t>(stat.dataLength));
      continue;
    }
    data.assign(buf.data(), len > 0 ? static_cast<size_t>(len) : 0);
    return ZOK;
  }
}

std::string zk_session::child_path(const std::string& child) const {
  return cfg_.path + "/" + child;
}

} // namespace troupe::runtime::election
