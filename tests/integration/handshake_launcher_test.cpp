// The handshake launcher with real processes: the child is in its cgroup before it runs (a
// test cgroup made by hand, root only), a procs file that cannot be opened or written leaves
// no process and the task never runs, exec failures are launch errors with nothing left
// behind, environment, sandbox stdio, process group, signal reset, no leaked descriptors,
// and switching to user `nobody` (root only). After every case no child process of the test
// may remain and the test cgroup is gone.
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "troupe/isolation/handshake_launcher.hpp"
#include "troupe/messages/errc.hpp"
#include "troupe/test/child_process.hpp"
#include "troupe/runtime/errors.hpp"

using namespace std::chrono_literals;
using namespace troupe;
using namespace troupe::isolation;
namespace fs = std::filesystem;
namespace utf = boost::unit_test;

namespace {

using troupe::test::child_pids;

std::string slurp(const std::string& path) {
  std::ifstream in{path};
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> result;
  std::string item;
  std::istringstream in{text};
  while (std::getline(in, item, sep))
    result.push_back(item);
  return result;
}

/// Where a test cgroup with the pids controller can be made: the v1 pids hierarchy when
/// mounted, else the cgroup2 mount when it offers pids. Found in /proc/self/mountinfo.
struct pids_mount {
  std::string path;
  bool v1 = false;
};

std::optional<pids_mount> find_pids_mount() {
  std::ifstream in{"/proc/self/mountinfo"};
  std::string line;
  std::optional<pids_mount> v2;
  while (std::getline(in, line)) {
    // "id parent major:minor root mount-point options [optional...] - fstype source super"
    auto dash = line.find(" - ");
    if (dash == std::string::npos)
      continue;
    auto left = split(line.substr(0, dash), ' ');
    auto right = split(line.substr(dash + 3), ' ');
    if (left.size() < 5 || right.size() < 3)
      continue;
    const auto& mount_point = left[4];
    if (right[0] == "cgroup") {
      for (auto& option : split(right[2], ','))
        if (option == "pids")
          return pids_mount{mount_point, true};
    } else if (right[0] == "cgroup2" && !v2) {
      for (auto& controller : split(slurp(mount_point + "/cgroup.controllers"), ' '))
        if (controller == "pids" || controller == "pids\n")
          v2 = pids_mount{mount_point, false};
    }
  }
  return v2;
}

boost::test_tools::assertion_result is_root(utf::test_unit_id) {
  boost::test_tools::assertion_result result{::geteuid() == 0};
  result.message() << "needs root";
  return result;
}

boost::test_tools::assertion_result root_with_pids_cgroup(utf::test_unit_id id) {
  if (!is_root(id))
    return is_root(id);
  boost::test_tools::assertion_result result{find_pids_mount().has_value()};
  result.message() << "no pids cgroup controller mounted (v1 or v2)";
  return result;
}

boost::test_tools::assertion_result root_and_nobody(utf::test_unit_id id) {
  if (!is_root(id))
    return is_root(id);
  boost::test_tools::assertion_result result{::getpwnam("nobody") != nullptr};
  result.message() << "no user 'nobody'";
  return result;
}

/// A cgroup of this test only, removed by the destructor (after SIGKILLing whatever is still
/// in it: only processes this test put there).
class test_cgroup {
public:
  test_cgroup() {
    auto mount = find_pids_mount();
    BOOST_REQUIRE_MESSAGE(mount, "no pids cgroup mount");
    static int serial = 0;
    name_ = "troupe-hs-test-" + std::to_string(::getpid()) + "-" + std::to_string(++serial);
    v1_ = mount->v1;
    dir_ = mount->path + "/" + name_;
    BOOST_REQUIRE_MESSAGE(::mkdir(dir_.c_str(), 0755) == 0,
                          "mkdir " << dir_ << ": " << std::strerror(errno));
  }

  ~test_cgroup() {
    auto deadline = std::chrono::steady_clock::now() + 2s;
    for (;;) {
      for (auto& pid : split(slurp(procs()), '\n'))
        if (!pid.empty())
          ::kill(std::stoi(pid), SIGKILL);
      if (::rmdir(dir_.c_str()) == 0 || errno == ENOENT)
        return;
      if (std::chrono::steady_clock::now() >= deadline) {
        BOOST_ERROR("cannot remove test cgroup " << dir_ << ": " << std::strerror(errno));
        return;
      }
      std::this_thread::sleep_for(10ms);
    }
  }

  test_cgroup(const test_cgroup&) = delete;
  test_cgroup& operator=(const test_cgroup&) = delete;

  std::string procs() const {
    return dir_ + "/cgroup.procs";
  }

  /// True when the /proc/<pid>/cgroup text places the process in this cgroup.
  bool named_in(const std::string& proc_cgroup) const {
    for (auto& line : split(proc_cgroup, '\n')) {
      // "hierarchy-id:controllers:path"; v2 is "0::path".
      auto first = line.find(':');
      auto second = line.find(':', first + 1);
      if (first == std::string::npos || second == std::string::npos)
        continue;
      auto controllers = split(line.substr(first + 1, second - first - 1), ',');
      bool ours = v1_ ? std::find(controllers.begin(), controllers.end(), "pids")
                          != controllers.end()
                      : line.compare(0, 3, "0::") == 0;
      auto path = line.substr(second + 1);
      auto suffix = "/" + name_;
      if (ours && path.size() >= suffix.size()
          && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0)
        return true;
    }
    return false;
  }

private:
  std::string name_;
  std::string dir_;
  bool v1_ = false;
};

struct fixture {
  std::string dir;
  handshake_launcher launcher;
  std::vector<pid_t> unreaped;
  std::optional<test_cgroup> cgroup; // destroyed after the children are reaped

  fixture() {
    char tmpl[] = "/tmp/troupe-hs-XXXXXX";
    BOOST_REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
  }

  ~fixture() {
    for (auto pid : unreaped)
      BOOST_CHECK_MESSAGE(launcher.kill_and_reap(pid, 2s), "process " << pid << " survived");
    auto left = child_pids();
    BOOST_CHECK_MESSAGE(left.empty(), left.size() << " child process(es) left behind");
    cgroup.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  launch_request shell(const std::string& command, const std::string& sandbox_name = "sandbox") {
    launch_request req;
    req.container_id.set_value("c1");
    req.command.set_shell(true);
    req.command.set_value(command);
    req.sandbox = dir + "/" + sandbox_name;
    return req;
  }

  caf::expected<pid_t> launch(const launch_request& req,
                              const std::vector<std::string>& procs_files = {}) {
    auto pid = launcher.launch(req, procs_files);
    if (pid)
      unreaped.push_back(*pid);
    return pid;
  }

  pid_t launch_ok(const launch_request& req, const std::vector<std::string>& procs_files = {}) {
    auto pid = launch(req, procs_files);
    if (!pid)
      BOOST_FAIL("launch '" << req.command.value() << "': " << runtime::render(pid.error()));
    BOOST_CHECK_GT(*pid, 1);
    return *pid;
  }

  /// The raw wait status of `pid`, reaped through the launcher.
  int wait_exit(pid_t pid, std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (auto status = launcher.try_reap(pid)) {
        unreaped.erase(std::remove(unreaped.begin(), unreaped.end(), pid), unreaped.end());
        return *status;
      }
      if (std::chrono::steady_clock::now() >= deadline)
        BOOST_FAIL("process " << pid << " did not end within " << timeout.count() << " ms");
      std::this_thread::sleep_for(2ms);
    }
  }

  /// Runs `req` to its end and requires exit status 0.
  void run_ok(const launch_request& req, const std::vector<std::string>& procs_files = {}) {
    auto status = wait_exit(launch_ok(req, procs_files));
    BOOST_REQUIRE_MESSAGE(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                          "'" << req.command.value() << "' " << describe_wait_status(status)
                              << "; stderr: " << slurp(req.sandbox + "/stderr"));
  }

  std::string sandbox_file(const std::string& name) {
    return slurp(dir + "/sandbox/" + name);
  }
};

/// Restores the effective uid on every exit path.
struct euid_guard {
  explicit euid_guard(uid_t uid) {
    BOOST_REQUIRE(::seteuid(uid) == 0);
  }
  ~euid_guard() {
    if (::seteuid(0) != 0)
      std::abort(); // the rest of the run would test the wrong thing
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(handshake_launcher_test, fixture)

BOOST_AUTO_TEST_CASE(child_is_in_its_cgroup_before_it_execs,
                     *utf::precondition(root_with_pids_cgroup)) {
  cgroup.emplace();
  // The first thing the task does is read its own cgroups: attach-after-exec would lose.
  run_ok(shell("cat /proc/self/cgroup > out"), {cgroup->procs()});
  auto text = sandbox_file("out");
  BOOST_CHECK_MESSAGE(cgroup->named_in(text), "not in the test cgroup:\n" << text);
  // Without procs files the task stays where the agent is.
  run_ok(shell("cat /proc/self/cgroup > out2"));
  BOOST_CHECK(!cgroup->named_in(sandbox_file("out2")));
}

BOOST_AUTO_TEST_CASE(failed_attach_kills_the_child_before_it_runs) {
  // /dev/full opens for writing but every write fails (ENOSPC): the child exists then.
  std::vector<std::string> files{"/dev/full"};
  if (::geteuid() == 0 && find_pids_mount()) {
    cgroup.emplace();
    files.insert(files.begin(), cgroup->procs()); // attached to one, failing on the next
  }
  auto pid = launch(shell("echo ran > ran"), files);
  BOOST_REQUIRE(!pid);
  BOOST_CHECK_MESSAGE(is(pid.error(), errc::io_error), runtime::render(pid.error()));
  auto text = error_message(pid.error());
  BOOST_CHECK_MESSAGE(text.find("/dev/full") != std::string::npos, text);
  BOOST_CHECK_MESSAGE(text.find("No space left on device") != std::string::npos, text);
  BOOST_CHECK(child_pids().empty()); // killed and reaped before launch returned
  BOOST_CHECK(!fs::exists(dir + "/sandbox/ran"));
  if (cgroup)
    BOOST_CHECK_EQUAL(slurp(cgroup->procs()), "");
}

BOOST_AUTO_TEST_CASE(unopenable_procs_file_is_an_error_before_fork) {
  auto missing = dir + "/no-such-cgroup/cgroup.procs";
  auto pid = launch(shell("echo ran > ran"), {missing});
  BOOST_REQUIRE(!pid);
  BOOST_CHECK_MESSAGE(is(pid.error(), errc::io_error), runtime::render(pid.error()));
  auto text = error_message(pid.error());
  BOOST_CHECK_MESSAGE(text.find(missing) != std::string::npos, text);
  BOOST_CHECK_MESSAGE(text.find("No such file or directory") != std::string::npos, text);
  BOOST_CHECK(child_pids().empty());
  BOOST_CHECK(!fs::exists(dir + "/sandbox/ran"));
}

BOOST_AUTO_TEST_CASE(missing_program_is_not_found_and_leaves_no_zombie) {
  // With a '/': the child's execve fails and reports ENOENT through the report pipe.
  auto req = shell("");
  req.command.set_shell(false);
  req.command.set_value("/nonexistent/x");
  auto pid = launch(req);
  BOOST_REQUIRE(!pid);
  BOOST_CHECK_MESSAGE(is(pid.error(), errc::not_found), runtime::render(pid.error()));
  auto text = error_message(pid.error());
  BOOST_CHECK_MESSAGE(text.find("/nonexistent/x") != std::string::npos, text);
  BOOST_CHECK_MESSAGE(text.find("No such file or directory") != std::string::npos, text);
  BOOST_CHECK(child_pids().empty());
  // Without '/': the PATH search (in the agent, before fork) finds nothing.
  req.command.set_value("troupe-no-such-program");
  pid = launch(req);
  BOOST_REQUIRE(!pid);
  BOOST_CHECK_MESSAGE(is(pid.error(), errc::not_found), runtime::render(pid.error()));
  text = error_message(pid.error());
  BOOST_CHECK_MESSAGE(text.find("troupe-no-such-program") != std::string::npos, text);
  BOOST_CHECK(child_pids().empty());
}

BOOST_AUTO_TEST_CASE(exec_errors_other_than_enoent_are_io_errors) {
  auto script = dir + "/not-executable";
  std::ofstream{script} << "#!/bin/sh\nexit 0\n";
  ::chmod(script.c_str(), 0644); // no x bit: EACCES even for root
  auto req = shell("");
  req.command.set_shell(false);
  req.command.set_value(script);
  auto pid = launch(req);
  BOOST_REQUIRE(!pid);
  BOOST_CHECK_MESSAGE(is(pid.error(), errc::io_error), runtime::render(pid.error()));
  auto text = error_message(pid.error());
  BOOST_CHECK_MESSAGE(text.find(script) != std::string::npos, text);
  BOOST_CHECK_MESSAGE(text.find("Permission denied") != std::string::npos, text);
  BOOST_CHECK(child_pids().empty());
}

BOOST_AUTO_TEST_CASE(environment_reaches_the_process) {
  auto req = shell("echo \"$TROUPE_A|$TROUPE_B|$HOME|${PATH:+agent-path}\"");
  req.environment = {{"TROUPE_A", "from-request"}, {"TROUPE_B", "b"}, {"HOME", "/req-home"}};
  auto* var = req.command.mutable_environment()->add_variables();
  var->set_name("TROUPE_A");
  var->set_value("from-command");
  run_ok(req);
  BOOST_CHECK_EQUAL(sandbox_file("stdout"), "from-command|b|/req-home|agent-path\n");
  auto bad = shell("exit 0");
  bad.environment = {{"A=B", "x"}};
  BOOST_CHECK(is(launch(bad).error(), errc::invalid_argument));
  BOOST_CHECK(is(launch(shell("")).error(), errc::invalid_argument));
}

BOOST_AUTO_TEST_CASE(stdio_and_cwd_are_the_sandbox) {
  run_ok(shell("echo out1; echo err1 >&2"));
  run_ok(shell("echo out2; echo err2 >&2")); // appended, not truncated
  BOOST_CHECK_EQUAL(sandbox_file("stdout"), "out1\nout2\n");
  BOOST_CHECK_EQUAL(sandbox_file("stderr"), "err1\nerr2\n");
  auto deep = shell("pwd -P > where; read line || echo stdin-empty", "a/b/sandbox");
  run_ok(deep);
  auto sandbox = fs::canonical(dir + "/a/b/sandbox").string();
  BOOST_CHECK_EQUAL(slurp(sandbox + "/where"), sandbox + "\n");
  BOOST_CHECK_EQUAL(slurp(sandbox + "/stdout"), "stdin-empty\n");
}

BOOST_AUTO_TEST_CASE(exec_with_arguments_and_path_search) {
  auto req = shell("");
  req.command.set_shell(false);
  req.command.set_value("echo"); // no '/': searched in the agent's PATH before fork
  for (auto arg : {"echo", "hello", "world"})
    req.command.add_arguments(arg);
  run_ok(req);
  BOOST_CHECK_EQUAL(sandbox_file("stdout"), "hello world\n");
}

BOOST_AUTO_TEST_CASE(no_descriptor_of_the_agent_leaks) {
  int leaky = ::open("/dev/null", O_RDONLY); // deliberately without O_CLOEXEC
  BOOST_REQUIRE(leaky >= 0);
  // `; true` keeps dash from exec'ing ls in place of itself: ls lists the shell's fds.
  run_ok(shell("ls /proc/$$/fd; true"));
  ::close(leaky);
  BOOST_CHECK_EQUAL(sandbox_file("stdout"), "0\n1\n2\n");
}

BOOST_AUTO_TEST_CASE(own_process_group_signal_and_reap) {
  // sleep itself is the main process (no shell that might fork it and leave a zombie group
  // member with an init that does not reap orphans).
  auto req = shell("");
  req.command.set_shell(false);
  req.command.set_value("sleep");
  for (auto arg : {"sleep", "100"})
    req.command.add_arguments(arg);
  auto pid = launch_ok(req);
  BOOST_CHECK_EQUAL(::getpgid(pid), pid);
  BOOST_CHECK(!launcher.try_reap(pid)); // still running
  BOOST_CHECK(launcher.signal_group(pid, SIGTERM));
  auto status = wait_exit(pid);
  BOOST_REQUIRE(WIFSIGNALED(status));
  BOOST_CHECK_EQUAL(WTERMSIG(status), SIGTERM);
  BOOST_CHECK_EQUAL(describe_wait_status(status), "killed by signal 15 (Terminated)");
  BOOST_CHECK(launcher.try_reap(pid) == unknown_wait_status);
  BOOST_CHECK(!launcher.signal_group(pid, 0));
}

BOOST_AUTO_TEST_CASE(signals_start_unblocked_with_default_dispositions) {
  // A signal blocked by the launching thread must not stay blocked in the task...
  sigset_t usr1;
  sigset_t previous;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  ::pthread_sigmask(SIG_BLOCK, &usr1, &previous);
  auto blocked = launch(shell("kill -USR1 $$; exit 0"));
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  BOOST_REQUIRE(blocked);
  auto status = wait_exit(*blocked);
  BOOST_CHECK_MESSAGE(WIFSIGNALED(status) && WTERMSIG(status) == SIGUSR1,
                      describe_wait_status(status));
  // ...nor one the agent ignores stay ignored.
  struct sigaction ignore {};
  struct sigaction old {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGUSR2, &ignore, &old);
  auto ignored = launch(shell("kill -USR2 $$; exit 0"));
  ::sigaction(SIGUSR2, &old, nullptr);
  BOOST_REQUIRE(ignored);
  status = wait_exit(*ignored);
  BOOST_CHECK_MESSAGE(WIFSIGNALED(status) && WTERMSIG(status) == SIGUSR2,
                      describe_wait_status(status));
}

BOOST_AUTO_TEST_CASE(concurrent_launches_from_several_threads) {
  // Children forked by one thread inherit the (O_CLOEXEC) pipes of launches running in the
  // others until they exec: every launch must still complete, with nothing left over.
  std::vector<std::string> procs;
  if (::geteuid() == 0 && find_pids_mount()) {
    cgroup.emplace();
    procs.push_back(cgroup->procs());
  }
  constexpr int threads = 4;
  constexpr int per_thread = 25;
  std::vector<std::string> failures[threads];
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        auto req = shell("exit 7", "sandbox-" + std::to_string(t));
        auto pid = launcher.launch(req, procs);
        if (!pid) {
          failures[t].push_back(runtime::render(pid.error()));
          continue;
        }
        std::optional<int> status;
        for (int polls = 0; polls < 5000 && !status; ++polls) {
          status = launcher.try_reap(*pid);
          if (!status)
            std::this_thread::sleep_for(1ms);
        }
        if (!status)
          status = launcher.kill_and_reap(*pid, 2s);
        if (!status || !WIFEXITED(*status) || WEXITSTATUS(*status) != 7)
          failures[t].push_back("process " + std::to_string(*pid) + " "
                                + (status ? describe_wait_status(*status) : "survived"));
      }
    });
  for (auto& worker : workers)
    worker.join();
  for (int t = 0; t < threads; ++t)
    for (auto& failure : failures[t])
      BOOST_ERROR("thread " << t << ": " << failure);
  BOOST_CHECK(child_pids().empty());
  if (cgroup)
    BOOST_CHECK_EQUAL(slurp(cgroup->procs()), "");
}

BOOST_AUTO_TEST_CASE(runs_as_nobody, *utf::precondition(root_and_nobody)) {
  auto* pw = ::getpwnam("nobody");
  BOOST_REQUIRE(pw != nullptr);
  uid_t uid = pw->pw_uid;
  gid_t gid = pw->pw_gid;
  std::vector<gid_t> groups(64);
  int count = static_cast<int>(groups.size());
  BOOST_REQUIRE(::getgrouplist("nobody", gid, groups.data(), &count) >= 0);
  std::set<gid_t> expected_groups(groups.begin(), groups.begin() + count);

  auto req = shell("id -u; id -g; id -G; touch mine && echo wrote");
  req.command.set_user("nobody");
  run_ok(req);
  auto lines = split(sandbox_file("stdout"), '\n');
  BOOST_REQUIRE_EQUAL(lines.size(), 4u);
  BOOST_CHECK_EQUAL(lines[0], std::to_string(uid));
  BOOST_CHECK_EQUAL(lines[1], std::to_string(gid));
  std::set<gid_t> got_groups;
  for (auto& g : split(lines[2], ' '))
    got_groups.insert(static_cast<gid_t>(std::stoul(g)));
  BOOST_CHECK(got_groups == expected_groups);
  BOOST_CHECK_EQUAL(lines[3], "wrote");
  struct stat st;
  BOOST_REQUIRE(::stat((dir + "/sandbox/mine").c_str(), &st) == 0);
  BOOST_CHECK_EQUAL(st.st_uid, uid);
}

BOOST_AUTO_TEST_CASE(own_user_needs_no_switch_and_unknown_users_are_refused) {
  auto* me = ::getpwuid(::geteuid());
  BOOST_REQUIRE(me != nullptr);
  auto own = shell("id -u");
  own.command.set_user(me->pw_name);
  run_ok(own);
  BOOST_CHECK_EQUAL(sandbox_file("stdout"), std::to_string(::geteuid()) + "\n");
  auto unknown = shell("exit 0");
  unknown.command.set_user("troupe-no-such-user");
  auto pid = launch(unknown);
  BOOST_REQUIRE(!pid);
  BOOST_CHECK_MESSAGE(is(pid.error(), errc::invalid_argument), runtime::render(pid.error()));
  BOOST_CHECK(child_pids().empty());
}

BOOST_AUTO_TEST_CASE(another_user_needs_root, *utf::precondition(root_and_nobody)) {
  // Pretend to be an unprivileged agent: effective uid nobody (the real uid stays 0, so the
  // guard can switch back).
  auto req = shell("echo ran > ran");
  req.command.set_user("root");
  caf::expected<pid_t> pid{0};
  {
    euid_guard as_nobody{::getpwnam("nobody")->pw_uid};
    pid = launch(req);
  }
  BOOST_REQUIRE(!pid);
  BOOST_CHECK_MESSAGE(is(pid.error(), errc::invalid_argument), runtime::render(pid.error()));
  auto text = error_message(pid.error());
  BOOST_CHECK_MESSAGE(text.find("cannot run as user 'root': the agent is not root")
                        != std::string::npos,
                      text);
  BOOST_CHECK(child_pids().empty());
}

BOOST_AUTO_TEST_SUITE_END()
