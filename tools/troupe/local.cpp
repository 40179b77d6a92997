// `troupe local`: a master and N agents in one process (agents run real tasks through the
// POSIX containerizer; executors connect back over loopback), optionally the example framework.
// The master's HTTP API (--http-port, default 5050) is served as by troupe-master.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <iostream>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "commands.hpp"
#include "troupe/examples/batch_framework.hpp"
#include "troupe/master/state_view.hpp"
#include "troupe/messages/builders.hpp"
#include "troupe/messages/json.hpp"
#include "troupe/runtime/errors.hpp"
#include "troupe/runtime/http_server.hpp"
#include "troupe/runtime/logging.hpp"
#include "troupe/runtime/metrics.hpp"
#include "troupe/runtime/node_config.hpp"
#include "troupe/runtime/random.hpp"
#include "troupe/runtime/transport.hpp"
#include "troupe/sdk/scheduler_driver.hpp"
#include "troupe/tools/master_process.hpp"
#include "troupe/tools/http_routes.hpp"

namespace troupe::cli {

namespace {

std::atomic<int> example_result{-1};

// Prints the example framework's updates; when it is done, records the result and (when asked)
// wakes main's sigwait so the process stops.
examples::batch_observer_actor::behavior_type printer(bool exit_when_done) {
  return {
    [](examples::batch_subscribed_atom, const v1::FrameworkID&) {},
    [](const v1::TaskStatus& s) {
      std::cout << "example: task " << s.task_id().value() << " " << v1::TaskState_Name(s.state())
                << (s.message().empty() ? "" : " (" + s.message() + ")") << std::endl;
    },
    [](const v1::scheduler::Error& err) {
      std::cout << "example: the master removed the framework: " << err.message() << std::endl;
    },
    [exit_when_done](examples::batch_done_atom, uint32_t ok, uint32_t failed, int32_t) {
      std::cout << "example: done, " << ok << " finished, " << failed << " gave up" << std::endl;
      example_result = failed == 0 ? 0 : 1;
      if (exit_when_done)
        kill(getpid(), SIGTERM);
    },
  };
}

// Whether the HTTP API (the view's snapshot) shows `n` registered agents before `limit`.
bool all_registered(const master::state_view& view, uint32_t n, caf::timespan limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    v1::MasterState st;
    auto json = view.state_json();
    if (!json.empty() && !from_json(json, st)) {
      auto registered = std::count_if(st.agents().begin(), st.agents().end(),
                                      [](const auto& a) { return a.status() == "registered"; });
      if (registered >= static_cast<int64_t>(n))
        return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  return false;
}

} // namespace

int run_local(const runtime::node_options& node, const tools::master_flags& mflags,
              const local_options& opts) {
  auto master_log = runtime::make_node_logger("master", node.log_level, node.log_file);
  if (!master_log) {
    std::cerr << runtime::say(master_log.error()) << '\n';
    return 2;
  }
  auto seed = runtime::choose_cluster_seed(node.cluster_seed);
  auto mcfg = tools::to_master_config(mflags, seed);
  if (!mcfg) {
    std::cerr << runtime::say(mcfg.error()) << '\n';
    return 2;
  }
  std::vector<agent::agent_config> acfgs;
  std::vector<agent::containerizer_factory> factories;
  for (uint32_t i = 1; i <= opts.agents; ++i) {
    tools::agent_flags af;
    af.hostname = mflags.hostname;
    af.port = 0;
    af.work_dir = opts.work_dir + "/agent-" + std::to_string(i);
    af.resources = opts.agent_resources;
    auto acfg = tools::to_agent_config(af, seed);
    if (!acfg) {
      std::cerr << runtime::say(acfg.error()) << '\n';
      return 2;
    }
    acfg->node = "agent-" + std::to_string(i);
    runtime::make_node_logger(acfg->node, node.log_level, node.log_file);
    af.isolation = opts.isolation;
    auto factory = tools::choose_containerizer(af, *acfg);
    if (!factory) {
      std::cerr << runtime::say(factory.error()) << '\n';
      return 2;
    }
    factories.push_back(std::move(*factory));
    acfgs.push_back(std::move(*acfg));
  }
  auto signals = tools::block_shutdown_signals();
  runtime::node_config sys_cfg{node};
  caf::actor_system sys{sys_cfg};
  auto tp = runtime::make_middleman_transport(sys);
  tools::master_process mp;
  if (auto err = mp.start(sys, *tp, mflags, *mcfg, false)) {
    std::cerr << runtime::say(err) << '\n';
    return 1;
  }
  const auto& master = mp.actor();
  auto stop = [&](const std::vector<caf::actor>& actors) {
    for (const auto& a : actors)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  };
  std::vector<caf::actor> started;
  for (size_t i = 0; i < acfgs.size(); ++i) {
    auto agent = agent::spawn_agent(sys, acfgs[i],
                                    caf::actor_cast<protocols::master_actor>(master),
                                    factories[i]);
    started.push_back(caf::actor_cast<caf::actor>(agent));
    auto aport = tp->publish(caf::actor_cast<caf::actor>(agent), {mflags.hostname, 0});
    if (!aport) {
      std::cerr << "cannot publish an agent: " << runtime::say(aport.error()) << '\n';
      stop(started);
      return 1;
    }
    caf::anon_send(agent, agent::executor_endpoint_atom::value,
                   mflags.hostname + ":" + std::to_string(*aport));
  }
  // Ready means every agent registered: only then the port files and the banner.
  if (!all_registered(mp.view(), opts.agents, std::chrono::seconds{60})) {
    std::cerr << "troupe local: the agents did not all register within 60 s" << std::endl;
    stop(started);
    return 1;
  }
  mp.write_port_files(mflags);
  auto http_at = mflags.hostname + ":" + std::to_string(mp.info().http_port());
  std::cout << "troupe local: master " << mcfg->info.id() << " at " << mflags.hostname << ":"
            << mp.info().actor_port() << " (actors), http://" << http_at << " (HTTP API), " << opts.agents
            << " agents (work dirs under " << opts.work_dir << "), cluster seed " << seed
            << std::endl
            << "  try: troupe run --master " << http_at << " -- echo hello" << std::endl
            << "       troupe agents --master " << http_at << std::endl
            << "       curl http://" << http_at << "/api/v1/state" << std::endl
            << "  Ctrl-C stops everything." << std::endl;
  if (opts.example_tasks > 0) {
    sdk::scheduler_driver_config dcfg;
    dcfg.framework.set_name("example-batch");
    dcfg.framework.set_user(tools::current_user());
    dcfg.master.local = caf::actor_cast<caf::actor>(master);
    examples::batch_config bcfg;
    bcfg.name = "example";
    bcfg.copies = opts.example_tasks;
    bcfg.command = make_shell_command(opts.example_command);
    bcfg.per_task = *resources::parse("cpus:0.1;mem:32");
    auto observer = sys.spawn(printer, opts.exit_when_done);
    auto driver = sdk::spawn_scheduler_driver(sys, dcfg, [&sys, bcfg, observer](auto d) {
      return examples::spawn_batch_framework(sys, d, bcfg, observer);
    });
    started.push_back(caf::actor_cast<caf::actor>(driver));
    started.push_back(caf::actor_cast<caf::actor>(observer));
  }
  int sig = 0;
  sigwait(&signals, &sig);
  std::cout << "troupe local: stopping" << std::endl;
  stop(started);
  if (opts.example_tasks > 0 && opts.exit_when_done)
    return example_result == 0 ? 0 : 1;
  return 0;
}

} // namespace troupe::cli
