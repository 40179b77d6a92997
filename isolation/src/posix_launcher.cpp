#include "troupe/isolation/posix_launcher.hpp"

#include <fstream>
#include <iterator>

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <system_error>
#include <thread>
#include <vector>

#include "troupe/messages/errc.hpp"

extern char** environ;

namespace troupe::isolation {

namespace {

// strerror is not guaranteed thread-safe; the category message is (strerror_r underneath).
std::string errno_text(int err) {
  return std::generic_category().message(err);
}

// Closes a descriptor we opened, on every path out of launch().
class unique_fd {
public:
  explicit unique_fd(int fd) : fd_(fd) {
  }
  ~unique_fd() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  int get() const {
    return fd_;
  }

private:
  int fd_;
};

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

caf::expected<std::string> effective_user_name() {
  struct passwd pwd;
  struct passwd* found = nullptr;
  std::vector<char> buf(16384);
  auto rc = ::getpwuid_r(::geteuid(), &pwd, buf.data(), buf.size(), &found);
  if (rc != 0 || found == nullptr)
    return make_error(errc::io_error, "cannot look up the agent's user (uid "
                                        + std::to_string(::geteuid()) + ")");
  return std::string{found->pw_name};
}

// The POSIX launcher runs everything as the agent's user; pretending otherwise would run a
// task with more (or other) rights than its framework asked for.
caf::error check_user(const v1::CommandInfo& cmd) {
  if (cmd.user().empty())
    return caf::none;
  auto me = effective_user_name();
  if (!me)
    return std::move(me.error());
  if (*me == cmd.user())
    return caf::none;
  return make_error(errc::invalid_argument, "cannot run as user '" + cmd.user()
                                              + "': the POSIX launcher runs every container as '"
                                              + *me + "'");
}

// The agent's environment, then the request's variables, then the command's (later wins).
caf::expected<std::vector<std::string>> build_environment(const launch_request& req) {
  std::map<std::string, std::string> vars;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry{*e};
    auto eq = entry.find('=');
    if (eq != std::string::npos && eq > 0)
      vars[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  auto set = [&](const std::string& name, const std::string& value) -> caf::error {
    if (name.empty() || name.find('=') != std::string::npos)
      return make_error(errc::invalid_argument, "invalid environment variable name '" + name
                                                  + "'");
    vars[name] = value;
    return caf::none;
  };
  for (auto& [name, value] : req.environment)
    if (auto err = set(name, value))
      return err;
  for (auto& var : req.command.environment().variables())
    if (auto err = set(var.name(), var.value()))
      return err;
  std::vector<std::string> result;
  result.reserve(vars.size());
  for (auto& [name, value] : vars)
    result.push_back(name + "=" + value);
  return result;
}

caf::error make_sandbox(const std::string& sandbox) {
  if (sandbox.empty())
    return make_error(errc::invalid_argument, "empty sandbox path");
  std::error_code ec;
  std::filesystem::create_directories(sandbox, ec);
  if (ec)
    return make_error(errc::io_error, "cannot create sandbox " + sandbox + ": " + ec.message());
  if (!std::filesystem::is_directory(sandbox, ec))
    return make_error(errc::io_error, "sandbox " + sandbox + " is not a directory");
  return caf::none;
}

caf::expected<int> open_output(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0)
    return make_error(errc::io_error, "cannot open " + path + ": " + errno_text(errno));
  return fd;
}

std::vector<char*> c_strings(std::vector<std::string>& xs) {
  std::vector<char*> result;
  result.reserve(xs.size() + 1);
  for (auto& x : xs)
    result.push_back(x.data());
  result.push_back(nullptr);
  return result;
}

// Waits for a child that is known to have ended (waitid reported it), retrying on EINTR.
int reap_zombie(pid_t pid) {
  int status = 0;
  pid_t rc;
  do {
    rc = ::waitpid(pid, &status, 0);
  } while (rc == -1 && errno == EINTR);
  return rc == pid ? status : unknown_wait_status;
}

} // namespace

caf::expected<pid_t> posix_launcher::launch(const launch_request& req) const {
  const auto& cmd = req.command;
  if (cmd.value().empty())
    return make_error(errc::invalid_argument, "empty command");
  if (auto err = check_user(cmd))
    return err;
  auto env = build_environment(req);
  if (!env)
    return std::move(env.error());
  if (auto err = make_sandbox(req.sandbox))
    return err;
  auto out = open_output(req.sandbox + "/stdout");
  if (!out)
    return std::move(out.error());
  unique_fd out_fd{*out};
  auto err_out = open_output(req.sandbox + "/stderr");
  if (!err_out)
    return std::move(err_out.error());
  unique_fd err_fd{*err_out};

  std::string program;
  std::vector<std::string> argv;
  if (cmd.shell()) {
    program = "/bin/sh";
    argv = {"sh", "-c", cmd.value()};
  } else {
    program = cmd.value();
    argv.assign(cmd.arguments().begin(), cmd.arguments().end());
    if (argv.empty())
      argv.push_back(program);
  }

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
  setup.check(posix_spawn_file_actions_adddup2(actions, out_fd.get(), 1));
  setup.check(posix_spawn_file_actions_adddup2(actions, err_fd.get(), 2));
  setup.check(posix_spawn_file_actions_addchdir_np(actions, req.sandbox.c_str()));
  // Sockets and files of the agent that lack O_CLOEXEC must not leak into tasks.
  setup.check(posix_spawn_file_actions_addclosefrom_np(actions, 3));
  if (setup.first_error() != 0)
    return make_error(errc::io_error, "cannot prepare posix_spawn for '" + program
                                        + "': " + errno_text(setup.first_error()));

  auto args = c_strings(argv);
  auto envp = c_strings(*env);
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
  return reap_zombie(pid);
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
