#include "troupe/isolation/handshake_launcher.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include "troupe/messages/errc.hpp"

#include "launch_common.hpp"

namespace troupe::isolation {

namespace {

using detail::errno_text;
using detail::unique_fd;

// The steps of the child after the "go" that can fail; the child reports which one failed
// and its errno through the report pipe, then exits with 127.
enum child_step : int {
  step_stdio = 1,
  step_chdir,
  step_setgroups,
  step_setgid,
  step_setuid,
  step_exec,
};

// The credential system calls taking 32-bit ids (on 32-bit ABIs the plain ones take 16 bits).
#ifdef SYS_setgroups32
constexpr long sys_setgroups = SYS_setgroups32;
constexpr long sys_setgid = SYS_setgid32;
constexpr long sys_setuid = SYS_setuid32;
#else
constexpr long sys_setgroups = SYS_setgroups;
constexpr long sys_setgid = SYS_setgid;
constexpr long sys_setuid = SYS_setuid;
#endif

struct child_report {
  int step = 0;
  int err = 0;
};

// Who the task runs as, resolved before fork (getpwnam_r and getgrouplist allocate and may
// talk to NSS services: never in the child).
struct credentials {
  bool change = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
};

// Everything the child reads, prepared before fork: the child allocates nothing and calls
// only async-signal-safe functions and raw system calls.
struct child_plan {
  const char* program = nullptr;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  const char* sandbox = nullptr;
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  int go_fd = -1;     // read end: one byte 'g' releases the child; EOF means give up
  int report_fd = -1; // write end (O_CLOEXEC): a child_report on failure; EOF at exec
  bool switch_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
  const gid_t* groups = nullptr;
  size_t group_count = 0;
  int fd_limit = 0; // RLIMIT_NOFILE, for the close_range fallback
};

[[noreturn]] void child_fails(const child_plan& plan, int step) {
  child_report report;
  report.step = step;
  report.err = errno;
  // One write of 8 bytes (< PIPE_BUF) is atomic; if it fails the parent sees EOF and the
  // exit status 127 tells the rest.
  [[maybe_unused]] auto n = ::write(plan.report_fd, &report, sizeof(report));
  ::_exit(127);
}

// Marks every descriptor from 3 up close-on-exec, so nothing of the agent leaks into the
// task while the report pipe still works until exec. Raw system calls only.
void cloexec_from_3(const child_plan& plan) {
#if defined(SYS_close_range) && defined(CLOSE_RANGE_CLOEXEC)
  if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
    return;
#endif
  for (int fd = 3; fd < plan.fd_limit; ++fd)
    ::fcntl(fd, F_SETFD, FD_CLOEXEC); // EBADF for unused numbers: harmless
}

// Between fork and exec. The parent blocked every signal around fork, so no handler of the
// agent can run in this copy of it before the dispositions are reset.
[[noreturn]] void run_child(const child_plan& plan) {
  // Default dispositions: an ignored signal (SIGPIPE, say) would survive exec, a handler
  // would run agent code here. Fails harmlessly for SIGKILL, SIGSTOP and glibc's own.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig)
    ::sigaction(sig, &dfl, nullptr);
  // Its own process group, so the container can be signalled as a whole.
  ::setpgid(0, 0);
  // Wait until the parent placed us in the cgroups. EOF (the parent gave up) or anything
  // but "g": leave without running the task.
  char go = 0;
  ssize_t n;
  do {
    n = ::read(plan.go_fd, &go, 1);
  } while (n == -1 && errno == EINTR);
  if (n != 1 || go != 'g')
    ::_exit(127);
  if (::dup2(plan.stdin_fd, 0) < 0 || ::dup2(plan.stdout_fd, 1) < 0
      || ::dup2(plan.stderr_fd, 2) < 0)
    child_fails(plan, step_stdio);
  cloexec_from_3(plan);
  // Enter the sandbox while still privileged: its parents need not be searchable by the
  // task's user.
  if (::chdir(plan.sandbox) != 0)
    child_fails(plan, step_chdir);
  if (plan.switch_user) {
    // Raw system calls: glibc's set*id wrappers synchronise all threads of the process with
    // signals (not async-signal-safe); the child has one thread, so the raw call suffices.
    // Groups and gid first: after setuid we may no longer change them.
    if (::syscall(sys_setgroups, plan.group_count, plan.groups) != 0)
      child_fails(plan, step_setgroups);
    if (::syscall(sys_setgid, plan.gid) != 0)
      child_fails(plan, step_setgid);
    if (::syscall(sys_setuid, plan.uid) != 0)
      child_fails(plan, step_setuid);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execve(plan.program, plan.argv, plan.envp);
  child_fails(plan, step_exec);
}

caf::expected<credentials> resolve_user(const v1::CommandInfo& cmd) {
  credentials result;
  const auto& user = cmd.user();
  if (user.empty())
    return result;
  auto me = detail::effective_user_name();
  if (!me)
    return std::move(me.error());
  if (*me == user)
    return result;
  if (::geteuid() != 0)
    return make_error(errc::invalid_argument,
                      "cannot run as user '" + user + "': the agent is not root");
  struct passwd pwd;
  struct passwd* found = nullptr;
  std::vector<char> buf(16384);
  int rc;
  while ((rc = ::getpwnam_r(user.c_str(), &pwd, buf.data(), buf.size(), &found)) == ERANGE)
    buf.resize(buf.size() * 2);
  if (rc != 0)
    return make_error(errc::io_error,
                      "cannot look up user '" + user + "': " + errno_text(rc));
  if (found == nullptr)
    return make_error(errc::invalid_argument, "cannot run as user '" + user + "': no such user");
  result.change = true;
  result.uid = pwd.pw_uid;
  result.gid = pwd.pw_gid;
  int count = 32;
  for (;;) {
    result.groups.resize(static_cast<size_t>(count));
    int asked = count;
    if (::getgrouplist(pwd.pw_name, pwd.pw_gid, result.groups.data(), &count) >= 0) {
      result.groups.resize(static_cast<size_t>(count));
      break;
    }
    if (count <= asked) // no growth requested: a lookup failure rather than a small buffer
      return make_error(errc::io_error, "cannot list the groups of user '" + user + "'");
  }
  return result;
}

// execvp's search, done in the parent (it allocates): the first executable regular file
// named `name` in the agent's PATH. Relative PATH entries are made absolute, since the child
// changes into the sandbox before it execs.
caf::expected<std::string> search_path(const std::string& name) {
  std::string path;
  if (const char* env = std::getenv("PATH"))
    path = env;
  else
    path = "/bin:/usr/bin"; // glibc's default when PATH is unset
  bool denied = false;
  size_t begin = 0;
  for (;;) {
    auto end = path.find(':', begin);
    auto dir = path.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
    std::filesystem::path candidate = (dir.empty() ? std::string{"."} : dir) + "/" + name;
    std::error_code ec;
    candidate = std::filesystem::absolute(candidate, ec);
    struct stat st;
    if (!ec && ::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      if (::access(candidate.c_str(), X_OK) == 0)
        return candidate.string();
      denied = true;
    }
    if (end == std::string::npos)
      break;
    begin = end + 1;
  }
  if (denied)
    return make_error(errc::io_error,
                      "cannot execute '" + name + "': " + errno_text(EACCES));
  return make_error(errc::not_found, "cannot execute '" + name
                                       + "': " + errno_text(ENOENT) + " (searched PATH)");
}

// The child's stdio is set up with dup2 onto 0-2; a source descriptor among 0-2 (the agent
// closed its stdin, say) would be overwritten by an earlier dup2 or keep O_CLOEXEC.
caf::error move_above_stdio(unique_fd& fd) {
  if (fd.get() > 2)
    return caf::none;
  int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3);
  if (moved < 0)
    return make_error(errc::io_error, "cannot duplicate a descriptor: " + errno_text(errno));
  fd = unique_fd{moved};
  return caf::none;
}

caf::error make_pipe(unique_fd& read_end, unique_fd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    return make_error(errc::io_error, "cannot create a pipe: " + errno_text(errno));
  read_end = unique_fd{fds[0]};
  write_end = unique_fd{fds[1]};
  if (auto err = move_above_stdio(read_end))
    return err;
  return move_above_stdio(write_end);
}

// A child that must not run: SIGKILL works even while it blocks every signal.
void kill_child(pid_t pid) {
  ::kill(pid, SIGKILL);
  detail::reap_child(pid);
}

caf::error report_to_error(const child_report& report, const std::string& program,
                           const launch_request& req) {
  auto text = errno_text(report.err);
  switch (report.step) {
    case step_exec:
      return make_error(report.err == ENOENT ? errc::not_found : errc::io_error,
                        "cannot execute '" + program + "': " + text);
    case step_chdir:
      return make_error(errc::io_error, "cannot enter sandbox " + req.sandbox + ": " + text);
    case step_stdio:
      return make_error(errc::io_error, "cannot set up stdio for '" + program + "': " + text);
    default: {
      const char* call = report.step == step_setgroups ? "setgroups"
                         : report.step == step_setgid  ? "setgid"
                                                       : "setuid";
      return make_error(errc::io_error, "cannot switch to user '" + req.command.user() + "' ("
                                          + call + "): " + text);
    }
  }
}

// Opens every procs file before fork, so a missing cgroup costs no process.
caf::expected<std::vector<unique_fd>> open_procs_files(const std::vector<std::string>& files) {
  std::vector<unique_fd> result;
  result.reserve(files.size());
  for (auto& file : files) {
    unique_fd fd{::open(file.c_str(), O_WRONLY | O_CLOEXEC)};
    if (fd.get() < 0)
      return make_error(errc::io_error,
                        "cannot open cgroup file " + file + ": " + errno_text(errno));
    result.push_back(std::move(fd));
  }
  return result;
}

// fork with every signal blocked across it: the child starts with them blocked, so no
// handler of the agent runs in it before run_child resets the dispositions. Parent only.
pid_t fork_child(const child_plan& plan, int& fork_errno) {
  sigset_t all;
  sigset_t previous;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &previous);
  pid_t pid = ::fork();
  if (pid == 0)
    run_child(plan);
  fork_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return pid;
}

// Writes the pid into every procs file while the child waits on the go pipe, so it is in
// every cgroup before it execs. On failure the child is killed and reaped.
caf::error attach_child(pid_t pid, const std::vector<unique_fd>& procs,
                        const std::vector<std::string>& files) {
  auto pid_text = std::to_string(pid);
  for (size_t i = 0; i < procs.size(); ++i) {
    auto n = ::write(procs[i].get(), pid_text.data(), pid_text.size());
    if (n != static_cast<ssize_t>(pid_text.size())) {
      int err = n < 0 ? errno : EIO;
      kill_child(pid);
      return make_error(errc::io_error, "cannot attach process " + pid_text + " to cgroup file "
                                          + files[i] + ": " + errno_text(err));
    }
  }
  return caf::none;
}

// Reads the report pipe of a released child. EOF: the exec succeeded (O_CLOEXEC closed the
// child's end). A report: a step failed; the child is reaped and the error returned.
caf::error await_exec(pid_t pid, const unique_fd& report_read, const std::string& program,
                      const launch_request& req) {
  child_report report;
  size_t got = 0;
  auto* bytes = reinterpret_cast<char*>(&report);
  bool read_failed = false;
  while (got < sizeof(report)) {
    auto n = ::read(report_read.get(), bytes + got, sizeof(report) - got);
    if (n == -1 && errno == EINTR)
      continue;
    read_failed = n < 0;
    if (n <= 0)
      break;
    got += static_cast<size_t>(n);
  }
  if (got == 0 && !read_failed)
    return caf::none;
  if (got == sizeof(report)) {
    detail::reap_child(pid); // it exits with 127 right after writing the report
    return report_to_error(report, program, req);
  }
  kill_child(pid);
  return make_error(errc::io_error, "lost the launch report of '" + program + "'");
}

} // namespace

caf::expected<pid_t> handshake_launcher::launch(const launch_request& req,
                                                const std::vector<std::string>& procs_files) const {
  // Everything that allocates, looks things up or can fail in an interesting way happens
  // here, before fork.
  auto line = detail::make_command_line(req.command);
  if (!line)
    return std::move(line.error());
  auto user = resolve_user(req.command);
  if (!user)
    return std::move(user.error());
  auto env = detail::build_environment(req);
  if (!env)
    return std::move(env.error());
  std::string exec_path = line->program;
  if (line->search_path) {
    auto found = search_path(line->program);
    if (!found)
      return std::move(found.error());
    exec_path = std::move(*found);
  }
  if (auto err = detail::make_sandbox(req.sandbox))
    return err;
  auto out_fd = detail::open_output(req.sandbox + "/stdout");
  if (!out_fd)
    return std::move(out_fd.error());
  auto err_fd = detail::open_output(req.sandbox + "/stderr");
  if (!err_fd)
    return std::move(err_fd.error());
  unique_fd null_fd{::open("/dev/null", O_RDONLY | O_CLOEXEC)};
  if (null_fd.get() < 0)
    return make_error(errc::io_error, "cannot open /dev/null: " + errno_text(errno));
  for (auto* fd : {&*out_fd, &*err_fd, &null_fd})
    if (auto err = move_above_stdio(*fd))
      return err;
  if (user->change) {
    // The task writes into its working directory; it owns it (not its parents), as in Mesos.
    if (::chown(req.sandbox.c_str(), user->uid, user->gid) != 0
        || ::fchown(out_fd->get(), user->uid, user->gid) != 0
        || ::fchown(err_fd->get(), user->uid, user->gid) != 0)
      return make_error(errc::io_error, "cannot hand sandbox " + req.sandbox + " to user '"
                                          + req.command.user() + "': " + errno_text(errno));
  }
  auto procs = open_procs_files(procs_files);
  if (!procs)
    return std::move(procs.error());
  unique_fd go_read;
  unique_fd go_write;
  unique_fd report_read;
  unique_fd report_write;
  if (auto err = make_pipe(go_read, go_write))
    return err;
  if (auto err = make_pipe(report_read, report_write))
    return err;
  auto args = detail::c_strings(line->argv);
  auto envp = detail::c_strings(*env);
  struct rlimit files {};
  ::getrlimit(RLIMIT_NOFILE, &files);

  child_plan plan;
  plan.program = exec_path.c_str();
  plan.argv = args.data();
  plan.envp = envp.data();
  plan.sandbox = req.sandbox.c_str();
  plan.stdin_fd = null_fd.get();
  plan.stdout_fd = out_fd->get();
  plan.stderr_fd = err_fd->get();
  plan.go_fd = go_read.get();
  plan.report_fd = report_write.get();
  plan.switch_user = user->change;
  plan.uid = user->uid;
  plan.gid = user->gid;
  plan.groups = user->groups.data();
  plan.group_count = user->groups.size();
  plan.fd_limit = files.rlim_cur == RLIM_INFINITY || files.rlim_cur > 1048576
                    ? 1048576
                    : static_cast<int>(files.rlim_cur);

  int fork_errno = 0;
  pid_t pid = fork_child(plan, fork_errno);
  if (pid < 0)
    return make_error(errc::io_error, "cannot fork for '" + line->program
                                        + "': " + errno_text(fork_errno));
  // Only the child may hold the write end, or EOF would never come.
  report_write.reset();
  if (auto err = attach_child(pid, *procs, procs_files))
    return err;
  // Release the child. We still hold the read end, so this write cannot raise SIGPIPE even
  // if the child was killed meanwhile (it then simply ends; its exit is reaped as usual).
  if (::write(go_write.get(), "g", 1) != 1) {
    int err = errno;
    kill_child(pid);
    return make_error(errc::io_error, "cannot release process " + std::to_string(pid) + ": "
                                        + errno_text(err));
  }
  go_write.reset();
  go_read.reset();
  if (auto err = await_exec(pid, report_read, line->program, req))
    return err;
  return pid;
}

} // namespace troupe::isolation
