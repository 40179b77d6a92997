// troupe-agent: the agent daemon.
//
//   troupe-agent --master HOST:PORT|zk://HOST:PORT[,HOST:PORT]/PATH --work-dir DIR [--port 5065] [--http-port 5060]
//                [--resources 'cpus:2;mem:1024']
//
// Publishes the agent's actors on --hostname:--port (executors connect there), registers with
// the master (--master is the master's actor endpoint) and runs tasks with the POSIX
// containerizer. Serves /health, /api/v1/state and /metrics on --hostname:--http-port.
// SIGINT/SIGTERM stop it and every task it runs. When the agent actor ends on its own (its
// helpers crashed too often, see --print-supervision), the process exits 1.
#include <atomic>
#include <csignal>
#include <iostream>
#include <thread>

#include <sys/prctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "troupe/agent/agent_actor.hpp"
#include "troupe/isolation/containerizer.hpp"
#include "troupe/runtime/errors.hpp"
#include "troupe/runtime/http_server.hpp"
#include "troupe/runtime/logging.hpp"
#include "troupe/runtime/metrics.hpp"
#include "troupe/runtime/node_config.hpp"
#include "troupe/runtime/options.hpp"
#include "troupe/runtime/random.hpp"
#include "troupe/runtime/transport.hpp"
#include "troupe/tools/agent_state_view.hpp"
#include "troupe/tools/http_routes.hpp"
#include "troupe/tools/leadership.hpp"
#include "troupe/tools/master_process.hpp"
#include "troupe/tools/node_flags.hpp"

using namespace troupe;

namespace {

std::atomic<bool> agent_failed{false}; ///< the agent actor ended on its own

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"troupe-agent: the troupe agent daemon"};
  runtime::node_options node;
  node.node_name = "agent";
  runtime::add_node_options(app, node);
  tools::agent_flags flags;
  tools::add_agent_flags(app, flags);
  app.add_flag_callback(
    "--print-supervision",
    [] {
      std::cout << agent::agent_supervision_tree();
      throw CLI::Success{}; // like --help: print, exit 0, no other option required
    },
    "print this node's supervision tree (actors, strategies, restart limits) and exit");
  if (auto code = tools::parse_command_line(app, argc, argv, node))
    return *code;
  auto log = runtime::node_logger(node.node_name);
  // --master is host:port (standalone master) or zk://…/path (follow the elected leader).
  std::optional<runtime::endpoint> master_at;
  std::optional<runtime::election::zk_config> master_zk;
  if (runtime::election::is_zk_url(flags.master)) {
    auto zk = runtime::election::parse_zk_url(flags.master);
    if (!zk) {
      std::cerr << "--master: " << runtime::say(zk.error()) << '\n';
      return 2;
    }
    master_zk = *zk;
  } else {
    auto at = runtime::parse_endpoint(flags.master);
    if (!at) {
      std::cerr << "--master: " << runtime::say(at.error()) << '\n';
      return 2;
    }
    master_at = *at;
  }
  auto seed = runtime::choose_cluster_seed(node.cluster_seed);
  auto cfg = tools::to_agent_config(flags, seed);
  if (!cfg) {
    std::cerr << runtime::say(cfg.error()) << '\n';
    return 2;
  }
  cfg->node = node.node_name;
  // Unique per process (not from the cluster seed): a restart without state must not pass for
  // a retry of this process's registration.
  cfg->incarnation = std::to_string(runtime::choose_cluster_seed(0));
  auto containerizer = tools::choose_containerizer(flags, *cfg);
  if (!containerizer) {
    std::cerr << runtime::say(containerizer.error()) << '\n';
    return 2;
  }
  // Orphaned descendants of tasks are reparented to us, not to init, so we reap them.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  auto signals = tools::block_shutdown_signals();
  runtime::node_config sys_cfg{node};
  caf::actor_system sys{sys_cfg};
  auto tp = runtime::make_middleman_transport(sys);
  // Declared after sys and before http: the server stops first, then the view, then the system.
  runtime::node_metrics metrics;
  tools::agent_state_view view{&metrics};
  runtime::http_server http;
  tools::add_agent_routes(http, view, metrics);
  auto http_port = http.start(flags.hostname, flags.http_port);
  if (!http_port) {
    log->error("cannot serve HTTP: {}", runtime::say(http_port.error()));
    return 1;
  }
  // The master is found, and reconnected to, by a leader connector: a ZooKeeper detector for
  // zk://, a fixed address otherwise. Either way the agent starts before its master is up (or
  // while it restarts) and registers once a connection stands; meanwhile it logs one line per
  // attempt, backing off, and its /health says "registering".
  auto agent = agent::spawn_agent(sys, *cfg, protocols::master_actor{}, *containerizer);
  auto port = tp->publish(caf::actor_cast<caf::actor>(agent), {flags.hostname, flags.port});
  if (!port) {
    log->error("cannot publish the agent: {}", runtime::say(port.error()));
    caf::anon_send_exit(agent, caf::exit_reason::user_shutdown);
    return 1;
  }
  // The agent ending by itself ends the process (exit 1), so its own supervisor restarts it.
  caf::actor_cast<caf::abstract_actor*>(agent)->attach_functor([log](const caf::error& reason) {
    if (!reason || reason == caf::make_error(caf::exit_reason::user_shutdown))
      return;
    log->critical("the agent ended: {}; exiting", runtime::say(reason));
    agent_failed = true;
    ::kill(::getpid(), SIGTERM); // wakes the sigwait below
  });
  caf::anon_send(agent, agent::executor_endpoint_atom::value,
                 flags.hostname + ":" + std::to_string(*port));
  caf::actor detector;
  if (master_zk)
    detector = caf::actor_cast<caf::actor>(
      tools::follow_master(sys, *tp, *master_zk, caf::actor_cast<caf::actor>(agent)));
  else
    detector = caf::actor_cast<caf::actor>(
      tools::follow_fixed_master(sys, *tp, *master_at, caf::actor_cast<caf::actor>(agent)));
  view.start(sys, agent);
  // Ready when its HTTP API serves a first snapshot: only then the port files.
  for (int i = 0; i < 3000 && view.state_json().empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  tools::write_port_file(flags.port_file, *port);
  tools::write_port_file(flags.http_port_file, *http_port);
  log->info("agent listening on {}:{}, HTTP on {}:{}, master {}, work dir {}", flags.hostname,
               *port, flags.hostname, *http_port, flags.master, cfg->work_dir);
  int sig = 0;
  sigwait(&signals, &sig);
  log->info("signal {}: shutting down", sig);
  if (detector)
    caf::anon_send_exit(detector, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(agent, caf::exit_reason::user_shutdown);
  return agent_failed ? 1 : 0;
}
