#include "troupe/runtime/store/zookeeper_store.hpp"

#include <zookeeper/zookeeper.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "troupe/messages/errc.hpp"

namespace troupe::runtime {

namespace {

using namespace std::chrono_literals;

// The C client logs every failed connect attempt to stderr; its log stream is process-global.
void silence_client_log() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (auto* devnull = std::fopen("/dev/null", "w"))
      zoo_set_log_stream(devnull);
  });
}

// Session events are not needed: every call is synchronous and open() polls the state.
void ignore_events(zhandle_t*, int, int, const char*, void*) {
  // nop
}

bool connection_problem(int rc) {
  return rc == ZCONNECTIONLOSS || rc == ZOPERATIONTIMEOUT || rc == ZSESSIONEXPIRED
         || rc == ZINVALIDSTATE || rc == ZSESSIONMOVED || rc == ZCLOSING;
}

caf::error failure(int rc, const std::string& what) {
  return make_error(connection_problem(rc) ? errc::unavailable : errc::io_error,
                    "zookeeper store: " + what + ": " + zerror(rc));
}

bool plain(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'
         || c == '-';
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

// The completion of zoo_async (it has no synchronous form), shared with the waiting caller.
struct sync_state {
  std::mutex mtx;
  std::condition_variable cv;
  bool done = false;
  int rc = ZOK;
};

void sync_done(int rc, const char*, const void* data) {
  auto* holder = static_cast<std::shared_ptr<sync_state>*>(const_cast<void*>(data));
  auto st = std::move(*holder);
  delete holder;
  std::lock_guard<std::mutex> guard{st->mtx};
  st->rc = rc;
  st->done = true;
  st->cv.notify_all();
}

} // namespace

struct zookeeper_store::impl {
  std::string hosts;
  std::string root;
  std::chrono::milliseconds session_timeout;
  std::chrono::milliseconds connect_timeout;
  zhandle_t* zh = nullptr;
  std::vector<char> buf = std::vector<char>(64 * 1024);

  ~impl() {
    close();
  }

  void close() {
    if (zh != nullptr) {
      zookeeper_close(zh);
      zh = nullptr;
    }
  }

  /// Opens a handle and waits for CONNECTED.
  caf::error connect() {
    close();
    errno = 0;
    zh = zookeeper_init(hosts.c_str(), &ignore_events, static_cast<int>(session_timeout.count()),
                        nullptr, nullptr, 0);
    if (zh == nullptr)
      return make_error(errc::invalid_argument, "zookeeper store: cannot use hosts '" + hosts
                                                  + "': " + std::strerror(errno));
    auto deadline = std::chrono::steady_clock::now() + connect_timeout;
    while (zoo_state(zh) != ZOO_CONNECTED_STATE) {
      if (std::chrono::steady_clock::now() >= deadline) {
        close();
        return make_error(errc::unavailable, "zookeeper store: no session with " + hosts
                                               + " within "
                                               + std::to_string(connect_timeout.count()) + " ms");
      }
      std::this_thread::sleep_for(5ms);
    }
    return caf::none;
  }

  /// An expired session is dead for good: start a new one (the store owns no ephemeral nodes).
  caf::error session() {
    if (zh == nullptr)
      return connect();
    auto state = zoo_state(zh);
    if (state == ZOO_EXPIRED_SESSION_STATE || state == ZOO_AUTH_FAILED_STATE)
      return connect();
    return caf::none;
  }

  std::string path(std::string_view key) const {
    return root + "/" + encode_key(key);
  }

  /// Creates the root and its parents.
  caf::error ensure_root() {
    for (size_t pos = 1; pos <= root.size(); ++pos) {
      if (pos != root.size() && root[pos] != '/')
        continue;
      auto prefix = root.substr(0, pos);
      auto rc = zoo_create(zh, prefix.c_str(), nullptr, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT,
                           nullptr, 0);
      if (rc != ZOK && rc != ZNODEEXISTS)
        return failure(rc, "cannot create " + prefix);
    }
    return caf::none;
  }

  caf::expected<std::optional<entry>> read(std::string_view key) {
    auto p = path(key);
    for (;;) {
      struct Stat stat;
      int len = static_cast<int>(buf.size());
      auto rc = zoo_get(zh, p.c_str(), 0, buf.data(), &len, &stat);
      if (rc == ZNONODE)
        return std::optional<entry>{};
      if (rc != ZOK)
        return failure(rc, "cannot read " + p);
      if (stat.dataLength > static_cast<int32_t>(buf.size())) { // truncated: read again
        buf.resize(static_cast<size_t>(stat.dataLength));
        continue;
      }
      entry e;
      e.value.assign(buf.data(), len > 0 ? static_cast<size_t>(len) : 0);
      e.version = static_cast<uint64_t>(stat.version) + 1;
      return std::optional<entry>{std::move(e)};
    }
  }

  /// The current store version of `key` (0 = missing).
  caf::expected<uint64_t> version(std::string_view key) {
    auto p = path(key);
    struct Stat stat;
    auto rc = zoo_exists(zh, p.c_str(), 0, &stat);
    if (rc == ZNONODE)
      return uint64_t{0};
    if (rc != ZOK)
      return failure(rc, "cannot check " + p);
    return static_cast<uint64_t>(stat.version) + 1;
  }

  /// The version_conflict for a CAS the server refused, worded like check_version's.
  caf::error conflict(std::string_view key, std::optional<uint64_t> expected) {
    auto found = version(key);
    if (!found)
      return std::move(found.error());
    std::optional<entry> current;
    if (*found > 0)
      current = entry{{}, *found};
    if (auto err = check_version(key, current ? &*current : nullptr, expected))
      return err;
    // It matches now: another client changed the key between the write and this check.
    return make_error(errc::version_conflict, "store key '" + std::string{key}
                                                + "': changed concurrently by another client");
  }
};

zookeeper_store::zookeeper_store(std::unique_ptr<impl> self) : self_(std::move(self)) {
  // nop
}

zookeeper_store::~zookeeper_store() = default;

caf::expected<std::unique_ptr<zookeeper_store>>
zookeeper_store::open(std::string hosts, std::string root,
                      std::chrono::milliseconds session_timeout,
                      std::chrono::milliseconds connect_timeout) {
  if (hosts.empty())
    return make_error(errc::invalid_argument, "zookeeper store: empty hosts");
  if (root.size() < 2 || root.front() != '/' || root.back() == '/'
      || root.find("//") != std::string::npos)
    return make_error(errc::invalid_argument,
                      "zookeeper store: root '" + root
                        + "' is not an absolute znode path (e.g. /troupe/store)");
  silence_client_log();
  auto self = std::make_unique<impl>();
  self->hosts = std::move(hosts);
  self->root = std::move(root);
  self->session_timeout = session_timeout;
  self->connect_timeout = connect_timeout;
  if (auto err = self->connect())
    return err;
  if (auto err = self->ensure_root())
    return err;
  return std::unique_ptr<zookeeper_store>{new zookeeper_store(std::move(self))};
}

const std::string& zookeeper_store::root() const {
  return self_->root;
}

std::string zookeeper_store::encode_key(std::string_view key) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(key.size());
  for (auto ch : key) {
    auto c = static_cast<unsigned char>(ch);
    if (plain(c)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(digits[c >> 4]);
      out.push_back(digits[c & 0xf]);
    }
  }
  return out;
}

std::optional<std::string> zookeeper_store::decode_key(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (size_t i = 0; i < name.size(); ++i) {
    auto c = static_cast<unsigned char>(name[i]);
    if (plain(c)) {
      out.push_back(name[i]);
      continue;
    }
    if (c != '%' || i + 2 >= name.size())
      return std::nullopt;
    auto hi = hex_digit(name[i + 1]);
    auto lo = hex_digit(name[i + 2]);
    if (hi < 0 || lo < 0)
      return std::nullopt;
    auto decoded = static_cast<unsigned char>(hi * 16 + lo);
    if (plain(decoded)) // not canonical: not written by encode_key
      return std::nullopt;
    out.push_back(static_cast<char>(decoded));
    i += 2;
  }
  return out;
}

caf::expected<std::optional<entry>> zookeeper_store::get(std::string_view key) {
  if (auto err = validate_key(key))
    return err;
  if (auto err = self_->session())
    return err;
  return self_->read(key);
}

caf::expected<uint64_t> zookeeper_store::put(std::string_view key, std::string value,
                                             std::optional<uint64_t> expected_version) {
  if (auto err = validate_key(key))
    return err;
  if (auto err = validate_value(value))
    return err;
  if (value.size() > max_zookeeper_value_size)
    return make_error(errc::invalid_argument,
                      "store value is " + std::to_string(value.size())
                        + " bytes, more than the ZooKeeper backend's limit of "
                        + std::to_string(max_zookeeper_value_size));
  if (auto err = self_->session())
    return err;
  auto* zh = self_->zh;
  auto p = self_->path(key);
  auto len = static_cast<int>(value.size());
  auto create = [&] {
    return zoo_create(zh, p.c_str(), value.data(), len, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT,
                      nullptr, 0);
  };
  if (expected_version && *expected_version == 0) {
    auto rc = create();
    if (rc == ZOK)
      return uint64_t{1};
    if (rc == ZNODEEXISTS)
      return self_->conflict(key, expected_version);
    return failure(rc, "cannot create " + p);
  }
  if (expected_version) {
    if (*expected_version - 1 > static_cast<uint64_t>(INT32_MAX))
      return self_->conflict(key, expected_version);
    struct Stat stat;
    auto rc = zoo_set2(zh, p.c_str(), value.data(), len,
                       static_cast<int>(*expected_version - 1), &stat);
    if (rc == ZOK)
      return static_cast<uint64_t>(stat.version) + 1;
    if (rc == ZBADVERSION || rc == ZNONODE)
      return self_->conflict(key, expected_version);
    return failure(rc, "cannot write " + p);
  }
  // Unconditional: overwrite, or create; a concurrent create/delete just means another round.
  for (;;) {
    struct Stat stat;
    auto rc = zoo_set2(zh, p.c_str(), value.data(), len, -1, &stat);
    if (rc == ZOK)
      return static_cast<uint64_t>(stat.version) + 1;
    if (rc != ZNONODE)
      return failure(rc, "cannot write " + p);
    rc = create();
    if (rc == ZOK)
      return uint64_t{1};
    if (rc != ZNODEEXISTS)
      return failure(rc, "cannot create " + p);
  }
}

caf::error zookeeper_store::erase(std::string_view key,
                                  std::optional<uint64_t> expected_version) {
  if (auto err = validate_key(key))
    return err;
  if (auto err = self_->session())
    return err;
  auto p = self_->path(key);
  if (expected_version && *expected_version == 0) {
    auto found = self_->version(key);
    if (!found)
      return std::move(found.error());
    return *found == 0 ? caf::none : self_->conflict(key, expected_version);
  }
  int version = -1;
  if (expected_version) {
    if (*expected_version - 1 > static_cast<uint64_t>(INT32_MAX))
      return self_->conflict(key, expected_version);
    version = static_cast<int>(*expected_version - 1);
  }
  auto rc = zoo_delete(self_->zh, p.c_str(), version);
  if (rc == ZOK || (rc == ZNONODE && !expected_version))
    return caf::none;
  if (rc == ZBADVERSION || rc == ZNONODE)
    return self_->conflict(key, expected_version);
  return failure(rc, "cannot delete " + p);
}

caf::error zookeeper_store::commit(std::string_view guard_key, uint64_t guard_version,
                                   const std::vector<store_write>& writes) {
  if (guard_version == 0 || guard_version - 1 > static_cast<uint64_t>(INT32_MAX))
    return make_error(errc::invalid_argument, "zookeeper store: a commit's guard must exist");
  for (const auto& w : writes)
    if (w.value && w.value->size() > max_zookeeper_value_size)
      return make_error(errc::invalid_argument,
                        "store value of '" + w.key + "' is more than the ZooKeeper backend's "
                          + "limit of " + std::to_string(max_zookeeper_value_size) + " bytes");
  if (auto err = self_->session())
    return err;
  auto plan = resolve_commit([this](std::string_view key) { return self_->read(key); },
                             guard_key, guard_version, writes);
  if (!plan)
    return plan.error();
  // Every znode is named and versioned as read: the multi fails as a whole if the guard or
  // any key changed since (another client), and nothing of it is applied.
  std::vector<std::string> paths;
  paths.reserve(writes.size() + 1); // c_str() of each stays valid: no reallocation
  paths.push_back(self_->path(guard_key));
  std::vector<zoo_op_t> ops(1);
  zoo_check_op_init(&ops[0], paths[0].c_str(), static_cast<int>(guard_version - 1));
  // One operation per write, in order, each naming the znode version the one before it left
  // (the plan checked them all; a key written twice is set twice).
  std::map<std::string_view, std::optional<uint64_t>> at; // key -> its store version now
  for (const auto& r : *plan)
    at[r.key] = r.before ? std::optional<uint64_t>{r.before->version} : std::nullopt;
  for (const auto& w : writes) {
    auto& now = at[w.key];
    if (!w.value && !now)
      continue; // erasing a missing key changes nothing
    paths.push_back(self_->path(w.key));
    const char* p = paths.back().c_str();
    zoo_op_t op;
    if (w.value && now)
      zoo_set_op_init(&op, p, w.value->data(), static_cast<int>(w.value->size()),
                      static_cast<int>(*now - 1), nullptr);
    else if (w.value)
      zoo_create_op_init(&op, p, w.value->data(), static_cast<int>(w.value->size()),
                         &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, nullptr, 0);
    else
      zoo_delete_op_init(&op, p, static_cast<int>(*now - 1));
    now = w.value ? std::optional<uint64_t>{now.value_or(0) + 1} : std::nullopt;
    ops.push_back(op);
  }
  std::vector<zoo_op_result_t> results(ops.size());
  auto rc = zoo_multi(self_->zh, static_cast<int>(ops.size()), ops.data(), results.data());
  if (rc == ZOK)
    return caf::none;
  if (results[0].err == ZBADVERSION || results[0].err == ZNONODE)
    return make_error(errc::stale_epoch, "store guard '" + std::string{guard_key}
                                           + "' moved: a newer writer holds the store");
  if (rc == ZBADVERSION || rc == ZNONODE || rc == ZNODEEXISTS)
    return make_error(errc::version_conflict,
                      "zookeeper store: a key of the commit changed concurrently");
  return failure(rc, "commit of " + std::to_string(ops.size() - 1) + " keys failed");
}

caf::expected<std::vector<std::string>> zookeeper_store::list(std::string_view prefix) {
  if (auto err = validate_prefix(prefix))
    return err;
  if (auto err = self_->session())
    return err;
  String_vector children{0, nullptr};
  auto rc = zoo_get_children(self_->zh, self_->root.c_str(), 0, &children);
  if (rc == ZNONODE) // the root was removed behind our back: nothing stored
    return std::vector<std::string>{};
  if (rc != ZOK)
    return failure(rc, "cannot list " + self_->root);
  std::vector<std::string> out;
  for (int32_t i = 0; i < children.count; ++i)
    if (auto key = decode_key(children.data[i]))
      if (key->compare(0, prefix.size(), prefix) == 0)
        out.push_back(std::move(*key));
  deallocate_String_vector(&children);
  std::sort(out.begin(), out.end());
  return out;
}

caf::error zookeeper_store::sync() {
  if (auto err = self_->session())
    return err;
  auto st = std::make_shared<sync_state>();
  auto* holder = new std::shared_ptr<sync_state>(st);
  auto rc = zoo_async(self_->zh, self_->root.c_str(), &sync_done, holder);
  if (rc != ZOK) {
    delete holder;
    return failure(rc, "cannot sync " + self_->root);
  }
  std::unique_lock<std::mutex> guard{st->mtx};
  // The client completes every pending request (with an error at the latest when the session
  // is lost or the handle closes), so this wait is bounded; the timeout is a safety net.
  if (!st->cv.wait_for(guard, self_->session_timeout + self_->connect_timeout,
                       [&] { return st->done; }))
    return make_error(errc::unavailable, "zookeeper store: sync of " + self_->root
                                           + " timed out");
  if (st->rc != ZOK)
    return failure(st->rc, "cannot sync " + self_->root);
  return caf::none;
}

} // namespace troupe::runtime
