// The POSIX containerizer with real processes: exit statuses, sandbox files, cwd and
// environment, launch errors, destroy by SIGTERM and by SIGKILL after the grace period, the
// whole process group dying (grandchildren included), duplicate ids, and the containerizer's
// own exit killing what is left. A scoped actor is the watcher. After every case no child
// process of the test may remain.
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include "troupe/isolation/containerizer.hpp"
#include "troupe/isolation/posix_launcher.hpp"
#include "troupe/messages/registration.hpp"
#include "troupe/runtime/errors.hpp"
#include "troupe/test/child_process.hpp"

using namespace std::chrono_literals;
using namespace troupe;
using namespace troupe::isolation;
namespace fs = std::filesystem;

namespace {

using troupe::test::child_pids;

struct test_config : caf::actor_system_config {
  test_config() {
    troupe::add_message_types(*this);
    runtime::add_error_category(*this);
    set("scheduler.max-threads", size_t{2});
  }
};

/// True once `pid` no longer runs: gone, or a zombie waiting for its (new) parent. The init
/// of these machines does not reap orphans, so a killed grandchild may stay a zombie.
bool is_dead(pid_t pid) {
  if (::kill(pid, 0) == -1 && errno == ESRCH)
    return true;
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  std::string stat;
  if (!std::getline(in, stat))
    return true;
  auto close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z';
}

bool eventually_dead(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!is_dead(pid)) {
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

std::string slurp(const std::string& path) {
  std::ifstream in{path};
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

v1::ContainerID container_id(const std::string& value) {
  v1::ContainerID id;
  id.set_value(value);
  return id;
}

struct fixture {
  std::string dir;
  test_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  containerizer_actor cz;

  fixture() {
    char tmpl[] = "/tmp/troupe-posix-XXXXXX";
    BOOST_REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    posix_containerizer_config pc;
    pc.reap_interval = 5ms;
    pc.node = "posix-containerizer-test";
    cz = spawn_posix_containerizer(sys, pc, caf::actor_cast<container_watcher_actor>(self));
  }

  ~fixture() {
    stop_containerizer();
    auto left = child_pids();
    BOOST_CHECK_MESSAGE(left.empty(), left.size() << " child process(es) left behind");
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  void stop_containerizer() {
    if (!cz)
      return;
    self->send_exit(cz, caf::exit_reason::user_shutdown);
    self->wait_for(cz);
    cz = nullptr;
  }

  launch_request shell(const std::string& id, const std::string& command,
                       const std::string& sandbox_name = "sandbox") {
    launch_request req;
    req.container_id = container_id(id);
    req.command.set_shell(true);
    req.command.set_value(command);
    req.sandbox = dir + "/" + sandbox_name;
    return req;
  }

  caf::expected<container_launched> launch(const launch_request& req) {
    caf::expected<container_launched> result{make_error(errc::timeout, "no reply")};
    self->request(cz, 5s, launch_atom::value, req)
      .receive([&](const container_launched& x) { result = x; },
               [&](const caf::error& err) { result = err; });
    return result;
  }

  container_launched launch_ok(const launch_request& req) {
    auto launched = launch(req);
    if (!launched)
      BOOST_FAIL("launch " << req.container_id.value() << ": "
                           << runtime::render(launched.error()));
    BOOST_CHECK_EQUAL(launched->container_id.value(), req.container_id.value());
    BOOST_CHECK_GT(launched->pid, 1);
    return *launched;
  }

  container_exited wait_exit(std::chrono::milliseconds timeout = 10s) {
    container_exited result;
    bool got = false;
    self->receive([&](const container_exited& x) {
                    result = x;
                    got = true;
                  },
                  caf::after(timeout) >> [] {});
    if (!got)
      BOOST_FAIL("no container_exited within " << timeout.count() << " ms");
    return result;
  }

  bool no_exit_within(std::chrono::milliseconds timeout) {
    bool got = false;
    self->receive([&](const container_exited&) { got = true; }, caf::after(timeout) >> [] {});
    return !got;
  }

  std::vector<std::string> live() {
    std::vector<std::string> result;
    self->request(cz, 5s, containers_atom::value)
      .receive(
        [&](const std::vector<v1::ContainerID>& ids) {
          for (auto& id : ids)
            result.push_back(id.value());
        },
        [&](const caf::error& err) { BOOST_FAIL("containers: " << runtime::render(err)); });
    return result;
  }

  void destroy(const std::string& id, caf::timespan grace) {
    self->send(cz, destroy_atom::value, container_id(id), grace);
  }

  /// Waits until the container wrote a number to `file` in its sandbox (a readiness mark).
  unsigned long wait_for_number(const std::string& file) {
    auto n = test::read_number_file(dir + "/sandbox/" + file, 10s);
    if (!n)
      BOOST_FAIL("the container did not write " << file << " within 10 s");
    return *n;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(posix_containerizer_test, fixture)

BOOST_AUTO_TEST_CASE(exit_status_is_reported) {
  auto launched = launch_ok(shell("c1", "exit 3"));
  auto exited = wait_exit();
  BOOST_CHECK_EQUAL(exited.container_id.value(), "c1");
  BOOST_REQUIRE(WIFEXITED(exited.wait_status));
  BOOST_CHECK_EQUAL(WEXITSTATUS(exited.wait_status), 3);
  BOOST_CHECK(!exited.destroyed);
  BOOST_CHECK_EQUAL(exited.message, "exited with status 3");
  BOOST_CHECK(live().empty());
  BOOST_CHECK(is_dead(launched.pid));
}

BOOST_AUTO_TEST_CASE(output_lands_in_sandbox_files_appended) {
  launch_ok(shell("c1", "echo out1; echo err1 >&2"));
  BOOST_CHECK_EQUAL(WEXITSTATUS(wait_exit().wait_status), 0);
  // A second container in the same sandbox appends rather than truncates.
  launch_ok(shell("c2", "echo out2; echo err2 >&2"));
  BOOST_CHECK_EQUAL(WEXITSTATUS(wait_exit().wait_status), 0);
  BOOST_CHECK_EQUAL(slurp(dir + "/sandbox/stdout"), "out1\nout2\n");
  BOOST_CHECK_EQUAL(slurp(dir + "/sandbox/stderr"), "err1\nerr2\n");
}

BOOST_AUTO_TEST_CASE(runs_in_the_sandbox_created_with_parents) {
  launch_ok(shell("c1", "pwd -P > where; read line || echo stdin-empty", "a/b/sandbox"));
  BOOST_CHECK_EQUAL(WEXITSTATUS(wait_exit().wait_status), 0);
  auto sandbox = fs::canonical(dir + "/a/b/sandbox").string();
  BOOST_CHECK_EQUAL(slurp(sandbox + "/where"), sandbox + "\n");
  BOOST_CHECK_EQUAL(slurp(sandbox + "/stdout"), "stdin-empty\n");
}

BOOST_AUTO_TEST_CASE(environment_reaches_the_process) {
  auto req = shell("c1", "echo \"$TROUPE_A|$TROUPE_B|$HOME|${PATH:+agent-path}\"");
  req.environment = {{"TROUPE_A", "from-request"}, {"TROUPE_B", "b"}, {"HOME", "/req-home"}};
  auto* var = req.command.mutable_environment()->add_variables();
  var->set_name("TROUPE_A");
  var->set_value("from-command");
  launch_ok(req);
  BOOST_CHECK_EQUAL(WEXITSTATUS(wait_exit().wait_status), 0);
  BOOST_CHECK_EQUAL(slurp(dir + "/sandbox/stdout"), "from-command|b|/req-home|agent-path\n");
}

BOOST_AUTO_TEST_CASE(exec_with_arguments_and_path_search) {
  launch_request req = shell("c1", "");
  req.command.set_shell(false);
  req.command.set_value("echo"); // no '/': found in the agent's PATH
  for (auto arg : {"echo", "hello", "world"})
    req.command.add_arguments(arg);
  launch_ok(req);
  BOOST_CHECK_EQUAL(WEXITSTATUS(wait_exit().wait_status), 0);
  BOOST_CHECK_EQUAL(slurp(dir + "/sandbox/stdout"), "hello world\n");
}

BOOST_AUTO_TEST_CASE(missing_binary_is_a_launch_error) {
  launch_request req = shell("c1", "");
  req.command.set_shell(false);
  req.command.set_value("/nonexistent/x");
  auto launched = launch(req);
  BOOST_REQUIRE(!launched);
  BOOST_CHECK_MESSAGE(is(launched.error(), errc::not_found), runtime::render(launched.error()));
  auto text = error_message(launched.error());
  BOOST_CHECK_MESSAGE(text.find("/nonexistent/x") != std::string::npos, text);
  BOOST_CHECK_MESSAGE(text.find("No such file or directory") != std::string::npos, text);
  BOOST_CHECK(live().empty());
  BOOST_CHECK(no_exit_within(100ms));
  // The id was not taken.
  launch_ok(shell("c1", "exit 0"));
  BOOST_CHECK_EQUAL(WEXITSTATUS(wait_exit().wait_status), 0);
}

BOOST_AUTO_TEST_CASE(invalid_requests_are_refused) {
  auto no_id = shell("", "exit 0");
  BOOST_CHECK(is(launch(no_id).error(), errc::invalid_argument));
  auto no_command = shell("c1", "");
  BOOST_CHECK(is(launch(no_command).error(), errc::invalid_argument));
  auto bad_var = shell("c1", "exit 0");
  bad_var.environment = {{"A=B", "x"}};
  BOOST_CHECK(is(launch(bad_var).error(), errc::invalid_argument));
  auto other_user = shell("c1", "exit 0");
  other_user.command.set_user("troupe-no-such-user");
  auto refused = launch(other_user);
  BOOST_REQUIRE(!refused);
  BOOST_CHECK_MESSAGE(is(refused.error(), errc::invalid_argument),
                      runtime::render(refused.error()));
  BOOST_CHECK(live().empty());
}

BOOST_AUTO_TEST_CASE(destroy_ends_with_sigterm) {
  auto launched = launch_ok(shell("c1", "sleep 100"));
  BOOST_CHECK(live() == std::vector<std::string>{"c1"});
  destroy("c1", 200ms);
  auto exited = wait_exit();
  BOOST_REQUIRE(WIFSIGNALED(exited.wait_status));
  BOOST_CHECK_EQUAL(WTERMSIG(exited.wait_status), SIGTERM);
  BOOST_CHECK(exited.destroyed);
  BOOST_CHECK_EQUAL(exited.message, "killed by signal 15 (Terminated)");
  BOOST_CHECK(live().empty());
  BOOST_CHECK(is_dead(launched.pid));
}

BOOST_AUTO_TEST_CASE(destroy_kills_after_grace_when_term_is_ignored) {
  launch_ok(shell("c1", "trap '' TERM; echo 1 > ready; sleep 100"));
  wait_for_number("ready");
  auto start = std::chrono::steady_clock::now();
  destroy("c1", 200ms);
  destroy("c1", 10ms); // idempotent: the first deadline stands
  auto exited = wait_exit();
  auto took = std::chrono::steady_clock::now() - start;
  BOOST_REQUIRE(WIFSIGNALED(exited.wait_status));
  BOOST_CHECK_EQUAL(WTERMSIG(exited.wait_status), SIGKILL);
  BOOST_CHECK(exited.destroyed);
  BOOST_CHECK_EQUAL(exited.message, "killed by signal 9 (Killed)");
  BOOST_CHECK_GE(std::chrono::duration_cast<std::chrono::milliseconds>(took).count(), 200);
  BOOST_CHECK(no_exit_within(300ms)); // reported once
}

BOOST_AUTO_TEST_CASE(destroy_kills_the_whole_process_group) {
  launch_ok(shell("c1", "sleep 100 & echo $! > pidfile; wait"));
  auto grandchild = static_cast<pid_t>(wait_for_number("pidfile"));
  BOOST_REQUIRE(!is_dead(grandchild));
  destroy("c1", 200ms);
  auto exited = wait_exit();
  BOOST_CHECK(exited.destroyed);
  BOOST_CHECK_MESSAGE(eventually_dead(grandchild, 2s), "grandchild " << grandchild << " lives");
}

BOOST_AUTO_TEST_CASE(leftover_group_members_die_with_the_main_process) {
  launch_ok(shell("c1", "sleep 100 & echo $! > pidfile; exit 0"));
  auto exited = wait_exit();
  BOOST_CHECK_EQUAL(WEXITSTATUS(exited.wait_status), 0);
  BOOST_CHECK(!exited.destroyed);
  auto grandchild = static_cast<pid_t>(wait_for_number("pidfile"));
  BOOST_CHECK_MESSAGE(eventually_dead(grandchild, 2s), "grandchild " << grandchild << " lives");
}

BOOST_AUTO_TEST_CASE(duplicate_id_is_refused_until_the_first_exits) {
  auto first = launch_ok(shell("dup", "sleep 100"));
  auto second = launch(shell("dup", "exit 0"));
  BOOST_REQUIRE(!second);
  BOOST_CHECK_MESSAGE(is(second.error(), errc::already_exists), runtime::render(second.error()));
  BOOST_CHECK(live() == std::vector<std::string>{"dup"});
  destroy("dup", 0ms); // no grace: SIGKILL at once
  auto exited = wait_exit();
  BOOST_CHECK_EQUAL(WTERMSIG(exited.wait_status), SIGKILL);
  BOOST_CHECK(is_dead(first.pid));
  launch_ok(shell("dup", "exit 4"));
  BOOST_CHECK_EQUAL(WEXITSTATUS(wait_exit().wait_status), 4);
}

BOOST_AUTO_TEST_CASE(destroy_of_unknown_id_is_ignored) {
  destroy("nobody", 10ms);
  BOOST_CHECK(no_exit_within(100ms));
  BOOST_CHECK(live().empty());
}

BOOST_AUTO_TEST_CASE(containerizer_exit_kills_live_containers) {
  launch_ok(shell("c1", "trap '' TERM; sleep 100 & echo $! > pidfile; wait"));
  auto grandchild = static_cast<pid_t>(wait_for_number("pidfile"));
  launch_ok(shell("c2", "sleep 100", "other"));
  BOOST_CHECK_EQUAL(live().size(), 2u);
  stop_containerizer();
  BOOST_CHECK(child_pids().empty()); // killed and reaped before the actor was gone
  BOOST_CHECK_MESSAGE(eventually_dead(grandchild, 2s), "grandchild " << grandchild << " lives");
}

BOOST_AUTO_TEST_CASE(launcher_works_without_actors) {
  posix_launcher launcher;
  auto req = shell("c1", "kill -USR1 $$");
  auto pid = launcher.launch(req);
  BOOST_REQUIRE_MESSAGE(pid, (pid ? "" : runtime::render(pid.error())));
  std::optional<int> status;
  for (int i = 0; i < 1000 && !status; ++i) {
    status = launcher.try_reap(*pid);
    if (!status)
      std::this_thread::sleep_for(5ms);
  }
  BOOST_REQUIRE(status);
  BOOST_REQUIRE(WIFSIGNALED(*status));
  BOOST_CHECK_EQUAL(WTERMSIG(*status), SIGUSR1);
  BOOST_CHECK_EQUAL(describe_wait_status(*status), "killed by signal 10 (User defined signal 1)");
  BOOST_CHECK(launcher.try_reap(*pid) == unknown_wait_status); // reaped already
  BOOST_CHECK(!launcher.signal_group(*pid, 0));                   // group gone
  BOOST_CHECK(!launcher.signal_group(1, 0));                      // never init's "group"
  BOOST_CHECK_EQUAL(describe_wait_status(unknown_wait_status), "ended with unknown status");
}

BOOST_AUTO_TEST_SUITE_END()
