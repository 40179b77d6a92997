// The POSIX launcher: starts a container's main process with posix_spawn as the leader of a
// new process group, signals that group, and reaps the process. Synchronous and stateless;
// the containerizer actor owns the bookkeeping. Only ever touches the pids it is given.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>

#include <caf/expected.hpp>

#include "troupe/isolation/containerizer.hpp"

namespace troupe::isolation {

/// The wait status reported when a process ended but its real status cannot be known (it was
/// reaped by someone else). None of WIFEXITED/WIFSIGNALED/WIFSTOPPED holds for it.
constexpr int unknown_wait_status = -1;

class posix_launcher {
public:
  /// Creates the sandbox (with parents), opens sandbox/stdout and sandbox/stderr for
  /// appending and starts the command in the sandbox as the leader of its own process group,
  /// with default signal dispositions, an empty signal mask, stdin from /dev/null, no other
  /// inherited descriptors, and the agent's environment plus `req.environment` plus
  /// `req.command.environment` (later wins). Returns the pid (= the process group id).
  /// Errors: errc::invalid_argument (empty value or sandbox, bad variable name, another
  /// user), errc::not_found (ENOENT: the program, named in the text, does not exist),
  /// errc::io_error (anything else, with the errno text). On error no process exists.
  caf::expected<pid_t> launch(const launch_request& req) const;

  /// Sends `sig` to the process group led by `pid`. False when the group no longer exists
  /// (or pid <= 1, which would address far more than one container).
  bool signal_group(pid_t pid, int sig) const;

  /// Polls `pid` without blocking: nullopt while it runs. Once it has ended, SIGKILLs the rest
  /// of its process group first — while the zombie still pins the group id, so the id cannot
  /// name a recycled group — then reaps it and returns the raw wait status. Returns
  /// unknown_wait_status when `pid` is not (or no longer) our child.
  std::optional<int> try_reap(pid_t pid) const;

  /// SIGKILLs the process group of `pid` and waits up to `timeout` for the main process to
  /// end, then reaps it as try_reap does. Nullopt if it is still there after `timeout` (a
  /// process stuck in uninterruptible sleep): the caller gives up on it rather than hang.
  std::optional<int> kill_and_reap(pid_t pid, std::chrono::milliseconds timeout) const;

  /// Whether `pid` names a live process that is not a zombie (for processes that are not our
  /// children, e.g. adopted after an agent restart).
  bool alive(pid_t pid) const;
};

/// Human text for a raw wait status: "exited with status 3", "killed by signal 9 (Killed)",
/// "killed by signal 11 (Segmentation fault), core dumped", "ended with unknown status".
std::string describe_wait_status(int wait_status);

} // namespace troupe::isolation
