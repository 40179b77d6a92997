// A fault plan: what happens to a simulated cluster when, one fault per line, in a small text
// language that troupe-sim reads from --fault flags or a spec file and tests write inline:
//
//   1.5s partition agent-1 | master-1 framework   both ways between the two groups
//   2s   cut agent-2 master-1                     one way: agent-2 -> master-1 drops
//   3s   clog agent-3 master-1 800ms              that link (one way) delays by 800 ms
//   20s  heal                                     every cut, partition and clog ends
//   5s   disconnect framework master-1            their connections break (down messages);
//                                                 whoever reconnects gets through
//   4s   crash agent-1 | master-2 | framework     the machine: node down, its actors die
//   4s   stop agent-1                             the agent process only (tasks keep running)
//   9s   restart agent-1 | master-2               a crashed or stopped node starts again
//   1.2s fail-over master-2                       the leader is deposed, master-2 appointed
// With the simulated ZooKeeper (cluster_spec::zookeeper), "zk" is a node too (partition
// master-1 | zk, cut zk master-2, disconnect master-1 zk), and:
//   5s   expire master-1                          ZooKeeper expires the node's sessions now
//   5s   freeze master-1                          its ZooKeeper client stops (sends nothing,
//                                                 hears nothing, notices nothing): a leader
//                                                 that still believes it leads
//   20s  thaw master-1                            the client runs again
//
// Times count from the cluster's start ("s" or "ms"; a bare number is seconds). Blank lines
// and comments ('#' to the end of the line) are ignored; faults run in time order (ties in
// plan order).
#pragma once

#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <caf/timespan.hpp>

namespace troupe::sim {

enum class fault_kind {
  partition, cut, clog, heal, disconnect, crash, stop, restart, fail_over, expire, freeze, thaw
};

struct fault {
  caf::timespan at{0};
  fault_kind kind = fault_kind::heal;
  std::vector<std::string> nodes;  ///< crash/stop/restart/fail-over/expire/freeze/thaw: one; cut/clog/disconnect:
                                   ///< the two ends
  std::vector<std::string> others; ///< partition: the second group
  caf::timespan delay{0};          ///< clog
  std::string text;                ///< the line as written (for reports)
};

class fault_plan {
public:
  fault_plan() = default;

  /// Parses `text` (lines as above). Errors name the line and what is wrong with it.
  static caf::expected<fault_plan> parse(const std::string& text);

  /// parse() for plans written in code: throws std::invalid_argument with parse()'s message.
  static fault_plan of(const std::string& text);

  /// parse() of each line in turn (troupe-sim's repeated --fault).
  static caf::expected<fault_plan> parse(const std::vector<std::string>& lines);

  const std::vector<fault>& faults() const {
    return faults_;
  }

  bool empty() const {
    return faults_.empty();
  }

private:
  std::vector<fault> faults_; ///< sorted by time, stable
};

/// "t=1500ms crash agent-1".
std::string describe(const fault& f);

} // namespace troupe::sim
