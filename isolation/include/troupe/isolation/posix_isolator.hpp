// The POSIX isolator: no limits (isolation "none"); the process group is the container, which
// the launcher already kills. Usage comes from /proc for the main process (its CPU time
// includes children it has reaped).
#pragma once

#include "troupe/isolation/isolator.hpp"

namespace troupe::isolation {

class posix_isolator : public isolator {
public:
  std::string name() const override;
  caf::expected<std::vector<std::string>> prepare(const std::string& container,
                                                  const container_limits& limits) override;
  caf::error update(const std::string& container, const container_limits& limits) override;
  caf::error usage(const std::string& container, pid_t pid,
                   v1::ResourceStatistics& out) const override;
  std::optional<limitation> limitation_of(const std::string& container) const override;
  caf::error cleanup(const std::string& container) override;
  std::vector<std::string> orphans(const std::vector<std::string>& keep) const override;
};

} // namespace troupe::isolation
