#include "troupe/isolation/cgroup_layout.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>

#include "troupe/messages/errc.hpp"

namespace troupe::isolation {

namespace {

// The v1 controllers the kernel knows. A v1 mount's super options mix controllers with
// generic options (rw, name=systemd, xattr, release_agent=..., clone_children, ...); taking
// only known names is robust against options added by newer kernels.
const std::set<std::string> known_v1_controllers = {
  "blkio",    "cpu",  "cpuacct", "cpuset", "debug", "devices", "freezer", "hugetlb",
  "memory",   "misc", "net_cls", "net_prio", "perf_event", "pids", "rdma",
};

std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> result;
  size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(sep, start);
    if (end == std::string_view::npos)
      end = text.size();
    if (end > start)
      result.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return result;
}

// mountinfo escapes space, tab, newline and backslash as \ooo (octal).
std::string unescape(const std::string& field) {
  std::string result;
  result.reserve(field.size());
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()
        && std::all_of(field.begin() + static_cast<long>(i) + 1,
                       field.begin() + static_cast<long>(i) + 4,
                       [](char c) { return c >= '0' && c <= '7'; })) {
      result += static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8
                                  + (field[i + 3] - '0'));
      i += 3;
    } else {
      result += field[i];
    }
  }
  return result;
}

// "troupe/a/" -> "troupe/a"; "/" -> "".
std::string trim_slashes(const std::string& path) {
  auto first = path.find_first_not_of('/');
  if (first == std::string::npos)
    return {};
  auto last = path.find_last_not_of('/');
  return path.substr(first, last - first + 1);
}

} // namespace

const char* to_string(cgroup_version version) {
  switch (version) {
    case cgroup_version::v1:
      return "v1";
    case cgroup_version::v2:
      return "v2";
    default:
      return "none";
  }
}

cgroup_layout cgroup_layout::parse(std::string_view mountinfo, std::string_view v2_controllers) {
  cgroup_layout result;
  for (auto& line : split(mountinfo, '\n')) {
    // id parent major:minor root mount-point options [optional fields...] - fstype source
    // super-options
    auto fields = split(line, ' ');
    auto dash = std::find(fields.begin(), fields.end(), "-");
    if (fields.size() < 6 || dash == fields.end() || std::distance(dash, fields.end()) < 3
        || std::distance(fields.begin(), dash) < 6)
      continue;
    const auto& fstype = *(dash + 1);
    auto mount_point = unescape(fields[4]);
    if (fstype == "cgroup2") {
      if (result.unified_mount_.empty())
        result.unified_mount_ = mount_point;
    } else if (fstype == "cgroup") {
      for (auto& option : split(*(dash + 3), ','))
        if (known_v1_controllers.count(option) > 0)
          result.v1_mounts_.emplace(option, mount_point); // first mount wins
    }
  }
  if (!result.unified_mount_.empty()) {
    std::string words{v2_controllers};
    std::replace(words.begin(), words.end(), '\n', ' ');
    for (auto& word : split(words, ' '))
      result.unified_controllers_.insert(word);
  }
  return result;
}

caf::expected<cgroup_layout> cgroup_layout::from_system() {
  std::ifstream in{"/proc/self/mountinfo"};
  if (!in)
    return make_error(errc::io_error, "cannot read /proc/self/mountinfo");
  std::string mountinfo{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
  auto layout = parse(mountinfo);
  if (!layout.unified_mount_.empty()) {
    std::ifstream controllers{layout.unified_mount_ + "/cgroup.controllers"};
    std::string text{std::istreambuf_iterator<char>{controllers},
                     std::istreambuf_iterator<char>{}};
    layout = parse(mountinfo, text);
  }
  return layout;
}

cgroup_version cgroup_layout::version() const {
  if (!v1_mounts_.empty())
    return cgroup_version::v1;
  if (!unified_mount_.empty())
    return cgroup_version::v2;
  return cgroup_version::none;
}

bool cgroup_layout::hybrid() const {
  return !v1_mounts_.empty() && !unified_mount_.empty();
}

bool cgroup_layout::has_controller(const std::string& controller) const {
  switch (version()) {
    case cgroup_version::v1:
      return v1_mounts_.count(controller) > 0;
    case cgroup_version::v2:
      return unified_controllers_.count(controller) > 0;
    default:
      return false;
  }
}

std::vector<std::string>
cgroup_layout::missing(const std::vector<std::string>& controllers) const {
  std::vector<std::string> result;
  for (auto& controller : controllers)
    if (!has_controller(controller))
      result.push_back(controller);
  return result;
}

std::optional<std::string> cgroup_layout::mount_point(const std::string& controller) const {
  if (!has_controller(controller))
    return std::nullopt;
  if (version() == cgroup_version::v1)
    return v1_mounts_.at(controller);
  return unified_mount_;
}

std::optional<std::string> cgroup_layout::directory(const std::string& controller,
                                                    const std::string& cgroup) const {
  auto mount = mount_point(controller);
  if (!mount)
    return std::nullopt;
  auto relative = trim_slashes(cgroup);
  if (relative.empty())
    return mount;
  auto base = *mount;
  if (base.empty() || base.back() != '/')
    base += '/';
  return base + relative;
}

std::vector<std::string>
cgroup_layout::hierarchies(const std::vector<std::string>& controllers) const {
  std::set<std::string> mounts;
  for (auto& controller : controllers)
    if (auto mount = mount_point(controller))
      mounts.insert(*mount);
  return {mounts.begin(), mounts.end()};
}

std::vector<std::string> cgroup_layout::directories(const std::vector<std::string>& controllers,
                                                    const std::string& cgroup) const {
  std::vector<std::string> result;
  auto relative = trim_slashes(cgroup);
  for (auto& mount : hierarchies(controllers)) {
    if (relative.empty())
      result.push_back(mount);
    else
      result.push_back(mount + (mount.back() == '/' ? "" : "/") + relative);
  }
  return result;
}

} // namespace troupe::isolation
