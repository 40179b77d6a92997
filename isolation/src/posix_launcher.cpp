#include "troupe/isolation/posix_launcher.hpp"

#include <fstream>
#include <iterator>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include "troupe/messages/errc.hpp"

#include "launch_common.hpp"

namespace troupe::isolation {

namespace {

using detail::errno_text;

// posix_spawn's attribute and file-action objects, destroyed on every path.
class spawn_setup {
public:
  spawn_setup() {
    posix_spawnattr_init(&attr_);
    posix_spawn_file_actions_init(&actions_);
  }
  ~spawn_setup() {
    posix_spawn_file_actions_destroy(&actions_);
    posix_spawnattr_destroy(&attr_);
  }
  spawn_setup(const spawn_setup&) = delete;
  spawn_setup& operator=(const spawn_setup&) = delete;

  /// Remembers the first failing step (the functions return an errno value, 0 = ok).
  void check(int rc) {
    if (rc != 0 && first_error_ == 0)
      first_error_ = rc;
  }
  int first_error() const {
    return first_error_;
  }
  posix_spawnattr_t* attr() {
    return &attr_;
  }
  posix_spawn_file_actions_t* actions() {
    return &actions_;
  }

private:
  posix_spawnattr_t attr_;
  posix_spawn_file_actions_t actions_;
  int first_error_ = 0;
};

// The POSIX launcher runs everything as the agent's user; pretending otherwise would run a
// task with more (or other) rights than its framework asked for.
caf::error check_user(const v1::CommandInfo& cmd) {
  if (cmd.user().empty())
    return caf::none;
  auto me = detail::effective_user_name();
  if (!me)
    return std::move(me.error());
  if (*me == cmd.user())
    return caf::none;
  return make_error(errc::invalid_argument, "cannot run as user '" + cmd.user()
                                              + "': the POSIX launcher runs every container as '"
                                              + *me + "'");
}

} // namespace

caf::expected<pid_t> posix_launcher::launch(const launch_request& req) const {
  const auto& cmd = req.command;
  auto line = detail::make_command_line(cmd);
  if (!line)
    return std::move(line.error());
  if (auto err = check_user(cmd))
    return err;
  auto env = detail::build_environment(req);
  if (!env)
    return std::move(env.error());
  if (auto err = detail::make_sandbox(req.sandbox))
    return err;
  auto out_fd = detail::open_output(req.sandbox + "/stdout");
  if (!out_fd)
    return std::move(out_fd.error());
  auto err_fd = detail::open_output(req.sandbox + "/stderr");
  if (!err_fd)
    return std::move(err_fd.error());
  const std::string& program = line->program;

  spawn_setup setup;
  // The child leads a new process group (so the whole container can be signalled at once)
  // and starts with default dispositions and nothing blocked: a mask or an ignored signal
  // (SIGPIPE, say) of the calling agent thread would otherwise survive exec.
  sigset_t all;
  sigset_t none;
  sigfillset(&all);
  sigemptyset(&none);
  setup.check(posix_spawnattr_setflags(setup.attr(), POSIX_SPAWN_SETPGROUP
                                                       | POSIX_SPAWN_SETSIGMASK
                                                       | POSIX_SPAWN_SETSIGDEF));
  setup.check(posix_spawnattr_setpgroup(setup.attr(), 0));
  setup.check(posix_spawnattr_setsigmask(setup.attr(), &none));
  setup.check(posix_spawnattr_setsigdefault(setup.attr(), &all));
  auto* actions = setup.actions();
  setup.check(posix_spawn_file_actions_addopen(actions, 0, "/dev/null", O_RDONLY, 0));
  setup.check(posix_spawn_file_actions_adddup2(actions, out_fd->get(), 1));
  setup.check(posix_spawn_file_actions_adddup2(actions, err_fd->get(), 2));
  setup.check(posix_spawn_file_actions_addchdir_np(actions, req.sandbox.c_str()));
  // Sockets and files of the agent that lack O_CLOEXEC must not leak into tasks.
  setup.check(posix_spawn_file_actions_addclosefrom_np(actions, 3));
  if (setup.first_error() != 0)
    return make_error(errc::io_error, "cannot prepare posix_spawn for '" + program
                                        + "': " + errno_text(setup.first_error()));

  auto args = detail::c_strings(line->argv);
  auto envp = detail::c_strings(*env);
  pid_t pid = -1;
  // glibc's posix_spawn runs the child on a CLONE_VFORK stack and returns exec's errno, so a
  // missing or non-executable program is reported here rather than as exit status 127.
  int rc = cmd.shell() ? ::posix_spawn(&pid, program.c_str(), actions, setup.attr(),
                                       args.data(), envp.data())
                       : ::posix_spawnp(&pid, program.c_str(), actions, setup.attr(),
                                        args.data(), envp.data());
  if (rc != 0)
    return make_error(rc == ENOENT ? errc::not_found : errc::io_error,
                      "cannot execute '" + program + "': " + errno_text(rc));
  return pid;
}

bool posix_launcher::signal_group(pid_t pid, int sig) const {
  if (pid <= 1)
    return false;
  return ::kill(-pid, sig) == 0;
}

std::optional<int> posix_launcher::try_reap(pid_t pid) const {
  if (pid <= 1)
    return unknown_wait_status;
  siginfo_t info;
  std::memset(&info, 0, sizeof(info));
  int rc;
  do {
    rc = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT);
  } while (rc == -1 && errno == EINTR);
  if (rc == -1)
    return unknown_wait_status; // ECHILD: not our child, or reaped elsewhere
  if (info.si_pid == 0)
    return std::nullopt; // still running
  // The zombie keeps the group id reserved until it is reaped: kill the group now.
  signal_group(pid, SIGKILL);
  return detail::reap_child(pid);
}

std::optional<int> posix_launcher::kill_and_reap(pid_t pid,
                                                 std::chrono::milliseconds timeout) const {
  signal_group(pid, SIGKILL);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto status = try_reap(pid))
      return status;
    if (std::chrono::steady_clock::now() >= deadline)
      return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
}

bool posix_launcher::alive(pid_t pid) const {
  if (pid <= 1 || ::kill(pid, 0) != 0)
    return false;
  // A zombie answers kill(pid, 0); its state letter follows the ')' closing the command name.
  std::ifstream stat{"/proc/" + std::to_string(pid) + "/stat"};
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');
  return close == std::string::npos || close + 2 >= text.size() || text[close + 2] != 'Z';
}

std::string describe_wait_status(int wait_status) {
  if (wait_status == unknown_wait_status)
    return "ended with unknown status";
  if (WIFEXITED(wait_status))
    return "exited with status " + std::to_string(WEXITSTATUS(wait_status));
  auto signal_text = [](int sig) {
    const char* descr = ::sigdescr_np(sig);
    return "signal " + std::to_string(sig) + " (" + (descr ? descr : "unknown signal") + ")";
  };
  if (WIFSIGNALED(wait_status)) {
    auto text = "killed by " + signal_text(WTERMSIG(wait_status));
    if (WCOREDUMP(wait_status))
      text += ", core dumped";
    return text;
  }
  if (WIFSTOPPED(wait_status))
    return "stopped by " + signal_text(WSTOPSIG(wait_status));
  return "ended with wait status " + std::to_string(wait_status);
}

} // namespace troupe::isolation
