// The HTTP endpoints of the daemons (DESIGN.md §8), shared by troupe-master, troupe-agent and
// `troupe local`. Every route answers from a snapshot view; none talks to an actor.
#pragma once

#include "troupe/tools/leadership.hpp"

#include "troupe/master/state_view.hpp"
#include "troupe/runtime/http_server.hpp"
#include "troupe/runtime/metrics.hpp"
#include "troupe/tools/agent_state_view.hpp"

namespace troupe::tools {

/// Master routes: GET /health → 200 {"status":"ok"}; /api/v1/master → v1::MasterInfo;
/// /api/v1/state → v1::MasterState with header X-Troupe-State-Age-Ms (how old the snapshot
/// is); /metrics → Prometheus text of `metrics`. State and master answer 503 with Retry-After
/// until the view has something. `view` and `metrics` must outlive the server's serving.
/// With `leadership`, /api/v1/* of a master that does not serve a term answers 307 to the
/// leader (or 503 while none is known); /health and /metrics always answer locally.
void add_master_routes(runtime::http_server& http, const master::state_view& view,
                       const runtime::node_metrics& metrics,
                       const leadership_view* leadership = nullptr);

/// Agent routes: GET /health; /api/v1/state → {"id":..., "tasks":[...]} (503 until the first
/// snapshot); /metrics. `view` and `metrics` must outlive the server's serving.
void add_agent_routes(runtime::http_server& http, const agent_state_view& view,
                      const runtime::node_metrics& metrics);

} // namespace troupe::tools
