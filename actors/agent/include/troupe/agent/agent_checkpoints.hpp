// What an agent writes under <work_dir>/meta so that a restarted agent (same work dir) keeps
// its tasks: its own ID and info, each framework, each executor with its container and pid,
// and each task with its latest state. Every file is a protobuf message written whole to a
// temporary file and renamed over the old one, so a crash leaves the old or the new version,
// never half of one. (Status updates have their own log: status_update_log.)
//
//   meta/agent.pb                                       internal::AgentCheckpoint
//   meta/frameworks/<fw>/framework.pb                   internal::FrameworkCheckpoint
//   meta/frameworks/<fw>/executors/<ex>/executor.pb     internal::ExecutorCheckpoint
//   meta/frameworks/<fw>/executors/<ex>/tasks/<t>.pb    internal::TaskCheckpoint
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <caf/error.hpp>

#include "troupe/messages/internal.hpp"
#include "troupe/messages/proto.hpp"

namespace troupe::agent {

struct recovered_executor {
  internal::ExecutorCheckpoint executor;
  std::vector<internal::TaskCheckpoint> tasks;
};

struct recovered_framework {
  internal::FrameworkCheckpoint framework;
  std::vector<recovered_executor> executors;
};

struct recovered_agent {
  std::optional<internal::AgentCheckpoint> agent; ///< absent on a first start
  std::vector<recovered_framework> frameworks;
  std::vector<std::string> problems;              ///< unreadable files, skipped (for the log)
};

class agent_checkpoints {
public:
  /// `meta_dir` is <work_dir>/meta.
  explicit agent_checkpoints(std::string meta_dir);

  caf::error write_agent(const internal::AgentCheckpoint& x) const;
  caf::error write_framework(const internal::FrameworkCheckpoint& x) const;
  caf::error write_executor(const v1::FrameworkID& fw, const internal::ExecutorCheckpoint& x) const;
  caf::error write_task(const v1::FrameworkID& fw, const v1::ExecutorID& ex,
                        const internal::TaskCheckpoint& x) const;
  /// Removes an executor's directory (its tasks ended and were acknowledged, or it is gone).
  void remove_executor(const v1::FrameworkID& fw, const v1::ExecutorID& ex) const;
  /// Removes a framework's directory.
  void remove_framework(const v1::FrameworkID& fw) const;
  /// Reads everything back. Unreadable files are reported in `problems` and skipped.
  recovered_agent recover() const;

private:
  std::string framework_dir(const v1::FrameworkID& fw) const;
  std::string executor_dir(const v1::FrameworkID& fw, const v1::ExecutorID& ex) const;

  std::string dir_;
};

/// This boot's ID (/proc/sys/kernel/random/boot_id): containers do not survive a reboot.
std::string current_boot_id();

} // namespace troupe::agent
