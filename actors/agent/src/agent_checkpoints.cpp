#include "troupe/agent/agent_checkpoints.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "troupe/messages/errc.hpp"

namespace troupe::agent {

namespace fs = std::filesystem;

namespace {

// IDs become path components: keep them to one component (validation forbids '/', but a
// checkpoint must never escape its directory even for an ID that slipped through).
std::string component(const std::string& id) {
  std::string out = id;
  for (auto& c : out)
    if (c == '/' || c == '\0')
      c = '_';
  if (out.empty() || out == "." || out == "..")
    out = "_" + out;
  return out;
}

caf::error write_message(const std::string& path, const google::protobuf::Message& msg) {
  std::error_code ec;
  fs::create_directories(fs::path{path}.parent_path(), ec);
  if (ec)
    return make_error(errc::io_error, "cannot create " + fs::path{path}.parent_path().string()
                                        + ": " + ec.message());
  auto tmp = path + ".tmp";
  {
    std::ofstream out{tmp, std::ios::binary | std::ios::trunc};
    if (!out || !msg.SerializeToOstream(&out))
      return make_error(errc::io_error, "cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return make_error(errc::io_error, "cannot rename " + tmp + " to " + path);
  return {};
}

template <class Msg>
std::optional<Msg> read_message(const fs::path& path, std::vector<std::string>& problems) {
  std::ifstream in{path, std::ios::binary};
  Msg msg;
  if (!in || !msg.ParseFromIstream(&in)) {
    problems.push_back("unreadable checkpoint " + path.string());
    return std::nullopt;
  }
  return msg;
}

std::vector<fs::path> subdirs(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator{dir, ec})
    if (e.is_directory())
      out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

} // namespace

agent_checkpoints::agent_checkpoints(std::string meta_dir) : dir_(std::move(meta_dir)) {
}

std::string agent_checkpoints::framework_dir(const v1::FrameworkID& fw) const {
  return dir_ + "/frameworks/" + component(fw.value());
}

std::string agent_checkpoints::executor_dir(const v1::FrameworkID& fw,
                                            const v1::ExecutorID& ex) const {
  return framework_dir(fw) + "/executors/" + component(ex.value());
}

caf::error agent_checkpoints::write_agent(const internal::AgentCheckpoint& x) const {
  return write_message(dir_ + "/agent.pb", x);
}

caf::error agent_checkpoints::write_framework(const internal::FrameworkCheckpoint& x) const {
  return write_message(framework_dir(x.info().id()) + "/framework.pb", x);
}

caf::error agent_checkpoints::write_executor(const v1::FrameworkID& fw,
                                             const internal::ExecutorCheckpoint& x) const {
  return write_message(executor_dir(fw, x.info().executor_id()) + "/executor.pb", x);
}

caf::error agent_checkpoints::write_task(const v1::FrameworkID& fw, const v1::ExecutorID& ex,
                                         const internal::TaskCheckpoint& x) const {
  return write_message(executor_dir(fw, ex) + "/tasks/" + component(x.info().task_id().value())
                         + ".pb",
                       x);
}

void agent_checkpoints::remove_executor(const v1::FrameworkID& fw,
                                        const v1::ExecutorID& ex) const {
  std::error_code ec;
  fs::remove_all(executor_dir(fw, ex), ec);
}

void agent_checkpoints::remove_framework(const v1::FrameworkID& fw) const {
  std::error_code ec;
  fs::remove_all(framework_dir(fw), ec);
}

recovered_agent agent_checkpoints::recover() const {
  recovered_agent out;
  std::error_code ec;
  if (fs::exists(dir_ + "/agent.pb", ec))
    out.agent = read_message<internal::AgentCheckpoint>(dir_ + "/agent.pb", out.problems);
  for (const auto& fdir : subdirs(dir_ + "/frameworks")) {
    auto fw = read_message<internal::FrameworkCheckpoint>(fdir / "framework.pb", out.problems);
    if (!fw)
      continue;
    recovered_framework rf{*fw, {}};
    for (const auto& edir : subdirs(fdir / "executors")) {
      auto ex = read_message<internal::ExecutorCheckpoint>(edir / "executor.pb", out.problems);
      if (!ex)
        continue;
      recovered_executor re{*ex, {}};
      for (const auto& e : fs::directory_iterator{edir / "tasks", ec})
        if (e.path().extension() == ".pb")
          if (auto t = read_message<internal::TaskCheckpoint>(e.path(), out.problems))
            re.tasks.push_back(std::move(*t));
      rf.executors.push_back(std::move(re));
    }
    out.frameworks.push_back(std::move(rf));
  }
  return out;
}

std::string current_boot_id() {
  std::ifstream in{"/proc/sys/kernel/random/boot_id"};
  std::string id;
  std::getline(in, id);
  return id;
}

} // namespace troupe::agent
