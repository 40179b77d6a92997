// The handshake launcher: starts a container's main process with fork and a pipe handshake,
// so the process is placed in its cgroups before it runs a single instruction of the task:
// the child blocks on a pipe, the parent writes the child's pid into every cgroup.procs file
// it was given, then releases the child, which execs. Between fork and exec the child makes
// only async-signal-safe calls (the agent is multithreaded). Signalling and reaping are the
// POSIX launcher's. Synchronous and stateless; only ever touches the pids it is given.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "troupe/isolation/containerizer.hpp"
#include "troupe/isolation/posix_launcher.hpp"

namespace troupe::isolation {

class handshake_launcher {
public:
  /// Starts `req.command` as posix_launcher::launch does (sandbox created with parents,
  /// stdout/stderr appended there, stdin /dev/null, own process group, default signal
  /// dispositions, empty mask, no descriptors beyond 0-2, the agent's environment plus
  /// `req.environment` plus `req.command.environment`, later wins), and in addition:
  /// - writes the child's pid into each of `procs_files` (cgroup.procs or tasks files)
  ///   before the child may exec, so the task starts inside those cgroups;
  /// - runs the task as `req.command.user()` when that is set and is not the agent's own
  ///   user: uid, primary gid and supplementary groups of that user; the sandbox directory
  ///   and its stdout/stderr are chowned to the user first. Needs an agent running as root.
  /// Returns the pid (= the process group id) once the program was exec'd.
  /// Errors: errc::invalid_argument (empty value or sandbox, bad variable name, unknown
  /// user, another user while the agent is not root), errc::not_found (ENOENT: the program,
  /// named in the text, does not exist or is not in PATH), errc::io_error (a procs file that
  /// cannot be opened or written, named in the text; fork, sandbox, credential or exec
  /// failures, with the errno text). On error no process exists: a child that was forked is
  /// SIGKILLed (if needed) and reaped before this returns.
  caf::expected<pid_t> launch(const launch_request& req,
                              const std::vector<std::string>& procs_files) const;

  /// posix_launcher::signal_group: `sig` to the process group led by `pid`.
  bool signal_group(pid_t pid, int sig) const {
    return posix_.signal_group(pid, sig);
  }

  /// posix_launcher::try_reap: nullopt while `pid` runs; once it ended, SIGKILLs the rest of
  /// its group, reaps it and returns the raw wait status (unknown_wait_status if not ours).
  /// Describe the status with describe_wait_status (posix_launcher.hpp).
  std::optional<int> try_reap(pid_t pid) const {
    return posix_.try_reap(pid);
  }

  /// posix_launcher::kill_and_reap: SIGKILL the group of `pid`, reap within `timeout`.
  std::optional<int> kill_and_reap(pid_t pid, std::chrono::milliseconds timeout) const {
    return posix_.kill_and_reap(pid, timeout);
  }

private:
  posix_launcher posix_;
};

} // namespace troupe::isolation
