// The executor driver: the executor side of the SDK, used by the command executor and by
// custom executors written as actors.
//
//   auto settings = sdk::executor_settings::from_environment();   // set by the agent
//   sdk::spawn_executor_driver(sys, cfg, [&](sdk::executor_driver_actor d) {
//     return sys.spawn(my_executor, d);                           // a protocols::executor_actor
//   });
//
// The driver subscribes with the agent (again until answered, naming its own handle so the
// agent can answer it whatever CAF thinks the connection is), passes every event (subscribed, launch, launch_group,
// kill, acknowledged, message, shutdown, error) to the executor, and sends the executor's
// status updates - stamped with a fresh uuid, the time, and the executor's IDs - keeping each
// until the agent acknowledges it. If the agent goes away (it restarts), the driver reconnects
// with backoff and resubscribes with the unacknowledged updates, for up to recovery_timeout;
// then it gives up and ends, and the executor with it (they are linked).
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "troupe/messages/proto.hpp"
#include "troupe/protocols/executor.hpp"
#include "troupe/runtime/backoff.hpp"
#include "troupe/sdk/peer_locator.hpp"

namespace troupe::sdk {

/// Who the executor is and where its agent listens: what the agent puts in the environment.
struct executor_settings {
  std::string agent_endpoint; ///< TROUPE_AGENT_ENDPOINT, host:port of the agent's actors
  v1::AgentID agent_id;       ///< TROUPE_AGENT_ID
  v1::FrameworkID framework_id; ///< TROUPE_FRAMEWORK_ID
  v1::ExecutorID executor_id; ///< TROUPE_EXECUTOR_ID
  v1::ContainerID container_id; ///< TROUPE_CONTAINER_ID
  std::string sandbox;        ///< TROUPE_SANDBOX (also the working directory)
  double recovery_timeout = 0; ///< TROUPE_RECOVERY_TIMEOUT seconds (optional; 0 = default)

  /// Reads the variables above; an error names the first missing or malformed one.
  static caf::expected<executor_settings> from_environment();
};

using executor_driver_actor = caf::typed_actor<
  /// Executor -> driver: report this status. The driver sets uuid (unless set), timestamp, source and the
  /// executor's IDs, sends it, and resends it on resubscription until acknowledged.
  caf::reacts_to<v1::TaskStatus>,
  /// Executor -> driver: a message for the framework. Best effort.
  caf::reacts_to<v1::executor::ToFramework>,
  /// Agent -> driver: events (the wire side; protocols::executor_actor).
  caf::reacts_to<v1::executor::Event>>;

struct executor_driver_config {
  executor_settings settings;  ///< IDs (agent_endpoint is ignored when agent.local is set)
  peer_locator agent;          ///< where the agent is
  runtime::exponential_backoff reconnect{std::chrono::milliseconds{200},
                                         std::chrono::seconds{5}, 2.0};
  runtime::exponential_backoff resubscribe{std::chrono::seconds{1}, std::chrono::seconds{8},
                                          2.0}; ///< an unanswered Subscribe goes again after
  caf::timespan recovery_timeout = std::chrono::minutes{15}; ///< give up on the agent after
  caf::timespan first_subscribe_timeout = std::chrono::minutes{1}; ///< keep trying this long
                               ///< to reach the agent that started us (a busy agent is slow)
  uint64_t seed = 0;           ///< update uuids; 0 = from the executor ID
};

/// Spawns the driver and, through `make_executor`, the executor; the two are linked.
executor_driver_actor
spawn_executor_driver(caf::actor_system& sys, executor_driver_config cfg,
                      std::function<protocols::executor_actor(executor_driver_actor)> make_executor);

} // namespace troupe::sdk
