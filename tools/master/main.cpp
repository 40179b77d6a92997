// troupe-master: the master daemon (standalone election: this process leads while it runs).
//
//   troupe-master [--hostname 127.0.0.1] [--port 5055] [--http-port 5050] [--ping-interval 5] ...
//
// Agents and schedulers connect to --hostname:--port; operators and the CLI use the HTTP API on
// --hostname:--http-port (/health, /api/v1/master, /api/v1/state, /metrics), served from the
// state_view's snapshots. SIGINT/SIGTERM stop it cleanly.
#include <iostream>

#include <CLI/CLI.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "troupe/master/state_view.hpp"
#include "troupe/runtime/errors.hpp"
#include "troupe/runtime/http_server.hpp"
#include "troupe/runtime/logging.hpp"
#include "troupe/runtime/metrics.hpp"
#include "troupe/runtime/node_config.hpp"
#include "troupe/runtime/options.hpp"
#include "troupe/runtime/random.hpp"
#include "troupe/runtime/transport.hpp"
#include "troupe/tools/http_routes.hpp"
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
  // Declared after sys and before http: the server stops first, then the view, then the system.
  runtime::node_metrics metrics;
  master::state_view view{&metrics};
  runtime::http_server http;
  tools::add_master_routes(http, view, metrics);
  // HTTP binds first: MasterInfo (built before the master spawns) advertises the bound port.
  auto http_port = http.start(flags.hostname, flags.http_port);
  if (!http_port) {
    (*log)->error("cannot serve HTTP: {}", runtime::render(http_port.error()));
    return 1;
  }
  cfg->info.set_http_port(*http_port);
  auto master = master::spawn_master(sys, *cfg);
  auto port = tp->publish(caf::actor_cast<caf::actor>(master), {flags.hostname, flags.port});
  if (!port) {
    (*log)->error("cannot publish the master: {}", runtime::render(port.error()));
    caf::anon_send_exit(master, caf::exit_reason::user_shutdown);
    return 1;
  }
  if (flags.port == 0) // advertise the bound port, not 0
    cfg->info.set_actor_port(*port);
  view.start(sys, master, cfg->info);
  tools::write_port_file(flags.port_file, *port);
  tools::write_port_file(flags.http_port_file, *http_port);
  (*log)->info("master {} listening on {}:{}, HTTP on {}:{} (cluster seed {})", cfg->info.id(),
               flags.hostname, *port, flags.hostname, *http_port, seed);
  int sig = 0;
  sigwait(&signals, &sig);
  (*log)->info("signal {}: shutting down", sig);
  caf::anon_send_exit(master, caf::exit_reason::user_shutdown);
  return 0;
}
