// The cgroups isolator: each container in its own cgroup (cpu shares and optional CFS quota,
// memory hard limit, pids limit, freezer for kills) through cgroup_manager. The launcher puts
// the child into the cgroups before it execs (prepare returns the cgroup.procs files).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "troupe/isolation/cgroups.hpp"
#include "troupe/isolation/isolator.hpp"

namespace troupe::isolation {

struct cgroups_isolator_config {
  std::string root = "troupe";          ///< cgroup root of this agent, e.g. "troupe/agent-1a2b"
  bool cfs_quota = false;               ///< hard CPU cap at the task's cpus (else shares only)
  std::optional<uint64_t> pids_max;     ///< per-container pids limit
  std::chrono::milliseconds destroy_timeout{5000}; ///< give up on a stuck kill after this
};

class cgroups_isolator : public isolator {
public:
  /// The capability check (root, controllers, a trial cgroup); the error says what is missing.
  static caf::expected<std::unique_ptr<cgroups_isolator>> make(cgroups_isolator_config cfg);

  cgroups_isolator(cgroup_manager cgroups, cgroups_isolator_config cfg);

  /// Removes the (then empty) root when the last container is gone: an agent that stopped
  /// cleanly leaves no cgroup behind.
  ~cgroups_isolator() override;

  std::string name() const override;
  caf::expected<std::vector<std::string>> prepare(const std::string& container,
                                                  const container_limits& limits) override;
  caf::error update(const std::string& container, const container_limits& limits) override;
  caf::error usage(const std::string& container, pid_t pid,
                   v1::ResourceStatistics& out) const override;
  std::optional<limitation> limitation_of(const std::string& container) const override;
  caf::error cleanup(const std::string& container) override;
  std::vector<std::string> orphans(const std::vector<std::string>& keep) const override;

private:
  cgroup_limits to_cgroup(const container_limits& limits) const;

  cgroup_manager cgroups_;
  cgroups_isolator_config cfg_;
};

} // namespace troupe::isolation
