// troupe-master: the master daemon (standalone election: this process leads while it runs).
//
//   troupe-master [--hostname 127.0.0.1] [--port 5055] [--ping-interval 5] ...
//
// Agents and schedulers connect to --hostname:--port. SIGINT/SIGTERM stop it cleanly.
#include <iostream>

#include <CLI/CLI.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "troupe/runtime/errors.hpp"
#include "troupe/runtime/logging.hpp"
#include "troupe/runtime/node_config.hpp"
#include "troupe/runtime/options.hpp"
#include "troupe/runtime/random.hpp"
#include "troupe/runtime/transport.hpp"
#include "troupe/tools/node_flags.hpp"

using namespace troupe;

int main(int argc, char** argv) {
  CLI::App app{"troupe-master: the troupe master daemon"};
  runtime::node_options node;
  node.node_name = "master";
  runtime::add_node_options(app, node);
  tools::master_flags flags;
  tools::add_master_flags(app, flags);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (auto err = runtime::validate(node)) {
    std::cerr << runtime::render(err) << '\n';
    return 2;
  }
  auto log = runtime::make_node_logger(node);
  if (!log) {
    std::cerr << runtime::render(log.error()) << '\n';
    return 2;
  }
  auto seed = runtime::choose_cluster_seed(node.cluster_seed);
  auto cfg = tools::to_master_config(flags, seed);
  if (!cfg) {
    std::cerr << runtime::render(cfg.error()) << '\n';
    return 2;
  }
  cfg->node = node.node_name;
  auto signals = tools::block_shutdown_signals();
  runtime::node_config sys_cfg{node};
  caf::actor_system sys{sys_cfg};
  auto tp = runtime::make_middleman_transport(sys);
  auto master = master::spawn_master(sys, *cfg);
  auto port = tp->publish(caf::actor_cast<caf::actor>(master), {flags.hostname, flags.port});
  if (!port) {
    (*log)->error("cannot publish the master: {}", runtime::render(port.error()));
    caf::anon_send_exit(master, caf::exit_reason::user_shutdown);
    return 1;
  }
  tools::write_port_file(flags.port_file, *port);
  (*log)->info("master {} listening on {}:{} (cluster seed {})", cfg->info.id(), flags.hostname,
               *port, seed);
  int sig = 0;
  sigwait(&signals, &sig);
  (*log)->info("signal {}: shutting down", sig);
  caf::anon_send_exit(master, caf::exit_reason::user_shutdown);
  return 0;
}
