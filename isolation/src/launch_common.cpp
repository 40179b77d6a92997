#include "launch_common.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <map>
#include <system_error>

#include "troupe/isolation/posix_launcher.hpp"
#include "troupe/messages/errc.hpp"

extern char** environ;

namespace troupe::isolation::detail {

std::string errno_text(int err) {
  return std::generic_category().message(err);
}

void unique_fd::reset() {
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = -1;
}

caf::expected<command_line> make_command_line(const v1::CommandInfo& cmd) {
  if (cmd.value().empty())
    return make_error(errc::invalid_argument, "empty command");
  command_line result;
  if (cmd.shell()) {
    result.program = "/bin/sh";
    result.argv = {"sh", "-c", cmd.value()};
    return result;
  }
  result.program = cmd.value();
  result.argv.assign(cmd.arguments().begin(), cmd.arguments().end());
  if (result.argv.empty())
    result.argv.push_back(result.program);
  result.search_path = result.program.find('/') == std::string::npos;
  return result;
}

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

caf::expected<unique_fd> open_output(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0)
    return make_error(errc::io_error, "cannot open " + path + ": " + errno_text(errno));
  return unique_fd{fd};
}

std::vector<char*> c_strings(std::vector<std::string>& xs) {
  std::vector<char*> result;
  result.reserve(xs.size() + 1);
  for (auto& x : xs)
    result.push_back(x.data());
  result.push_back(nullptr);
  return result;
}

int reap_child(pid_t pid) {
  int status = 0;
  pid_t rc;
  do {
    rc = ::waitpid(pid, &status, 0);
  } while (rc == -1 && errno == EINTR);
  return rc == pid ? status : unknown_wait_status;
}

} // namespace troupe::isolation::detail
