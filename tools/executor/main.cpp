// troupe-executor: the command executor process. The agent starts it in a task's sandbox with
// TROUPE_* variables naming the agent's endpoint and the executor's IDs; it subscribes, runs
// the task's command, reports its status and ends once its terminal update is acknowledged.
#include <iostream>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include "troupe/runtime/seconds.hpp"
#include "troupe/executors/command_executor.hpp"
#include "troupe/runtime/errors.hpp"
#include "troupe/runtime/logging.hpp"
#include "troupe/runtime/node_config.hpp"
#include "troupe/runtime/options.hpp"
#include "troupe/runtime/random.hpp"
#include "troupe/runtime/transport.hpp"
#include "troupe/sdk/executor_driver.hpp"

using namespace troupe;

int main() {
  auto settings = sdk::executor_settings::from_environment();
  if (!settings) {
    std::cerr << "troupe-executor: " << runtime::say(settings.error()) << '\n';
    return 2;
  }
  auto agent_at = runtime::parse_endpoint(settings->agent_endpoint);
  if (!agent_at) {
    std::cerr << "troupe-executor: TROUPE_AGENT_ENDPOINT: " << runtime::say(agent_at.error())
              << '\n';
    return 2;
  }
  runtime::node_options node;
  node.node_name = "executor";
  node.scheduler_threads = 1;
  auto log = runtime::make_node_logger(node);
  if (!log) {
    std::cerr << runtime::say(log.error()) << '\n';
    return 2;
  }
  runtime::node_config sys_cfg{node};
  caf::actor_system sys{sys_cfg};
  auto tp = runtime::make_middleman_transport(sys);
  sdk::executor_driver_config cfg;
  cfg.settings = *settings;
  cfg.agent.remote = *agent_at;
  cfg.agent.connector = tp->connector();
  if (settings->recovery_timeout > 0)
    cfg.recovery_timeout = runtime::from_seconds(settings->recovery_timeout);
  executors::command_executor_config ecfg;
  ecfg.sandbox = settings->sandbox;
  ecfg.container_id = settings->container_id.value();
  ecfg.seed = runtime::derive_seed(1, settings->executor_id.value());
  auto driver = sdk::spawn_executor_driver(sys, cfg, [&sys, ecfg](sdk::executor_driver_actor d) {
    return executors::spawn_command_executor(sys, d, ecfg);
  });
  caf::scoped_actor self{sys};
  self->monitor(driver);
  caf::error reason;
  self->receive([&](caf::down_msg& down) { reason = std::move(down.reason); });
  if (reason && reason != caf::exit_reason::normal && reason != caf::exit_reason::user_shutdown) {
    std::cerr << "troupe-executor: " << runtime::say(reason) << '\n';
    return 1;
  }
  return 0;
}
