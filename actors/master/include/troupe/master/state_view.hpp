// The master's read side (DESIGN.md §1, §8): the HTTP edge serves /api/v1/state, /api/v1/master
// and /metrics from the latest snapshot held here, never by asking the master per request. A
// refresher actor requests (state_atom) from the master every `refresh_interval`, renders the
// reply as JSON off the master and swaps it in behind a mutex; readers copy strings out.
//
// Staleness: while the master answers, a snapshot is at most refresh_interval + one request
// round trip old (default 250 ms + well under a millisecond). When it does not answer (busy,
// gone), the view keeps serving the last snapshot and age() grows; a request is given up after
// `request_timeout` and the next is sent one interval later, so requests never pile up.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "troupe/master/master_actor.hpp"
#include "troupe/messages/proto.hpp"

namespace troupe::runtime {
class node_metrics;
} // namespace troupe::runtime

namespace troupe::master {

struct state_view_config {
  caf::timespan refresh_interval = std::chrono::milliseconds{250}; ///< between snapshots
  caf::timespan request_timeout = std::chrono::seconds{5};         ///< one state request
};

class state_view {
public:
  /// An empty view (state_json() is "" until start() and its first snapshot). With `metrics`
  /// (which must outlive the view) it registers the master's gauges there and updates them
  /// with every snapshot: troupe_master_agents{status}, troupe_master_frameworks,
  /// troupe_master_frameworks_connected, troupe_master_tasks{state},
  /// troupe_master_tasks_active, troupe_master_offers_live, troupe_master_epoch and
  /// troupe_master_state_refreshes_total{result="ok"|"failed"}.
  explicit state_view(runtime::node_metrics* metrics = nullptr);

  /// Stops the refresher (see stop()).
  ~state_view();

  state_view(const state_view&) = delete;
  state_view& operator=(const state_view&) = delete;

  /// master_json() serves the MasterInfo of the latest snapshot (the serving term's, epoch
  /// included; "" before the first one); snapshots whose
  /// master reports port 0 (it was spawned before its port was bound) get the ports from
  /// `info`. Spawns the refresher (a detached actor, so rendering never occupies a scheduler
  /// thread the master needs), which requests the first snapshot at once. Call once; the view
  /// must be destroyed before `sys`.
  void start(caf::actor_system& sys, master_entry_actor master, v1::MasterInfo info,
             state_view_config cfg = {});

  /// Stops the refresher; the last snapshot stays readable. Idempotent.
  void stop();

  /// The latest v1::MasterState as JSON (protobuf JSON mapping), "" before the first one.
  /// Thread-safe.
  std::string state_json() const;

  /// The serving master's v1::MasterInfo as JSON, "" before the first snapshot. Thread-safe.
  std::string master_json() const;

  /// The latest snapshot itself (nullptr before the first one). Thread-safe.
  std::shared_ptr<const v1::MasterState> snapshot() const;

  /// How old the latest snapshot is (by the actor system's clock), nothing before the first.
  /// Thread-safe.
  std::optional<caf::timespan> age() const;

private:
  struct shared; // the snapshot, its JSON and the gauges; shared with the refresher actor

  std::shared_ptr<shared> shared_;
  caf::actor refresher_;
};

} // namespace troupe::master
