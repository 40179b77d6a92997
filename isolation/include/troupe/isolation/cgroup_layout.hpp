// Where the cgroup controllers are mounted, and so where a given cgroup's directory is in each
// of them. Pure path logic: parsed from the text of /proc/self/mountinfo (and, for cgroup v2,
// of the unified mount's cgroup.controllers), so it is unit-tested against fixture texts
// without root. Knows three shapes:
// - cgroup v1: one hierarchy per mount, each carrying one or more controllers ("cpu" and
//   "cpuacct" separate on these machines, co-mounted as "cpu,cpuacct" on most distros);
// - cgroup v2: one unified mount (pure v2: a normal Debian 12 host with systemd);
// - hybrid: v1 hierarchies plus a cgroup2 mount (here /sys/fs/cgroup/unified, holding no
//   controller we use). Treated as v1: the controllers troupe needs live in v1 hierarchies.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

namespace troupe::isolation {

/// Which cgroup interface the controllers are used through.
enum class cgroup_version {
  none, ///< no cgroup filesystem mounted
  v1,   ///< per-controller hierarchies (also hybrid layouts: v1 wins when it has controllers)
  v2,   ///< the unified hierarchy only
};

/// "none", "v1" or "v2".
const char* to_string(cgroup_version version);

class cgroup_layout {
public:
  /// An empty layout (version none).
  cgroup_layout() = default;

  /// Parses the text of /proc/self/mountinfo. cgroup (v1) mounts give controller → mount
  /// point (the first mount of a controller wins; named hierarchies such as name=systemd
  /// carry no controller and are ignored); the first cgroup2 mount is the unified mount,
  /// whose available controllers are the words of `v2_controllers` (the text of its
  /// cgroup.controllers file; empty when it has none or is absent). Mount points are
  /// unescaped (mountinfo writes a space as \040). Never fails: lines it cannot read are
  /// skipped; no cgroup mount at all gives version none.
  static cgroup_layout parse(std::string_view mountinfo, std::string_view v2_controllers = {});

  /// parse() on this process's /proc/self/mountinfo and the unified mount's
  /// cgroup.controllers. errc::io_error when /proc/self/mountinfo cannot be read.
  static caf::expected<cgroup_layout> from_system();

  /// v1 when any v1 hierarchy carries a controller (a hybrid layout is v1); else v2 when a
  /// cgroup2 mount exists; else none.
  cgroup_version version() const;

  /// True when v1 hierarchies and a cgroup2 mount coexist (this machine's shape).
  bool hybrid() const;

  /// v1 controllers and the mount point of the hierarchy carrying each, e.g.
  /// {"cpu", "/sys/fs/cgroup/cpu"}, or {"cpu", "/sys/fs/cgroup/cpu,cpuacct"} and
  /// {"cpuacct", "/sys/fs/cgroup/cpu,cpuacct"} when co-mounted.
  const std::map<std::string, std::string>& v1_mounts() const {
    return v1_mounts_;
  }

  /// The cgroup2 mount point ("" when there is none).
  const std::string& unified_mount() const {
    return unified_mount_;
  }

  /// The controllers available at the cgroup2 mount (from cgroup.controllers).
  const std::set<std::string>& unified_controllers() const {
    return unified_controllers_;
  }

  /// Whether `controller` can be used in this layout's version: v1: mounted in some
  /// hierarchy; v2: listed in the unified mount's cgroup.controllers; none: false.
  bool has_controller(const std::string& controller) const;

  /// Of `controllers`, those has_controller() rejects, in the given order.
  std::vector<std::string> missing(const std::vector<std::string>& controllers) const;

  /// The mount point through which `controller` is used: its v1 hierarchy, or the unified
  /// mount on v2. Nullopt when has_controller() is false.
  std::optional<std::string> mount_point(const std::string& controller) const;

  /// The directory of cgroup `cgroup` (a relative path such as "troupe/agent-1/c-7";
  /// leading and trailing '/' are ignored; "" is the hierarchy root) for `controller`:
  /// mount_point(controller) + "/" + cgroup. Nullopt when the controller is unavailable.
  std::optional<std::string> directory(const std::string& controller,
                                       const std::string& cgroup) const;

  /// The distinct hierarchies (mount points) carrying `controllers`, sorted: on v1 one per
  /// hierarchy (cpu and cpuacct give one entry when co-mounted, two when separate); on v2
  /// only the unified mount. Unavailable controllers are left out.
  std::vector<std::string> hierarchies(const std::vector<std::string>& controllers) const;

  /// directory() of `cgroup` in each of hierarchies(controllers), in the same order.
  std::vector<std::string> directories(const std::vector<std::string>& controllers,
                                       const std::string& cgroup) const;

private:
  std::map<std::string, std::string> v1_mounts_;
  std::string unified_mount_;
  std::set<std::string> unified_controllers_;
};

} // namespace troupe::isolation
