// A real child process for integration tests: started with posix_spawn, stopped on every exit
// path (SIGKILL in the destructor if still running), only ever signalled by its own pid.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace troupe::test {

class child_process {
public:
  /// Starts `argv[0]` with `argv`; stdout/stderr go to `log_file` when given (appended to
  /// with `append`, e.g. for a restarted node, else truncated).
  explicit child_process(std::vector<std::string> argv, std::string log_file = {},
                         bool append = false);
  ~child_process();

  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  /// The child's process id.
  pid_t pid() const {
    return pid_;
  }

  /// True while the child has not exited (polls waitpid without blocking).
  bool running();

  /// Sends `sig` to the child (no-op once it was reaped).
  void signal(int sig);

  /// Waits up to `timeout` for the child to exit; returns its wait status.
  std::optional<int> wait_for(std::chrono::milliseconds timeout);

private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

/// Polls `path` until it holds a number (e.g. a port) or `timeout` passes.
std::optional<unsigned long> read_number_file(const std::string& path,
                                              std::chrono::milliseconds timeout);

/// A process as /proc shows it.
struct process_entry {
  pid_t pid = 0;
  pid_t ppid = 0;
  char state = 0; ///< 'R', 'S', 'Z', ...
};

/// Every process that could be read from /proc (processes vanish while it reads).
std::vector<process_entry> list_processes();

/// The pids whose parent is `parent` (this process when 0), zombies included.
std::vector<pid_t> child_pids(pid_t parent = 0);

/// A fresh temporary path under $TMPDIR (not created).
std::string temp_path(const std::string& stem);

} // namespace troupe::test
