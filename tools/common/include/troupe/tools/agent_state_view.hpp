// The agent's read side for its HTTP edge (/api/v1/state, /metrics): like master::state_view, a
// refresher actor asks the agent for (agent_state_atom) every `refresh_interval` and keeps the
// answer rendered as JSON behind a mutex, so HTTP requests never wait for the agent actor.
//
// Staleness: at most refresh_interval + one request round trip while the agent answers; when
// it does not, the last snapshot stays served and a request is given up after
// `request_timeout` (the next one follows an interval later; never more than one outstanding).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "troupe/agent/agent_actor.hpp"

namespace troupe::runtime {
class node_metrics;
} // namespace troupe::runtime

namespace troupe::tools {

struct agent_state_view_config {
  caf::timespan refresh_interval = std::chrono::milliseconds{250}; ///< between snapshots
  caf::timespan request_timeout = std::chrono::seconds{5};         ///< one state request
};

class agent_state_view {
public:
  /// An empty view. With `metrics` (which must outlive the view) it registers and updates
  /// troupe_agent_registered (0/1), troupe_agent_tasks{state}, troupe_agent_tasks_active and
  /// troupe_agent_state_refreshes_total{result}.
  explicit agent_state_view(runtime::node_metrics* metrics = nullptr);

  /// Stops the refresher.
  ~agent_state_view();

  agent_state_view(const agent_state_view&) = delete;
  agent_state_view& operator=(const agent_state_view&) = delete;

  /// Spawns the refresher (detached), which asks `agent` at once and then every interval.
  /// Call once; destroy the view before `sys`.
  void start(caf::actor_system& sys, agent::agent_node_actor agent,
             agent_state_view_config cfg = {});

  /// Stops the refresher; the last snapshot stays readable. Idempotent.
  void stop();

  /// `{"id":<v1::AgentID>,"tasks":[<v1::Task>...]}` in protobuf's JSON mapping (the ID is
  /// `{}` before the agent registered); "" before the first snapshot. Thread-safe.
  std::string state_json() const;

  /// True once the agent has an ID from a master (as of the last snapshot). Thread-safe.
  bool registered() const;

private:
  struct shared; // the JSON and the gauges; shared with the refresher actor

  std::shared_ptr<shared> shared_;
  caf::actor refresher_;
};

} // namespace troupe::tools
