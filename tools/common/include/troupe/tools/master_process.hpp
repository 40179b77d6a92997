// A master as troupe-master and `troupe local` run it: its HTTP edge (state_view snapshots,
// metrics, routes, leadership redirects) bound first, so the MasterInfo it advertises names the
// bound HTTP port; then the master candidate (master_candidate.hpp), published on the actor
// port, which contends — standalone, or through ZooKeeper with --zk — and runs a leadership
// term (registrar + master) while this node leads. The registry lives in ZooKeeper (--zk), in
// LevelDB (--work-dir) or in memory.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include <caf/error.hpp>
#include <caf/fwd.hpp>

#include "troupe/master/master_actor.hpp"
#include "troupe/master/state_view.hpp"
#include "troupe/runtime/http_server.hpp"
#include "troupe/runtime/metrics.hpp"
#include "troupe/runtime/options.hpp"
#include "troupe/runtime/store/store.hpp"
#include "troupe/runtime/transport.hpp"
#include "troupe/tools/leadership.hpp"
#include "troupe/tools/node_flags.hpp"

namespace troupe::tools {

class master_process {
public:
  master_process();
  /// Stops HTTP, the snapshots, then the candidate (its term with it), the detector and the
  /// leadership listener, waiting until they are gone. Declare it after the actor system, so
  /// it ends first.
  ~master_process();

  /// Binds HTTP on flags.hostname:flags.http_port, opens the registry store, spawns the
  /// candidate with `cfg` as the terms' template (its MasterInfo then carries both bound
  /// ports), publishes it on flags.port and contends. A standalone master (no --zk) then waits
  /// until its HTTP API serves /api/v1/master (its first snapshot; a standby in an HA set has
  /// none to wait for). With `announce`, the port files are written last: they mean "ready".
  /// Errors say which step failed; nothing keeps running after one.
  caf::error start(caf::actor_system& sys, runtime::transport& tp, const master_flags& flags,
                   master::master_config cfg, bool announce = true);

  /// Writes flags.port_file and flags.http_port_file (for callers that announce later).
  void write_port_files(const master_flags& flags) const;

  /// The candidate, as agents and schedulers address the master (it forwards to the term).
  const master::master_entry_actor& actor() const {
    return master_;
  }
  /// Whether this master serves a leadership term right now.
  bool serving() const {
    return leadership_.serving();
  }
  /// The read side HTTP serves from (snapshots of the master's state).
  const master::state_view& view() const {
    return view_;
  }
  /// The advertised MasterInfo, with the bound ports.
  const v1::MasterInfo& info() const {
    return info_;
  }

private:
  // Order matters: the server is destroyed first, then the view, then the metrics.
  caf::actor_system* sys_ = nullptr;
  runtime::node_metrics metrics_;
  leadership_view leadership_;
  master::state_view view_;
  runtime::http_server http_;
  std::shared_ptr<runtime::store> store_;
  master::master_entry_actor master_;
  caf::actor detector_;
  caf::actor listener_;
  v1::MasterInfo info_;
};

/// The start of every troupe main: parses argv into `app` (which has the node options of
/// `node` and the command's own), validates them and creates the node's logger. Returns the
/// exit code when main must stop now: 0 after --help, 2 for bad flags (the message printed).
std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv,
                                      runtime::node_options& node);

} // namespace troupe::tools
