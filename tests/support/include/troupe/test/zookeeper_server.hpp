// A real standalone ZooKeeper 3.8 server for integration tests (notes/infra.md "ZooKeeper 3.8
// (Debian)"): java QuorumPeerMain with a zoo.cfg in a temporary dataDir (tickTime=500, so a
// 2 s session stays 2 s), a free loopback port, ready when `srvr` answers with "Mode:".
// Stopped with SIGTERM (then SIGKILL) on destruction, on every exit path; the JVM also gets
// SIGKILL through setpriv --pdeathsig if the thread that started it dies first.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace troupe::test {

class child_process;
class zookeeper_ensemble;

class zookeeper_server {
public:
  /// Writes the config and starts the server, waiting up to `ready_timeout` for it to serve.
  /// Never throws for a missing Java/ZooKeeper installation: see available().
  explicit zookeeper_server(std::chrono::milliseconds ready_timeout = std::chrono::seconds{30});

  /// Stops the server (SIGTERM, SIGKILL after 5 s) and removes the dataDir.
  ~zookeeper_server();

  zookeeper_server(const zookeeper_server&) = delete;
  zookeeper_server& operator=(const zookeeper_server&) = delete;

  /// False when java or the ZooKeeper jars are missing or the server never became ready; tests
  /// skip with why() as the message.
  bool available() const {
    return available_;
  }

  /// Why the server is not available.
  const std::string& why() const {
    return why_;
  }

  /// The client port on 127.0.0.1 (kept across stop()/start()).
  uint16_t port() const {
    return port_;
  }

  /// "127.0.0.1:<port>", the connect string for zk_config::hosts.
  std::string hosts() const;

  /// Stops the server (SIGTERM; SIGKILL after `grace`): ZooKeeper "goes away".
  void stop(std::chrono::milliseconds grace = std::chrono::seconds{5});

  /// Kills the server with SIGKILL (a crash: the kernel resets its connections).
  void kill();

  /// Starts it again on the same port and dataDir (sessions survive if clients come back in
  /// time); true once ready within `ready_timeout`.
  bool start(std::chrono::milliseconds ready_timeout = std::chrono::seconds{30});

  /// True while the server process runs.
  bool running() const;

  /// True when `srvr` on the client port answers with "Mode:".
  bool ready() const;

  /// "leader", "follower", "standalone" (from `srvr`), or "" when it does not answer.
  std::string mode() const;

  /// The server's stdout/stderr (for diagnostics).
  const std::string& log_file() const {
    return log_file_;
  }

private:
  friend class zookeeper_ensemble;

  /// An ensemble member: config written, not started (available() says whether it could be).
  zookeeper_server(int myid, uint16_t client_port, const std::vector<std::string>& servers);

  /// Checks java and the jars, creates the dataDir and writes zoo.cfg (+ myid for members).
  bool prepare(int myid, const std::vector<std::string>& servers);

  /// Starts the process without waiting.
  bool launch();

  std::string dir_;
  std::string log_file_;
  uint16_t port_ = 0;
  bool available_ = false;
  std::string why_;
  std::unique_ptr<child_process> proc_;
};

/// A ZooKeeper ensemble of `size` servers on loopback (server.N=127.0.0.1:quorum:election,
/// a myid per dataDir), as notes/infra.md verified: serving ≈3 s after launch. Every server is
/// stopped on destruction.
class zookeeper_ensemble {
public:
  explicit zookeeper_ensemble(size_t size = 3,
                              std::chrono::milliseconds ready_timeout = std::chrono::seconds{60});

  bool available() const {
    return available_;
  }
  const std::string& why() const {
    return why_;
  }

  /// "127.0.0.1:p1,127.0.0.1:p2,...", the connect string.
  std::string hosts() const;

  /// Member `i` (0-based).
  zookeeper_server& server(size_t i) {
    return *servers_.at(i);
  }

  size_t size() const {
    return servers_.size();
  }

  /// Index of the member whose `srvr` says "leader" (size() when none does).
  size_t leader() const;

private:
  std::vector<std::unique_ptr<zookeeper_server>> servers_;
  bool available_ = false;
  std::string why_;
};

} // namespace troupe::test
