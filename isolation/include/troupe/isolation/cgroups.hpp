// The cgroups of containers: create them with limits, place processes in them, read their
// usage, tell an OOM kill, and destroy them with everything inside. Synchronous and blocking
// (file I/O on cgroupfs, short sleeps while a destroy waits): call it from a detached actor or
// another thread of its own, never from CAF's shared workers.
//
// Layout: every container is the cgroup `<root>/<container>` in each hierarchy troupe uses
// (v1: cpu, cpuacct, memory, pids, freezer — one directory per hierarchy, so four when cpu
// and cpuacct are co-mounted; v2: one directory under the unified mount). `<root>` is a
// relative path such as "troupe" or "troupe/<agent-id>", created on demand, directly under
// each hierarchy's mount point. See isolation/README.md ("cgroups").
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "troupe/isolation/cgroup_layout.hpp"

namespace troupe::isolation {

/// The limits of one container.
struct cgroup_limits {
  /// CPU weight: cpu.shares = 1024 × cpus (at least 2) on v1; cpu.weight = 100 × cpus
  /// (1..10000; 100 is the kernel's default for one group) on v2. Must be > 0.
  double cpus = 0;
  /// Hard CPU cap in CPUs (CFS bandwidth): quota = cpus × period with a 100 ms period (at
  /// least 1 ms of quota, the kernel's minimum). Unset: no cap. Must be > 0 when set.
  std::optional<double> cfs_quota_cpus;
  /// Memory hard limit in bytes (v1 memory.limit_in_bytes, v2 memory.max); swap is disabled
  /// where the kernel accounts it (v1 memory.memsw.limit_in_bytes = the same value, v2
  /// memory.swap.max = 0). Must be > 0.
  uint64_t memory_bytes = 0;
  /// pids.max: processes and threads together, zombies included. Unset: no limit.
  std::optional<uint64_t> pids_max;
};

/// What a container used so far, read straight from its cgroup files.
struct container_usage {
  double cpu_user_seconds = 0;      ///< v1 cpuacct.stat user; v2 cpu.stat user_usec
  double cpu_system_seconds = 0;    ///< v1 cpuacct.stat system; v2 cpu.stat system_usec
  uint64_t cpu_nr_periods = 0;      ///< CFS periods elapsed while a quota was set
  uint64_t cpu_nr_throttled = 0;    ///< periods in which the quota ran out
  double cpu_throttled_seconds = 0; ///< total time throttled
  uint64_t memory_current_bytes = 0; ///< v1 memory.usage_in_bytes; v2 memory.current
  /// Highest memory usage: v1 memory.max_usage_in_bytes; v2 memory.peak (nullopt on kernels
  /// before 5.19, which lack it).
  std::optional<uint64_t> memory_peak_bytes;
  /// The memory limit in force (nullopt: unlimited).
  std::optional<uint64_t> memory_limit_bytes;
  uint64_t pids_current = 0; ///< pids.current (zombies not yet reaped included)
};

/// Not thread-safe: one owner (the containerizer's detached actor) calls it. Different
/// managers (other root names) may work side by side in one process.
class cgroup_manager {
public:
  /// The v1 controllers a container lives in (freezer: for kills; cpuacct: for CPU time).
  static const std::vector<std::string>& v1_controllers();

  /// The v2 controllers a container needs enabled (freezing and killing are core v2
  /// features: cgroup.freeze, cgroup.kill).
  static const std::vector<std::string>& v2_controllers();

  /// A manager for `layout` that keeps containers under `root_name` (see the file comment).
  /// Checks nothing: detect() is the capability check; tests may pass fixture layouts.
  cgroup_manager(cgroup_layout layout, std::string root_name);

  /// The capability check: euid 0; a cgroup filesystem; the needed controllers (v1: cpu,
  /// cpuacct, memory, pids, freezer mounted; v2: cpu, memory, pids in the unified mount's
  /// cgroup.controllers); on v1 a working libcgroup (cgroup_init); a trial create + destroy
  /// of `<root_name>/.probe-<pid>` with limits, leaving nothing behind (the root too is
  /// removed when the trial created it). errc::unavailable with a text saying exactly what is
  /// missing ("cgroups need root (euid 1000)", "cgroup v1 controllers not mounted: pids",
  /// "trial cgroup failed: ..."), so the agent can log it and fall back to POSIX isolation;
  /// errc::invalid_argument for a malformed root name.
  static caf::expected<cgroup_manager> detect(std::string root_name);

  /// The layout this manager uses.
  const cgroup_layout& layout() const {
    return layout_;
  }

  /// v1 or v2 (the layout's).
  cgroup_version version() const {
    return layout_.version();
  }

  /// The root name given at construction ("troupe", "troupe/agent-1").
  const std::string& root_name() const {
    return root_;
  }

  /// The cgroup path of `container` relative to each mount point: root_name()/container.
  std::string cgroup_name(const std::string& container) const;

  /// The directories of `container`, one per hierarchy used (see the file comment), sorted.
  /// They need not exist.
  std::vector<std::string> directories(const std::string& container) const;

  /// Creates the container's cgroup in every hierarchy and applies `limits` (see
  /// cgroup_limits); creates the root on demand (on v2 also enables cpu, memory and pids in
  /// the parents' cgroup.subtree_control). Errors: errc::invalid_argument (bad name: it must
  /// be non-empty, of [A-Za-z0-9._-], not "." or ".."; cpus, memory_bytes or a quota not
  /// > 0), errc::already_exists (a directory of it exists in some hierarchy; nothing is
  /// touched), errc::io_error (the kernel refused a directory or a value; the text names the
  /// file and the errno text). On error nothing of the container remains.
  caf::error create(const std::string& container, const cgroup_limits& limits);

  /// Applies new limits to an existing container (cpu, quota — unset removes the cap —,
  /// memory, pids), in the order create() uses. errc::not_found when it does not exist;
  /// errc::io_error when the kernel refuses a value (e.g. a memory limit below the current
  /// usage on v1); values written before the failing one stay.
  caf::error update(const std::string& container, const cgroup_limits& limits);

  /// The cgroup.procs files of the container, one per hierarchy (v1) or one (v2): writing a
  /// pid into each places that process (what the handshake launcher does before exec).
  std::vector<std::string> procs_files(const std::string& container) const;

  /// Moves process `pid` (all its threads) into the container in every hierarchy.
  /// errc::not_found when the container does not exist; errc::io_error naming the file
  /// (ESRCH: no such process).
  caf::error attach(const std::string& container, pid_t pid);

  /// The processes in the container and its descendant cgroups, in every hierarchy, sorted
  /// and unique (zombies are no longer listed once they exited). Empty when it does not exist.
  std::vector<pid_t> pids(const std::string& container) const;

  /// Whether a directory of the container exists in some hierarchy.
  bool exists(const std::string& container) const;

  /// CPU, memory, pids and throttling figures, read directly from the cgroup files (a
  /// handful of read()s; libcgroup's cgroup_get_cgroup would read every file, ≈3–4 ms).
  /// errc::not_found when the container does not exist; errc::io_error when a file cannot
  /// be read or parsed.
  caf::expected<container_usage> usage(const std::string& container) const;

  /// Whether the kernel's OOM killer killed a process of the container: the oom_kill counter
  /// of v1 memory.oom_control or v2 memory.events is > 0 (memory.failcnt > 0 alone only
  /// means the limit was reached). errc::not_found / errc::io_error as usage().
  caf::expected<bool> oom_killed(const std::string& container) const;

  /// Kills everything in the container and removes its cgroups, depth-first, in every
  /// hierarchy. v1: freeze (freezer.state FROZEN, so nothing forks meanwhile), SIGKILL every
  /// pid, thaw, wait until no live process is left (zombies count as gone: reaping them is
  /// their parents' business), rmdir. v2: write 1 to cgroup.kill (or freeze/kill/thaw on
  /// kernels before 5.14), wait, rmdir. Idempotent: a container that does not exist (in some
  /// or all hierarchies) is success. errc::timeout when processes or directories remain after
  /// `timeout` (the text lists them; a process in uninterruptible sleep can do that), never
  /// leaving the group frozen; errc::io_error when the kernel refuses a write or an rmdir.
  caf::error destroy(const std::string& container, std::chrono::milliseconds timeout);

  /// The containers that exist under the root (in any hierarchy), sorted: after an agent
  /// restart, those not in its checkpoint are orphans to destroy.
  std::vector<std::string> list() const;

  /// Removes the root's directories, then its parents that became empty (for "troupe/a":
  /// also "troupe" unless another agent still uses it); on v2 also disables the controllers
  /// this manager enabled in the hierarchy root's cgroup.subtree_control. Success when
  /// nothing is there. errc::io_error when the root still holds containers (named) or an
  /// rmdir fails otherwise.
  caf::error cleanup_root();

private:
  // The controllers used in this layout's version.
  const std::vector<std::string>& controllers() const;
  caf::error check_name(const std::string& container) const;
  caf::error write_limits(const std::string& container, const cgroup_limits& limits,
                          bool creating);
  caf::error make_directories(const std::string& container);
  caf::error prepare_v2_parents();
  void remove_leaf(const std::string& container);
  caf::error kill_all(const std::string& container, std::chrono::steady_clock::time_point deadline);

  cgroup_layout layout_;
  std::string root_;
  // v2: controllers this manager enabled in the hierarchy root's cgroup.subtree_control,
  // disabled again by cleanup_root() ("restore what you change", notes/infra.md).
  std::set<std::string> enabled_at_top_;
};

} // namespace troupe::isolation
