// troupe-demo: two real processes talking troupe's wire messages over CAF's middleman.
//
//   troupe-demo serve [--host H] [--port P] [--port-file F]   publish an echo actor until SIGTERM
//   troupe-demo probe --peer H:P [--count N]                  ping it, stream one-way updates,
//                                                             print latency and throughput
//
// Until master and agent exist, tools/up runs this pair to show the stack working.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <vector>

#include <CLI/CLI.hpp>
#include <caf/actor_system.hpp>
#include <caf/detail/scope_guard.hpp>
#include <caf/scoped_actor.hpp>
#include <spdlog/spdlog.h>

#include "echo_actor.hpp"
#include "troupe/messages/builders.hpp"
#include "troupe/runtime/errors.hpp"
#include "troupe/runtime/logging.hpp"
#include "troupe/runtime/node_config.hpp"
#include "troupe/runtime/options.hpp"
#include "troupe/runtime/random.hpp"
#include "troupe/runtime/transport.hpp"

using namespace std::chrono_literals;
using namespace troupe;

namespace {

struct demo_options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string port_file;
  std::string peer;
  uint64_t count = 20000;
  bool in_process = false;
};

int serve(const runtime::node_options& node, const demo_options& opts, const sigset_t& signals) {
  auto log = runtime::make_node_logger(node);
  if (!log) {
    std::cerr << runtime::render(log.error()) << '\n';
    return 2;
  }
  runtime::node_config cfg{node};
  caf::actor_system sys{cfg};
  auto tp = runtime::make_middleman_transport(sys);
  auto echo = demo::spawn_echo(sys, *log);
  auto port = tp->publish(caf::actor_cast<caf::actor>(echo), {opts.host, opts.port});
  if (!port) {
    (*log)->error("{}", runtime::render(port.error()));
    caf::anon_send_exit(echo, caf::exit_reason::user_shutdown);
    return 1;
  }
  (*log)->info("echo published on {}:{} (cluster seed {})", opts.host, *port,
               runtime::choose_cluster_seed(node.cluster_seed));
  if (!opts.port_file.empty()) {
    // Write then rename: a reader never sees a half-written port.
    auto tmp = opts.port_file + ".tmp";
    std::ofstream{tmp} << *port << '\n';
    std::rename(tmp.c_str(), opts.port_file.c_str());
  }
  int sig = 0;
  sigwait(&signals, &sig);
  (*log)->info("signal {}: shutting down", sig);
  caf::anon_send_exit(echo, caf::exit_reason::user_shutdown);
  return 0;
}

double percentile(std::vector<double> xs, double p) {
  if (xs.empty())
    return 0;
  std::sort(xs.begin(), xs.end());
  return xs[static_cast<size_t>(p * static_cast<double>(xs.size() - 1))];
}

// Connects to the echo at --peer, or (--in-process, the baseline) spawns one locally.
caf::expected<protocols::echo_actor> find_echo(caf::actor_system& sys, runtime::transport& tp,
                                               const demo_options& opts) {
  if (opts.in_process)
    return demo::spawn_echo(sys, runtime::node_logger("probe-echo"));
  auto at = runtime::parse_endpoint(opts.peer);
  if (!at)
    return at.error();
  auto hdl = tp.connect(*at);
  if (!hdl)
    return hdl.error();
  return caf::actor_cast<protocols::echo_actor>(*hdl);
}

int probe(const runtime::node_options& node, const demo_options& opts) {
  runtime::node_config cfg{node};
  caf::actor_system sys{cfg};
  auto tp = runtime::make_middleman_transport(sys);
  auto found = find_echo(sys, *tp, opts);
  if (!found) {
    std::cerr << runtime::render(found.error()) << '\n';
    return 1;
  }
  auto echo = *found;
  // A local echo must be stopped explicitly, or the actor system waits for it forever.
  auto stop_local = caf::detail::make_scope_guard([&] {
    if (opts.in_process)
      caf::anon_send_exit(echo, caf::exit_reason::user_shutdown);
  });
  caf::scoped_actor self{sys};
  // 1. Typed request/response: ping round-trip times.
  std::vector<double> rtt_us;
  for (uint64_t i = 0; i < 1000; ++i) {
    v1::Ping ping;
    ping.set_seq(i);
    auto t0 = std::chrono::steady_clock::now();
    bool ok = false;
    self->request(echo, 2s, ping).receive(
      [&](const v1::Pong& pong) { ok = pong.seq() == i; },
      [&](const caf::error& err) { std::cerr << "ping: " << runtime::render(err) << '\n'; });
    if (!ok)
      return 1;
    rtt_us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  // 2. One-way: status updates; each comes back as its own acknowledgement message.
  auto t0 = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < opts.count; ++i) {
    auto status = make_task_status(make_task_id("task-" + std::to_string(i % 100)),
                                   v1::TASK_RUNNING, v1::TaskStatus::SOURCE_EXECUTOR, 0);
    self->send(echo, make_status_update(make_framework_id("demo"), make_agent_id("probe"),
                                        v1::ExecutorID{}, status, "u" + std::to_string(i)));
  }
  uint64_t acks = 0;
  bool timed_out = false;
  while (acks < opts.count && !timed_out)
    self->receive([&](const v1::StatusUpdateAcknowledgement&) { ++acks; },
                  caf::after(10s) >> [&] { timed_out = true; });
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  uint64_t received = 0;
  self->request(echo, 5s, protocols::echo_stats_atom::value)
    .receive([&](uint64_t one_way, uint64_t) { received = one_way; },
             [&](const caf::error& err) { std::cerr << runtime::render(err) << '\n'; });
  std::printf("ping rtt over 1000 requests: p50 %.0f us, p99 %.0f us\n", percentile(rtt_us, 0.5),
              percentile(rtt_us, 0.99));
  std::printf("one-way: %lu status updates sent, %lu acknowledged in %.2f s (%.0f msg/s)\n",
              static_cast<unsigned long>(opts.count), static_cast<unsigned long>(acks), secs,
              static_cast<double>(acks) / secs);
  std::printf("echo counted %lu updates in total\n", static_cast<unsigned long>(received));
  return acks == opts.count ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"troupe-demo: the wire stack across two processes"};
  app.require_subcommand(1);
  runtime::node_options node;
  node.node_name = "demo";
  runtime::add_node_options(app, node);
  demo_options opts;
  auto* serve_cmd = app.add_subcommand("serve", "publish an echo actor until SIGTERM");
  serve_cmd->add_option("--host", opts.host, "address to bind")->capture_default_str();
  serve_cmd->add_option("--port", opts.port, "port (0 = any)")->capture_default_str();
  serve_cmd->add_option("--port-file", opts.port_file, "write the bound port here");
  auto* probe_cmd = app.add_subcommand("probe", "measure an echo peer");
  auto* peer_opt = probe_cmd->add_option("--peer", opts.peer, "host:port of the echo");
  probe_cmd->add_flag("--in-process", opts.in_process, "baseline: probe an echo in this process")
    ->excludes(peer_opt);
  probe_cmd->add_option("--count", opts.count, "one-way messages to send")
    ->check(CLI::Range(uint64_t{1}, uint64_t{10'000'000}))
    ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (auto err = runtime::validate(node)) {
    std::cerr << runtime::render(err) << '\n';
    return 2;
  }
  if (serve_cmd->parsed()) {
    // Block the shutdown signals before CAF starts its threads (they inherit the mask);
    // serve() waits for them with sigwait. probe keeps the default: Ctrl-C ends it.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    return serve(node, opts, signals);
  }
  if (opts.peer.empty() && !opts.in_process) {
    std::cerr << "probe: give --peer host:port or --in-process\n";
    return 2;
  }
  return probe(node, opts);
}
