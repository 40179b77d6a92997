#include "troupe/test/child_process.hpp"

#include <sstream>

#include <filesystem>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace troupe::test {

child_process::child_process(std::vector<std::string> argv, std::string log_file, bool append) {
  std::vector<char*> args;
  for (auto& a : argv)
    args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!log_file.empty()) {
    posix_spawn_file_actions_addopen(&actions, 1, log_file.c_str(), O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
  }
  // The child must not inherit our blocked signal mask (it would ignore SIGTERM).
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  auto rc = posix_spawn(&pid_, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0)
    throw std::runtime_error("posix_spawn " + argv[0] + " failed: " + std::to_string(rc));
}

child_process::~child_process() {
  if (running()) {
    signal(SIGKILL);
    wait_for(std::chrono::seconds{5});
  }
}

bool child_process::running() {
  if (pid_ <= 0 || status_)
    return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_)
    status_ = status;
  return !status_;
}

void child_process::signal(int sig) {
  if (running())
    ::kill(pid_, sig);
}

std::optional<int> child_process::wait_for(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!status_) {
    int status = 0;
    auto rc = ::waitpid(pid_, &status, WNOHANG);
    if (rc == pid_) {
      status_ = status;
      break;
    }
    if (rc < 0 || std::chrono::steady_clock::now() >= deadline)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  return status_;
}

std::optional<unsigned long> read_number_file(const std::string& path,
                                              std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  do {
    std::ifstream in{path};
    unsigned long value = 0;
    if (in >> value)
      return value;
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  } while (std::chrono::steady_clock::now() < deadline);
  return std::nullopt;
}

std::string temp_path(const std::string& stem) {
  static std::atomic<int> counter{0};
  const char* dir = std::getenv("TMPDIR");
  return std::string{dir ? dir : "/tmp"} + "/troupe-" + stem + "-" + std::to_string(::getpid()) + "-"
         + std::to_string(counter++);
}

std::vector<process_entry> list_processes() {
  std::vector<process_entry> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    auto name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos)
      continue;
    std::ifstream in{entry.path() / "stat"};
    std::string stat;
    if (!std::getline(in, stat))
      continue; // gone meanwhile
    // "pid (comm) state ppid ...": comm may contain anything, so parse after the last ')'.
    auto close = stat.rfind(')');
    if (close == std::string::npos)
      continue;
    std::istringstream rest{stat.substr(close + 1)};
    process_entry e;
    e.pid = static_cast<pid_t>(std::stol(name));
    rest >> e.state >> e.ppid;
    out.push_back(e);
  }
  return out;
}

std::vector<pid_t> child_pids(pid_t parent) {
  if (parent == 0)
    parent = ::getpid();
  std::vector<pid_t> out;
  for (const auto& e : list_processes())
    if (e.ppid == parent)
      out.push_back(e.pid);
  return out;
}

} // namespace troupe::test
