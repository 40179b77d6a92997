#include "troupe/test/zookeeper_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "troupe/test/child_process.hpp"

namespace troupe::test {

namespace {

namespace fs = std::filesystem;

const char* const zk_jars[] = {"/usr/share/java/zookeeper.jar", "/usr/share/java/slf4j-log4j12.jar",
                               "/usr/share/java/log4j-1.2.jar"};
const char* const zk_conf_dir = "/etc/zookeeper/conf";

std::string find_java() {
  if (const char* home = std::getenv("JAVA_HOME")) {
    auto p = fs::path{home} / "bin" / "java";
    if (::access(p.c_str(), X_OK) == 0)
      return p.string();
  }
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    auto end = dirs.find(':', start);
    if (end == std::string::npos)
      end = dirs.size();
    auto p = fs::path{dirs.substr(start, end - start)} / "java";
    if (::access(p.c_str(), X_OK) == 0)
      return p.string();
    start = end + 1;
  }
  return {};
}

// Binds port 0 on loopback and returns what the kernel chose (free right now).
uint16_t pick_free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0
      && ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

// Sends a four-letter word and returns the answer (empty on any failure), bounded by 1 s.
std::string four_letter_word(uint16_t port, const char* word) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return {};
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  timeval tv{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0
      && ::send(fd, word, std::strlen(word), MSG_NOSIGNAL) == static_cast<ssize_t>(std::strlen(word))) {
    char buf[1024];
    for (;;) {
      auto n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0)
        break;
      out.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return out;
}

} // namespace

zookeeper_server::zookeeper_server(std::chrono::milliseconds ready_timeout) {
  port_ = pick_free_port();
  if (!prepare(0, {}))
    return;
  available_ = start(ready_timeout);
  if (!available_ && why_.empty())
    why_ = "ZooKeeper did not become ready (see " + log_file_ + ")";
}

zookeeper_server::zookeeper_server(int myid, uint16_t client_port,
                                   const std::vector<std::string>& servers) {
  port_ = client_port;
  available_ = prepare(myid, servers);
}

bool zookeeper_server::prepare(int myid, const std::vector<std::string>& servers) {
  if (find_java().empty()) {
    why_ = "no java in PATH (install zookeeperd)";
    return false;
  }
  for (auto* jar : zk_jars)
    if (!fs::exists(jar)) {
      why_ = std::string{jar} + " is missing (install zookeeperd)";
      return false;
    }
  if (port_ == 0) {
    why_ = "no free loopback port";
    return false;
  }
  dir_ = temp_path("zookeeper");
  std::error_code ec;
  fs::create_directories(fs::path{dir_} / "data", ec);
  if (ec) {
    why_ = "cannot create " + dir_ + ": " + ec.message();
    return false;
  }
  log_file_ = dir_ + "/zookeeper.log";
  std::ofstream cfg{dir_ + "/zoo.cfg"};
  cfg << "tickTime=500\n"
      << "minSessionTimeout=1000\n"
      << "maxSessionTimeout=60000\n"
      << "initLimit=10\nsyncLimit=5\n"
      << "dataDir=" << dir_ << "/data\n"
      << "clientPort=" << port_ << "\n"
      << "clientPortAddress=127.0.0.1\n"
      << "admin.enableServer=false\n"
      << "4lw.commands.whitelist=srvr,ruok,mntr\n";
  for (const auto& line : servers)
    cfg << line << "\n";
  cfg.close();
  if (myid > 0)
    std::ofstream{dir_ + "/data/myid"} << myid << "\n";
  return true;
}

zookeeper_server::~zookeeper_server() {
  stop();
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

std::string zookeeper_server::hosts() const {
  return "127.0.0.1:" + std::to_string(port_);
}

bool zookeeper_server::running() const {
  return proc_ && proc_->running();
}

bool zookeeper_server::ready() const {
  return four_letter_word(port_, "srvr").find("Mode:") != std::string::npos;
}

bool zookeeper_server::start(std::chrono::milliseconds ready_timeout) {
  if (running())
    return ready();
  if (!launch())
    return false;
  auto deadline = std::chrono::steady_clock::now() + ready_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!proc_->running()) {
      why_ = "ZooKeeper exited during start (see " + log_file_ + ")";
      return false;
    }
    if (ready())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
  stop();
  return false;
}

bool zookeeper_server::launch() {
  auto java = find_java();
  if (java.empty() || dir_.empty())
    return false;
  std::string classpath = zk_conf_dir;
  for (auto* jar : zk_jars)
    classpath += std::string{":"} + jar;
  std::vector<std::string> argv{"/usr/bin/setpriv", "--pdeathsig", "KILL", "--", java,
                                "-Xmx256m", "-XX:+UseSerialGC", "-XX:-UsePerfData",
                                "-Dzookeeper.root.logger=INFO,CONSOLE",
                                "-cp", classpath,
                                "org.apache.zookeeper.server.quorum.QuorumPeerMain",
                                dir_ + "/zoo.cfg"};
  if (::access(argv[0].c_str(), X_OK) != 0) // no setpriv: no parent-death signal
    argv.erase(argv.begin(), argv.begin() + 4);
  try {
    proc_ = std::make_unique<child_process>(argv, log_file_);
  } catch (const std::exception& e) {
    why_ = e.what();
    return false;
  }
  return true;
}

std::string zookeeper_server::mode() const {
  auto out = four_letter_word(port_, "srvr");
  auto at = out.find("Mode: ");
  if (at == std::string::npos)
    return {};
  auto end = out.find('\n', at);
  return out.substr(at + 6, end == std::string::npos ? std::string::npos : end - at - 6);
}

void zookeeper_server::kill() {
  stop(std::chrono::milliseconds{0});
}

void zookeeper_server::stop(std::chrono::milliseconds grace) {
  if (!proc_)
    return;
  if (proc_->running()) {
    if (grace.count() > 0)
      proc_->signal(SIGTERM);
    if (grace.count() == 0 || !proc_->wait_for(grace)) {
      proc_->signal(SIGKILL);
      proc_->wait_for(std::chrono::seconds{5});
    }
  }
  proc_.reset(); // SIGKILLs whatever still runs
}

zookeeper_ensemble::zookeeper_ensemble(size_t size, std::chrono::milliseconds ready_timeout) {
  std::vector<std::string> lines;
  std::vector<uint16_t> client_ports;
  for (size_t i = 0; i < size; ++i) {
    auto quorum = pick_free_port();
    auto election = pick_free_port();
    client_ports.push_back(pick_free_port());
    lines.push_back("server." + std::to_string(i + 1) + "=127.0.0.1:" + std::to_string(quorum)
                    + ":" + std::to_string(election));
  }
  for (size_t i = 0; i < size; ++i) {
    servers_.emplace_back(new zookeeper_server(static_cast<int>(i + 1), client_ports[i], lines));
    if (!servers_.back()->available()) {
      why_ = servers_.back()->why();
      return;
    }
  }
  for (auto& server : servers_)
    if (!server->launch()) {
      why_ = "cannot start a ZooKeeper server: " + server->why();
      return;
    }
  auto deadline = std::chrono::steady_clock::now() + ready_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    bool all = true;
    for (auto& server : servers_)
      all = all && server->ready();
    if (all) {
      available_ = true;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{200});
  }
  why_ = "the ensemble did not become ready (see " + servers_.front()->log_file() + ")";
}

std::string zookeeper_ensemble::hosts() const {
  std::string out;
  for (const auto& server : servers_)
    out += (out.empty() ? "" : ",") + server->hosts();
  return out;
}

size_t zookeeper_ensemble::leader() const {
  for (size_t i = 0; i < servers_.size(); ++i)
    if (servers_[i]->mode() == "leader")
      return i;
  return servers_.size();
}

} // namespace troupe::test
