// The isolator interface (DESIGN.md §7): what one kind of isolation does for a container around
// the launcher. The containerizer actor runs its isolators in order: prepare before the launch
// (they return the files the launcher writes the child's pid into before it may exec, e.g.
// cgroup.procs), limitation and usage while and after it runs, cleanup at the end. Every method
// is synchronous and may block briefly (the containerizer runs detached); none is called
// concurrently.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <sys/types.h>

#include "troupe/messages/proto.hpp"

namespace troupe::isolation {

/// What a container may use (0 = no limit of that kind).
struct container_limits {
  double cpus = 0;                 ///< CPU share: cpu.shares = 1024 × cpus
  uint64_t mem_bytes = 0;          ///< hard memory limit
};

/// A limit the kernel enforced on a container (it was killed for it).
struct limitation {
  v1::TaskStatus::Reason reason = v1::TaskStatus::REASON_UNKNOWN;
  std::string message;             ///< e.g. "memory limit 64 MiB exceeded (peak 64 MiB)"
};

class isolator {
public:
  virtual ~isolator();

  /// "cgroups", "posix": what the agent advertises as its isolation.
  virtual std::string name() const = 0;

  /// Creates what `container` needs with `limits`. Returns the files the launcher must write
  /// the child's pid into before the child execs (empty: none). On error nothing stays behind.
  virtual caf::expected<std::vector<std::string>> prepare(const std::string& container,
                                                          const container_limits& limits) = 0;

  /// Changes the limits of a running container.
  virtual caf::error update(const std::string& container, const container_limits& limits) = 0;

  /// What the container uses now; `pid` is its main process. Fills the fields it can.
  virtual caf::error usage(const std::string& container, pid_t pid,
                           v1::ResourceStatistics& out) const = 0;

  /// After the main process ended: the limit that ended it, if any.
  virtual std::optional<limitation> limitation_of(const std::string& container) const = 0;

  /// Kills whatever still runs in the container and removes what prepare created. Idempotent.
  virtual caf::error cleanup(const std::string& container) = 0;

  /// Containers this isolator holds that are not in `keep` (left by a previous agent run):
  /// the containerizer cleans them up at recovery.
  virtual std::vector<std::string> orphans(const std::vector<std::string>& keep) const = 0;
};

} // namespace troupe::isolation
