#include "troupe/isolation/cgroups.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include <libcgroup.h>

#include "troupe/messages/errc.hpp"

// Why libcgroup here, and why not everywhere (notes/infra.md, "cgroups"):
// - v1 creation goes through libcgroup: one cgroup_create_cgroup() call creates the group,
//   parents included, in every hierarchy of the controllers it is given, using libcgroup's
//   own view of the mounts. The values are then written by plain file I/O, in an order we
//   control (memory.limit_in_bytes before memory.memsw.limit_in_bytes, the CFS period before
//   the quota) and so that an error names the file the kernel refused (libcgroup stops at the
//   first failing controller, leaves that half-created group behind, and reports only a code).
// - v2 creation is a plain mkdir: libcgroup 2.0.2 does not create missing parents there and
//   may enable controllers in the root's cgroup.subtree_control without undoing it; we enable
//   what we need ourselves and remember it for cleanup_root().
// - Reads are plain read()s: cgroup_get_cgroup() reads every file of every controller (3–4 ms).
// - Attach is a plain write to cgroup.procs (libcgroup's attach writes the per-thread `tasks`
//   file); kill and delete are plain file I/O and depth-first rmdir (the cgdelete tool removes
//   the group from the first hierarchy only on this layout).

namespace troupe::isolation {

namespace {

using clock_type = std::chrono::steady_clock;

constexpr uint64_t cfs_period_us = 100000; // 100 ms, the kernel's default period
constexpr uint64_t min_cfs_quota_us = 1000; // the kernel refuses less than 1 ms

std::string errno_text(int err) {
  char buf[256];
  return ::strerror_r(err, buf, sizeof(buf)); // GNU variant: returns the text
}

caf::error io_error(const std::string& what, int err) {
  return make_error(errc::io_error, what + ": " + errno_text(err));
}

bool is_directory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool file_exists(const std::string& path) {
  return ::access(path.c_str(), F_OK) == 0;
}

// Reads a (small, pseudo) file with read(): cgroupfs files have no meaningful size. Returns
// the errno on failure, 0 on success.
int read_text(const std::string& path, std::string& out) {
  out.clear();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno;
  char buf[4096];
  for (;;) {
    auto n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      int err = errno;
      ::close(fd);
      return err;
    }
    if (n == 0)
      break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return 0;
}

caf::expected<std::string> read_file(const std::string& path) {
  std::string text;
  if (auto err = read_text(path, text); err != 0)
    return io_error("reading " + path, err);
  return text;
}

// One write() of the whole value: cgroupfs applies each write as one value.
caf::error write_file(const std::string& path, const std::string& value) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return io_error("writing '" + value + "' to " + path, errno);
  ssize_t n;
  do
    n = ::write(fd, value.data(), value.size());
  while (n < 0 && errno == EINTR);
  int err = errno;
  ::close(fd);
  if (n < 0)
    return io_error("writing '" + value + "' to " + path, err);
  return caf::none;
}

// "key value" lines (cpu.stat, cpuacct.stat, memory.events, memory.oom_control).
std::map<std::string, uint64_t> parse_flat_keyed(const std::string& text) {
  std::map<std::string, uint64_t> result;
  size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string::npos)
      end = text.size();
    auto line = text.substr(pos, end - pos);
    auto space = line.find(' ');
    if (space != std::string::npos)
      result[line.substr(0, space)] = std::strtoull(line.c_str() + space + 1, nullptr, 10);
    pos = end + 1;
  }
  return result;
}

caf::expected<std::map<std::string, uint64_t>> read_keyed(const std::string& path) {
  auto text = read_file(path);
  if (!text)
    return std::move(text.error());
  return parse_flat_keyed(*text);
}

// A file holding one number ("max" or v1's near-2^63 "unlimited" give nullopt).
caf::expected<std::optional<uint64_t>> read_number(const std::string& path) {
  auto text = read_file(path);
  if (!text)
    return std::move(text.error());
  if (text->compare(0, 3, "max") == 0)
    return std::optional<uint64_t>{};
  char* end = nullptr;
  errno = 0;
  auto value = std::strtoull(text->c_str(), &end, 10);
  if (end == text->c_str() || errno != 0)
    return make_error(errc::io_error, "unexpected content in " + path + ": '" + *text + "'");
  if (value >= (uint64_t{1} << 62)) // v1 writes PAGE_COUNTER_MAX pages for "no limit"
    return std::optional<uint64_t>{};
  return std::optional<uint64_t>{value};
}

caf::expected<uint64_t> read_count(const std::string& path) {
  auto value = read_number(path);
  if (!value)
    return std::move(value.error());
  return value->value_or(0);
}

// `dir` and every cgroup below it, children before their parents (the order rmdir needs).
void collect_post_order(const std::string& dir, std::vector<std::string>& out) {
  if (DIR* d = ::opendir(dir.c_str())) {
    std::vector<std::string> children;
    while (auto* entry = ::readdir(d)) {
      std::string name = entry->d_name;
      if (name == "." || name == ".." || entry->d_type != DT_DIR)
        continue;
      children.push_back(dir + "/" + name);
    }
    ::closedir(d);
    for (auto& child : children)
      collect_post_order(child, out);
    out.push_back(dir);
  }
}

std::vector<std::string> subdirectory_names(const std::string& dir) {
  std::vector<std::string> result;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (auto* entry = ::readdir(d)) {
      std::string name = entry->d_name;
      if (name != "." && name != ".." && entry->d_type == DT_DIR)
        result.push_back(name);
    }
    ::closedir(d);
  }
  return result;
}

// The state letter of /proc/<pid>/stat ('R', 'S', 'D', 'Z', ...), 0 when the process is gone.
char process_state(pid_t pid) {
  std::string stat;
  if (read_text("/proc/" + std::to_string(pid) + "/stat", stat) != 0)
    return 0;
  // "pid (comm) state ...": comm may hold anything, so look after the last ')'.
  auto close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size())
    return 0;
  return stat[close + 2];
}

bool valid_component(const std::string& name) {
  if (name.empty() || name == "." || name == "..")
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
           || c == '.' || c == '_' || c == '-';
  });
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> result;
  size_t start = 0;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string::npos)
      end = path.size();
    result.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return result;
}

bool valid_root(const std::string& root) {
  auto parts = split_path(root);
  return std::all_of(parts.begin(), parts.end(), valid_component);
}

std::string join(const std::vector<std::string>& xs, const char* sep = ", ") {
  std::string result;
  for (auto& x : xs) {
    if (!result.empty())
      result += sep;
    result += x;
  }
  return result;
}

// --- libcgroup -----------------------------------------------------------------------------

// cgroup_init() reads the mount table into a global; once per process is enough (a mount
// change after start is not supported anyway) and keeps concurrent callers off that global.
int libcgroup_init() {
  static std::once_flag once;
  static int result = 0;
  std::call_once(once, [] { result = cgroup_init(); });
  return result;
}

// cgroup_strerror() is off by one past code 50022 (notes/infra.md), so name codes by number.
std::string libcgroup_text(int code) {
  if (code == ECGOTHER)
    return errno_text(cgroup_get_last_errno());
  std::string text = "libcgroup error " + std::to_string(code);
  if (code >= ECGROUPNOTCOMPILED && code < 50022)
    text += std::string{" ("} + cgroup_strerror(code) + ")";
  return text;
}

struct cgroup_deleter {
  void operator()(struct cgroup* cg) const {
    cgroup_free(&cg);
  }
};

} // namespace

// --- cgroup_manager ------------------------------------------------------------------------

const std::vector<std::string>& cgroup_manager::v1_controllers() {
  static const std::vector<std::string> result{"cpu", "cpuacct", "memory", "pids", "freezer"};
  return result;
}

const std::vector<std::string>& cgroup_manager::v2_controllers() {
  static const std::vector<std::string> result{"cpu", "memory", "pids"};
  return result;
}

cgroup_manager::cgroup_manager(cgroup_layout layout, std::string root_name)
  : layout_(std::move(layout)), root_(std::move(root_name)) {
  // Stored without surrounding slashes so that every path is built the same way.
  while (!root_.empty() && root_.front() == '/')
    root_.erase(root_.begin());
  while (!root_.empty() && root_.back() == '/')
    root_.pop_back();
}

caf::expected<cgroup_manager> cgroup_manager::detect(std::string root_name) {
  if (!valid_root(root_name))
    return make_error(errc::invalid_argument,
                      "invalid cgroup root name '" + root_name
                        + "' (components of [A-Za-z0-9._-] separated by '/')");
  if (auto euid = ::geteuid(); euid != 0)
    return make_error(errc::unavailable,
                      "cgroups need root (euid " + std::to_string(euid) + ")");
  auto layout = cgroup_layout::from_system();
  if (!layout)
    return make_error(errc::unavailable, error_message(layout.error()));
  switch (layout->version()) {
    case cgroup_version::none:
      return make_error(errc::unavailable, "no cgroup filesystem mounted "
                                           "(no cgroup or cgroup2 entry in /proc/self/mountinfo)");
    case cgroup_version::v1:
      if (auto missing = layout->missing(v1_controllers()); !missing.empty())
        return make_error(errc::unavailable,
                          "cgroup v1 controllers not mounted: " + join(missing));
      if (auto rc = libcgroup_init(); rc != 0)
        return make_error(errc::unavailable,
                          "libcgroup cannot initialise: " + libcgroup_text(rc));
      break;
    case cgroup_version::v2:
      if (auto missing = layout->missing(v2_controllers()); !missing.empty())
        return make_error(errc::unavailable,
                          "cgroup v2 controllers not available at " + layout->unified_mount()
                            + " (see its cgroup.controllers): " + join(missing));
      break;
  }
  cgroup_manager result{std::move(*layout), std::move(root_name)};
  bool root_existed = false;
  for (auto& dir : result.layout_.directories(result.controllers(), result.root_))
    root_existed = root_existed || is_directory(dir);
  // The trial: the same calls a real container makes, so a kernel or permission problem
  // (read-only cgroupfs in a container, a controller not delegated) shows up here.
  auto probe = ".probe-" + std::to_string(::getpid());
  cgroup_limits limits;
  limits.cpus = 0.1;
  limits.cfs_quota_cpus = 0.1;
  limits.memory_bytes = 64u << 20;
  limits.pids_max = 16;
  result.destroy(probe, std::chrono::seconds{2}); // left by an earlier process with our pid
  auto err = result.create(probe, limits);
  if (!err)
    err = result.destroy(probe, std::chrono::seconds{2});
  if (!err && !root_existed)
    err = result.cleanup_root();
  if (err) {
    result.destroy(probe, std::chrono::seconds{2});
    if (!root_existed)
      result.cleanup_root();
    return make_error(errc::unavailable, "trial cgroup " + result.cgroup_name(probe) + " ("
                                           + to_string(result.version())
                                           + ") failed: " + error_message(err));
  }
  return result;
}

const std::vector<std::string>& cgroup_manager::controllers() const {
  return version() == cgroup_version::v2 ? v2_controllers() : v1_controllers();
}

std::string cgroup_manager::cgroup_name(const std::string& container) const {
  return root_.empty() ? container : root_ + "/" + container;
}

std::vector<std::string> cgroup_manager::directories(const std::string& container) const {
  return layout_.directories(controllers(), cgroup_name(container));
}

caf::error cgroup_manager::check_name(const std::string& container) const {
  if (!valid_component(container))
    return make_error(errc::invalid_argument,
                      "invalid container cgroup name '" + container
                        + "' (non-empty, of [A-Za-z0-9._-], not '.' or '..')");
  if (layout_.version() == cgroup_version::none)
    return make_error(errc::unavailable, "no cgroup filesystem in this layout");
  return caf::none;
}

caf::error cgroup_manager::create(const std::string& container, const cgroup_limits& limits) {
  if (auto err = check_name(container))
    return err;
  if (!(limits.cpus > 0) || !std::isfinite(limits.cpus))
    return make_error(errc::invalid_argument, "cpus must be > 0");
  if (limits.cfs_quota_cpus
      && (!(*limits.cfs_quota_cpus > 0) || !std::isfinite(*limits.cfs_quota_cpus)))
    return make_error(errc::invalid_argument, "the CFS quota must be > 0 CPUs");
  if (limits.memory_bytes == 0)
    return make_error(errc::invalid_argument, "memory_bytes must be > 0");
  for (auto& dir : directories(container))
    if (file_exists(dir))
      return make_error(errc::already_exists, "cgroup " + dir + " exists already");
  if (auto err = make_directories(container)) {
    remove_leaf(container);
    return err;
  }
  if (auto err = write_limits(container, limits, true)) {
    remove_leaf(container);
    return err;
  }
  return caf::none;
}

caf::error cgroup_manager::make_directories(const std::string& container) {
  auto name = cgroup_name(container);
  if (version() == cgroup_version::v2) {
    if (auto err = prepare_v2_parents())
      return err;
    auto dir = *layout_.directory("memory", name);
    if (::mkdir(dir.c_str(), 0755) != 0)
      return io_error("creating cgroup " + dir, errno);
    return caf::none;
  }
  if (auto rc = libcgroup_init(); rc != 0)
    return make_error(errc::io_error, "libcgroup cannot initialise: " + libcgroup_text(rc));
  std::unique_ptr<struct cgroup, cgroup_deleter> cg{cgroup_new_cgroup(name.c_str())};
  if (!cg)
    return make_error(errc::io_error, "libcgroup cannot allocate cgroup " + name);
  // One controller per hierarchy: a co-mounted "cpu,cpuacct" needs its directory once.
  std::set<std::string> seen;
  for (auto& controller : v1_controllers()) {
    auto mount = layout_.mount_point(controller);
    if (!mount || !seen.insert(*mount).second)
      continue;
    if (cgroup_add_controller(cg.get(), controller.c_str()) == nullptr)
      return make_error(errc::io_error, "libcgroup cannot add controller " + controller);
  }
  if (auto rc = cgroup_create_cgroup(cg.get(), 0); rc != 0)
    return make_error(errc::io_error, "libcgroup could not create cgroup " + name + " in "
                                        + join(v1_controllers()) + ": " + libcgroup_text(rc));
  // libcgroup resolves mounts itself: make sure it agrees with our layout.
  for (auto& dir : directories(container))
    if (!is_directory(dir))
      return make_error(errc::io_error, "libcgroup reported success but " + dir
                                          + " does not exist (mount table mismatch?)");
  return caf::none;
}

caf::error cgroup_manager::prepare_v2_parents() {
  // On v2 a controller's files appear in a group only when its parent lists the controller in
  // cgroup.subtree_control, from the hierarchy root down to the root group.
  auto enable = [this](const std::string& dir, bool top) -> caf::error {
    auto path = dir + "/cgroup.subtree_control";
    auto text = read_file(path);
    if (!text)
      return std::move(text.error());
    std::string words = " " + *text + " ";
    std::replace(words.begin(), words.end(), '\n', ' ');
    std::string change;
    std::vector<std::string> added;
    for (auto& controller : v2_controllers())
      if (words.find(" " + controller + " ") == std::string::npos) {
        change += (change.empty() ? "+" : " +") + controller;
        added.push_back(controller);
      }
    if (change.empty())
      return caf::none;
    if (auto err = write_file(path, change))
      return err;
    if (top)
      enabled_at_top_.insert(added.begin(), added.end());
    return caf::none;
  };
  auto dir = layout_.unified_mount();
  if (auto err = enable(dir, true))
    return err;
  if (root_.empty())
    return caf::none;
  for (auto& part : split_path(root_)) {
    dir += "/" + part;
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
      return io_error("creating cgroup " + dir, errno);
    if (auto err = enable(dir, false))
      return err;
  }
  return caf::none;
}

void cgroup_manager::remove_leaf(const std::string& container) {
  // Only right after a failed create: the group holds no process yet.
  for (auto& dir : directories(container))
    ::rmdir(dir.c_str());
}

caf::error cgroup_manager::write_limits(const std::string& container,
                                        const cgroup_limits& limits, bool creating) {
  auto name = cgroup_name(container);
  auto cpu = *layout_.directory("cpu", name);
  auto memory = *layout_.directory("memory", name);
  auto pids = *layout_.directory("pids", name);
  auto quota_us = [&] {
    return std::max<uint64_t>(min_cfs_quota_us,
                              static_cast<uint64_t>(std::llround(*limits.cfs_quota_cpus
                                                                 * cfs_period_us)));
  };
  auto memory_value = std::to_string(limits.memory_bytes);
  if (version() == cgroup_version::v1) {
    auto shares = std::clamp<long long>(std::llround(1024 * limits.cpus), 2, 262144);
    if (auto err = write_file(cpu + "/cpu.shares", std::to_string(shares)))
      return err;
    if (limits.cfs_quota_cpus) {
      if (auto err = write_file(cpu + "/cpu.cfs_period_us", std::to_string(cfs_period_us)))
        return err;
      if (auto err = write_file(cpu + "/cpu.cfs_quota_us", std::to_string(quota_us())))
        return err;
    } else if (!creating) {
      if (auto err = write_file(cpu + "/cpu.cfs_quota_us", "-1"))
        return err;
    }
    // memory.memsw.limit_in_bytes (memory + swap) must never be below memory.limit_in_bytes:
    // lower the memory limit first, raise memsw first. The file exists only with swap
    // accounting; a fresh group starts unlimited, so create() always lowers.
    auto memsw = memory + "/memory.memsw.limit_in_bytes";
    bool has_memsw = file_exists(memsw);
    bool raising = false;
    if (has_memsw && !creating) {
      auto current = read_number(memory + "/memory.limit_in_bytes");
      raising = current && current->has_value() && limits.memory_bytes > **current;
    }
    if (raising)
      if (auto err = write_file(memsw, memory_value))
        return err;
    if (auto err = write_file(memory + "/memory.limit_in_bytes", memory_value))
      return err;
    if (has_memsw && !raising)
      if (auto err = write_file(memsw, memory_value))
        return err;
  } else {
    auto weight = std::clamp<long long>(std::llround(100 * limits.cpus), 1, 10000);
    if (auto err = write_file(cpu + "/cpu.weight", std::to_string(weight)))
      return err;
    if (limits.cfs_quota_cpus || !creating) {
      auto quota = limits.cfs_quota_cpus ? std::to_string(quota_us()) : std::string{"max"};
      if (auto err = write_file(cpu + "/cpu.max", quota + " " + std::to_string(cfs_period_us)))
        return err;
    }
    if (auto err = write_file(memory + "/memory.max", memory_value))
      return err;
    if (auto swap = memory + "/memory.swap.max"; file_exists(swap))
      if (auto err = write_file(swap, "0"))
        return err;
  }
  if (limits.pids_max || !creating) {
    auto value = limits.pids_max ? std::to_string(*limits.pids_max) : std::string{"max"};
    if (auto err = write_file(pids + "/pids.max", value))
      return err;
  }
  return caf::none;
}

caf::error cgroup_manager::update(const std::string& container, const cgroup_limits& limits) {
  if (auto err = check_name(container))
    return err;
  if (!(limits.cpus > 0) || !std::isfinite(limits.cpus) || limits.memory_bytes == 0
      || (limits.cfs_quota_cpus
          && (!(*limits.cfs_quota_cpus > 0) || !std::isfinite(*limits.cfs_quota_cpus))))
    return make_error(errc::invalid_argument, "cpus, memory_bytes and a quota must be > 0");
  if (!exists(container))
    return make_error(errc::not_found, "no cgroup " + cgroup_name(container));
  return write_limits(container, limits, false);
}

std::vector<std::string> cgroup_manager::procs_files(const std::string& container) const {
  auto result = directories(container);
  for (auto& dir : result)
    dir += "/cgroup.procs";
  return result;
}

caf::error cgroup_manager::attach(const std::string& container, pid_t pid) {
  if (auto err = check_name(container))
    return err;
  if (pid <= 0)
    return make_error(errc::invalid_argument, "invalid pid " + std::to_string(pid));
  for (auto& dir : directories(container))
    if (!is_directory(dir))
      return make_error(errc::not_found, "no cgroup " + dir);
  for (auto& file : procs_files(container))
    if (auto err = write_file(file, std::to_string(pid)))
      return err;
  return caf::none;
}

std::vector<pid_t> cgroup_manager::pids(const std::string& container) const {
  std::set<pid_t> result;
  if (!valid_component(container))
    return {};
  for (auto& dir : directories(container)) {
    std::vector<std::string> groups;
    collect_post_order(dir, groups);
    for (auto& group : groups) {
      std::string text;
      if (read_text(group + "/cgroup.procs", text) != 0)
        continue; // removed meanwhile
      size_t pos = 0;
      while (pos < text.size()) {
        auto end = text.find('\n', pos);
        if (end == std::string::npos)
          end = text.size();
        if (auto pid = std::atoi(text.c_str() + pos); pid > 0)
          result.insert(pid);
        pos = end + 1;
      }
    }
  }
  return {result.begin(), result.end()};
}

bool cgroup_manager::exists(const std::string& container) const {
  if (!valid_component(container))
    return false;
  auto dirs = directories(container);
  return std::any_of(dirs.begin(), dirs.end(), is_directory);
}

caf::expected<container_usage> cgroup_manager::usage(const std::string& container) const {
  if (auto err = check_name(container))
    return err;
  if (!exists(container))
    return make_error(errc::not_found, "no cgroup " + cgroup_name(container));
  auto name = cgroup_name(container);
  auto cpu = *layout_.directory("cpu", name);
  auto memory = *layout_.directory("memory", name);
  auto pids = *layout_.directory("pids", name);
  container_usage result;
  auto cpu_stat = read_keyed(cpu + "/cpu.stat");
  if (!cpu_stat)
    return std::move(cpu_stat.error());
  result.cpu_nr_periods = (*cpu_stat)["nr_periods"];
  result.cpu_nr_throttled = (*cpu_stat)["nr_throttled"];
  if (version() == cgroup_version::v1) {
    auto acct = read_keyed(*layout_.directory("cpuacct", name) + "/cpuacct.stat");
    if (!acct)
      return std::move(acct.error());
    // cpuacct.stat counts USER_HZ ticks.
    auto hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
    result.cpu_user_seconds = static_cast<double>((*acct)["user"]) / hz;
    result.cpu_system_seconds = static_cast<double>((*acct)["system"]) / hz;
    result.cpu_throttled_seconds = static_cast<double>((*cpu_stat)["throttled_time"]) / 1e9;
    auto current = read_count(memory + "/memory.usage_in_bytes");
    auto peak = read_count(memory + "/memory.max_usage_in_bytes");
    auto limit = read_number(memory + "/memory.limit_in_bytes");
    if (!current)
      return std::move(current.error());
    if (!peak)
      return std::move(peak.error());
    if (!limit)
      return std::move(limit.error());
    result.memory_current_bytes = *current;
    result.memory_peak_bytes = *peak;
    result.memory_limit_bytes = *limit;
  } else {
    result.cpu_user_seconds = static_cast<double>((*cpu_stat)["user_usec"]) / 1e6;
    result.cpu_system_seconds = static_cast<double>((*cpu_stat)["system_usec"]) / 1e6;
    result.cpu_throttled_seconds = static_cast<double>((*cpu_stat)["throttled_usec"]) / 1e6;
    auto current = read_count(memory + "/memory.current");
    auto limit = read_number(memory + "/memory.max");
    if (!current)
      return std::move(current.error());
    if (!limit)
      return std::move(limit.error());
    result.memory_current_bytes = *current;
    result.memory_limit_bytes = *limit;
    if (auto peak_file = memory + "/memory.peak"; file_exists(peak_file)) {
      auto peak = read_count(peak_file);
      if (!peak)
        return std::move(peak.error());
      result.memory_peak_bytes = *peak;
    }
  }
  auto pids_current = read_count(pids + "/pids.current");
  if (!pids_current)
    return std::move(pids_current.error());
  result.pids_current = *pids_current;
  return result;
}

caf::expected<bool> cgroup_manager::oom_killed(const std::string& container) const {
  if (auto err = check_name(container))
    return err;
  if (!exists(container))
    return make_error(errc::not_found, "no cgroup " + cgroup_name(container));
  auto memory = *layout_.directory("memory", cgroup_name(container));
  auto path = memory + (version() == cgroup_version::v1 ? "/memory.oom_control"
                                                        : "/memory.events");
  auto keys = read_keyed(path);
  if (!keys)
    return std::move(keys.error());
  auto i = keys->find("oom_kill");
  if (i == keys->end()) // kernels before 4.13 (v1)
    return make_error(errc::io_error, path + " has no oom_kill counter");
  return i->second > 0;
}

caf::error cgroup_manager::kill_all(const std::string& container,
                                    clock_type::time_point deadline) {
  auto name = cgroup_name(container);
  std::set<pid_t> killed;
  auto kill_listed = [&] {
    for (auto pid : pids(container))
      if (killed.insert(pid).second)
        ::kill(pid, SIGKILL);
  };
  // Polls `path` until `done(its text)` holds, it disappears, or the deadline passes.
  auto wait_for = [&](const std::string& path, auto&& done) {
    for (auto pause = std::chrono::microseconds{200};;
         pause = std::min(pause * 2, std::chrono::microseconds{5000})) {
      std::string text;
      if (read_text(path, text) != 0 || done(text))
        return true;
      if (clock_type::now() >= deadline)
        return false;
      std::this_thread::sleep_for(pause);
    }
  };
  if (version() == cgroup_version::v1) {
    auto freezer = *layout_.directory("freezer", name) + "/freezer.state";
    bool can_freeze = file_exists(freezer) && !write_file(freezer, "FROZEN");
    // Frozen, nothing in the group can fork, so one pass over cgroup.procs gets everyone and
    // no pid can be reused meanwhile (frozen processes do not exit). SIGKILL stays pending
    // until the thaw. Without a completed freeze the loop below still kills newcomers.
    if (can_freeze)
      wait_for(freezer, [](const std::string& s) { return s.compare(0, 6, "FROZEN") == 0; });
    kill_listed();
    if (can_freeze)
      write_file(freezer, "THAWED");
  } else {
    auto dir = *layout_.directory("memory", name);
    if (file_exists(dir + "/cgroup.kill")) {
      // Kernel 5.14+: kills the group and its descendants atomically, forks included.
      if (auto err = write_file(dir + "/cgroup.kill", "1"); err && is_directory(dir))
        return err;
    } else if (file_exists(dir + "/cgroup.freeze")) {
      bool can_freeze = !write_file(dir + "/cgroup.freeze", "1");
      if (can_freeze)
        wait_for(dir + "/cgroup.events", [](const std::string& s) {
          return s.find("frozen 1") != std::string::npos;
        });
      kill_listed();
      if (can_freeze)
        write_file(dir + "/cgroup.freeze", "0");
    }
  }
  // Wait until nothing but zombies is left: a killed process leaves cgroup.procs when it
  // exits (on some kernels only once reaped); reaping our own child is the caller's job and
  // orphans are init's (or a subreaper's), so a zombie counts as gone.
  for (auto pause = std::chrono::microseconds{200};;
       pause = std::min(pause * 2, std::chrono::microseconds{5000})) {
    std::vector<std::string> live;
    for (auto pid : pids(container))
      if (auto state = process_state(pid); state != 0 && state != 'Z') {
        if (killed.insert(pid).second) // appeared after the kill pass (no freeze)
          ::kill(pid, SIGKILL);
        live.push_back(std::to_string(pid) + " (" + std::string(1, state) + ")");
      }
    if (live.empty())
      return caf::none;
    if (clock_type::now() >= deadline)
      return make_error(errc::timeout, "processes still alive in cgroup " + name + ": "
                                         + join(live));
    std::this_thread::sleep_for(pause);
  }
}

caf::error cgroup_manager::destroy(const std::string& container,
                                   std::chrono::milliseconds timeout) {
  if (auto err = check_name(container))
    return err;
  if (!exists(container))
    return caf::none;
  auto deadline = clock_type::now() + timeout;
  if (auto err = kill_all(container, deadline))
    return err;
  // Depth-first in each hierarchy. An rmdir can briefly fail with EBUSY while the last
  // exiting task is still being unlinked from the group: retry until the deadline.
  for (auto& dir : directories(container)) {
    std::vector<std::string> groups;
    collect_post_order(dir, groups);
    for (auto& group : groups) {
      for (auto pause = std::chrono::microseconds{200};;
           pause = std::min(pause * 2, std::chrono::microseconds{5000})) {
        if (::rmdir(group.c_str()) == 0 || errno == ENOENT)
          break;
        int err = errno;
        if (err != EBUSY)
          return io_error("removing cgroup " + group, err);
        if (clock_type::now() >= deadline)
          return make_error(errc::timeout, "cgroup " + group + " still busy after "
                                             + std::to_string(timeout.count()) + " ms");
        std::this_thread::sleep_for(pause);
      }
    }
  }
  return caf::none;
}

std::vector<std::string> cgroup_manager::list() const {
  std::set<std::string> result;
  for (auto& dir : layout_.directories(controllers(), root_))
    for (auto& name : subdirectory_names(dir))
      result.insert(name);
  return {result.begin(), result.end()};
}

caf::error cgroup_manager::cleanup_root() {
  if (root_.empty())
    return make_error(errc::invalid_argument, "no root group to remove (empty root name)");
  if (auto left = list(); !left.empty())
    return make_error(errc::io_error,
                      "cgroup root " + root_ + " still holds containers: " + join(left));
  auto parts = split_path(root_);
  for (auto& mount : layout_.hierarchies(controllers())) {
    auto dir = mount + "/" + root_;
    if (::rmdir(dir.c_str()) != 0 && errno != ENOENT)
      return io_error("removing cgroup " + dir, errno);
    // Parents that became empty ("troupe" of "troupe/agent-1"), unless someone else uses them.
    for (auto n = parts.size() - 1; n > 0; --n) {
      auto parent = mount;
      for (size_t i = 0; i < n; ++i)
        parent += "/" + parts[i];
      if (::rmdir(parent.c_str()) != 0)
        break;
    }
  }
  if (version() == cgroup_version::v2) {
    auto path = layout_.unified_mount() + "/cgroup.subtree_control";
    for (auto& controller : enabled_at_top_)
      write_file(path, "-" + controller); // EBUSY: another group uses it now; keep it
    enabled_at_top_.clear();
  }
  return caf::none;
}

} // namespace troupe::isolation
