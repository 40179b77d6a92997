// What the POSIX launcher and the handshake launcher share: the command line, the
// environment, the sandbox and its output files, descriptors, reaping. Private to isolation/
// (not under include/). Everything here allocates or may block, so it runs before any fork.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "troupe/isolation/containerizer.hpp"

namespace troupe::isolation::detail {

/// The errno text; thread-safe (strerror_r underneath, unlike strerror).
std::string errno_text(int err);

/// Owns a descriptor: closes it on every path out of a launch.
class unique_fd {
public:
  unique_fd() = default;
  explicit unique_fd(int fd) : fd_(fd) {
  }
  ~unique_fd() {
    reset();
  }
  unique_fd(unique_fd&& other) noexcept : fd_(other.release()) {
  }
  unique_fd& operator=(unique_fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = other.release();
    }
    return *this;
  }
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;

  int get() const {
    return fd_;
  }
  /// Gives up ownership without closing.
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  /// Closes now (no-op when empty).
  void reset();

private:
  int fd_ = -1;
};

/// What to exec: `program` (a path, or a name to search in PATH when `search_path`) and its
/// argv. shell = true: /bin/sh -c value; otherwise value with `arguments` (empty = {value}).
struct command_line {
  std::string program;
  std::vector<std::string> argv;
  bool search_path = false; ///< true for a non-shell program without '/'
};

/// The command line of `cmd`; errc::invalid_argument when its value is empty.
caf::expected<command_line> make_command_line(const v1::CommandInfo& cmd);

/// The name of the effective user (errc::io_error when the lookup fails).
caf::expected<std::string> effective_user_name();

/// The agent's environment, then `req.environment`, then `req.command.environment` (later
/// wins), as NAME=value entries. errc::invalid_argument for an empty name or one with '='.
caf::expected<std::vector<std::string>> build_environment(const launch_request& req);

/// Creates `sandbox` with its parents. errc::invalid_argument when empty, errc::io_error
/// when it cannot be created or is not a directory.
caf::error make_sandbox(const std::string& sandbox);

/// Opens `path` for appending (created 0644, O_CLOEXEC). errc::io_error naming it.
caf::expected<unique_fd> open_output(const std::string& path);

/// Pointers into `xs`, null-terminated, for argv/envp (valid while `xs` is unchanged).
std::vector<char*> c_strings(std::vector<std::string>& xs);

/// waitpid for a child that has ended or is about to (retries on EINTR); the raw status, or
/// unknown_wait_status when `pid` is not (or no longer) our child.
int reap_child(pid_t pid);

} // namespace troupe::isolation::detail
