// troupe-master: the master daemon.
//
//   troupe-master [--hostname 127.0.0.1] [--port 5055] [--http-port 5050] [--ping-interval 5] ...
//   troupe-master --zk zk://h1:2181,h2:2181,h3:2181/troupe --quorum 2 ...   (HA)
//
// Standalone (no --zk), this process leads while it runs (registry in LevelDB with --work-dir,
// else in memory). With --zk, every master contends in ZooKeeper; the leader serves, the
// others redirect HTTP (307) and take over within about a session timeout when it dies.
//
// Agents and schedulers connect to --hostname:--port; operators and the CLI use the HTTP API on
// --hostname:--http-port (/health, /api/v1/master, /api/v1/state, /metrics), served from the
// state_view's snapshots. SIGINT/SIGTERM stop it cleanly. --print-supervision prints the
// node's supervision tree and exits.
#include <iostream>

#include <CLI/CLI.hpp>
#include <caf/actor_system.hpp>
#include <spdlog/spdlog.h>

#include "troupe/master/leader_term.hpp"
#include "troupe/runtime/errors.hpp"
#include "troupe/runtime/logging.hpp"
#include "troupe/runtime/node_config.hpp"
#include "troupe/runtime/options.hpp"
#include "troupe/runtime/random.hpp"
#include "troupe/runtime/transport.hpp"
#include "troupe/runtime/election/election.hpp"
#include "troupe/tools/master_process.hpp"

using namespace troupe;

int main(int argc, char** argv) {
  CLI::App app{"troupe-master: the troupe master daemon"};
  runtime::node_options node;
  node.node_name = "master";
  runtime::add_node_options(app, node);
  tools::master_flags flags;
  tools::add_master_flags(app, flags);
  app.add_flag_callback(
    "--print-supervision",
    [] {
      std::cout << master::master_supervision_tree();
      throw CLI::Success{}; // like --help: print, exit 0
    },
    "print this node's supervision tree (actors, strategies, restart limits) and exit");
  if (auto code = tools::parse_command_line(app, argc, argv, node))
    return *code;
  auto log = runtime::node_logger(node.node_name);
  auto seed = runtime::choose_cluster_seed(node.cluster_seed);
  auto cfg = tools::to_master_config(flags, seed);
  if (!cfg) {
    std::cerr << runtime::say(cfg.error()) << '\n';
    return 2;
  }
  cfg->node = node.node_name;
  if (flags.zk.empty() && flags.quorum > 1)
    log->warn("--quorum {} has no effect without --zk: this master leads alone", flags.quorum);
  if (!flags.zk.empty()) {
    if (auto zk = runtime::election::parse_zk_url(flags.zk); !zk) {
      std::cerr << "--zk: " << runtime::say(zk.error()) << '\n';
      return 2;
    }
  }
  auto signals = tools::block_shutdown_signals();
  runtime::node_config sys_cfg{node};
  caf::actor_system sys{sys_cfg};
  auto tp = runtime::make_middleman_transport(sys);
  tools::master_process master;
  if (auto err = master.start(sys, *tp, flags, *cfg)) {
    log->error("{}", runtime::say(err));
    return 1;
  }
  log->info("master {} listening on {}:{}, HTTP on {}:{} (cluster seed {}), {}", cfg->info.id(),
            flags.hostname, master.info().actor_port(), flags.hostname,
            master.info().http_port(), seed,
            flags.zk.empty() ? std::string{"standalone"}
                             : "contending at " + flags.zk + " (quorum "
                                 + std::to_string(flags.quorum) + ")");
  int sig = 0;
  sigwait(&signals, &sig);
  log->info("signal {}: shutting down", sig);
  return 0;
}
