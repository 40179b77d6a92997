#include "troupe/master/state_view.hpp"

#include "troupe/runtime/poller.hpp"

#include <map>
#include <mutex>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "troupe/actors/common/task_transitions.hpp"
#include "troupe/messages/json.hpp"
#include "troupe/runtime/metrics.hpp"

namespace troupe::master {

namespace {

// The master's gauges, set from each snapshot (prometheus-cpp metrics are thread-safe).
struct master_gauges {
  std::map<std::string, prometheus::Gauge*> agents; // by status
  prometheus::Gauge* frameworks = nullptr;
  prometheus::Gauge* frameworks_connected = nullptr;
  std::map<v1::TaskState, prometheus::Gauge*> tasks; // by state
  prometheus::Gauge* tasks_active = nullptr;
  prometheus::Gauge* offers = nullptr;
  prometheus::Gauge* epoch = nullptr;
  prometheus::Counter* refreshes_ok = nullptr;
  prometheus::Counter* refreshes_failed = nullptr;

  explicit master_gauges(prometheus::Registry& reg) {
    auto& agent_family = prometheus::BuildGauge()
                           .Name("troupe_master_agents")
                           .Help("Agents the master knows, by status")
                           .Register(reg);
    for (const char* status : {"registered", "unreachable", "gone"})
      agents[status] = &agent_family.Add({{"status", status}});
    frameworks = &prometheus::BuildGauge()
                    .Name("troupe_master_frameworks")
                    .Help("Frameworks the master knows")
                    .Register(reg)
                    .Add({});
    frameworks_connected = &prometheus::BuildGauge()
                              .Name("troupe_master_frameworks_connected")
                              .Help("Frameworks whose scheduler is subscribed")
                              .Register(reg)
                              .Add({});
    auto& task_family = prometheus::BuildGauge()
                          .Name("troupe_master_tasks")
                          .Help("Tasks in the master's state (non-terminal and recently "
                                "finished), by state")
                          .Register(reg);
    for (int s = v1::TaskState_MIN; s <= v1::TaskState_MAX; ++s) {
      auto state = static_cast<v1::TaskState>(s);
      if (v1::TaskState_IsValid(s) && state != v1::TASK_UNKNOWN_STATE
          && state != v1::TASK_UNKNOWN)
        tasks[state] = &task_family.Add({{"state", v1::TaskState_Name(state)}});
    }
    tasks_active = &prometheus::BuildGauge()
                      .Name("troupe_master_tasks_active")
                      .Help("Non-terminal tasks")
                      .Register(reg)
                      .Add({});
    offers = &prometheus::BuildGauge()
                .Name("troupe_master_offers_live")
                .Help("Outstanding offers")
                .Register(reg)
                .Add({});
    epoch = &prometheus::BuildGauge()
               .Name("troupe_master_epoch")
               .Help("Leadership term of the serving master")
               .Register(reg)
               .Add({});
    auto& refresh_family = prometheus::BuildCounter()
                             .Name("troupe_master_state_refreshes_total")
                             .Help("State snapshots requested by the HTTP read side, by result")
                             .Register(reg);
    refreshes_ok = &refresh_family.Add({{"result", "ok"}});
    refreshes_failed = &refresh_family.Add({{"result", "failed"}});
  }

  void update(const v1::MasterState& st) {
    std::map<std::string, double> by_status;
    for (const auto& a : st.agents())
      by_status[a.status()] += 1;
    for (auto& [status, gauge] : agents)
      gauge->Set(by_status[status]);
    frameworks->Set(st.frameworks_size());
    double connected = 0;
    for (const auto& f : st.frameworks())
      connected += f.connected() ? 1 : 0;
    frameworks_connected->Set(connected);
    std::map<v1::TaskState, double> by_state;
    double active = 0;
    for (const auto& t : st.tasks()) {
      by_state[t.state()] += 1;
      if (!common::is_terminal(t.state()))
        active += 1;
    }
    for (auto& [state, gauge] : tasks)
      gauge->Set(by_state[state]);
    tasks_active->Set(active);
    offers->Set(st.offers_size());
    epoch->Set(static_cast<double>(st.master().epoch()));
  }
};

} // namespace

struct state_view::shared {
  mutable std::mutex mtx;
  v1::MasterInfo info; // as the node main knows it (bound ports)
  std::string master_json;
  std::string state_json;
  std::shared_ptr<const v1::MasterState> snapshot;
  caf::actor_clock::time_point taken;
  caf::actor_system* sys = nullptr;
  std::unique_ptr<master_gauges> gauges;

  // Renders outside the lock; readers only ever wait for a swap. `info` is written once by
  // start() before the refresher exists, so reading it here needs no lock.
  void store(v1::MasterState st, caf::actor_clock::time_point now) {
    // A master published on port 0 was configured before its port was bound: its own info
    // says 0 where the node main knows the port.
    if (st.master().actor_port() == 0)
      st.mutable_master()->set_actor_port(info.actor_port());
    if (st.master().http_port() == 0)
      st.mutable_master()->set_http_port(info.http_port());
    if (gauges) {
      gauges->update(st);
      gauges->refreshes_ok->Increment();
    }
    auto json = to_json(st);
    auto mjson = to_json(st.master()); // the serving term's info, epoch included
    auto ptr = std::make_shared<const v1::MasterState>(std::move(st));
    std::lock_guard<std::mutex> guard{mtx};
    state_json = std::move(json);
    master_json = std::move(mjson);
    snapshot = std::move(ptr);
    taken = now;
  }

  void count_failure() {
    if (gauges)
      gauges->refreshes_failed->Increment();
  }
};

state_view::state_view(runtime::node_metrics* metrics) : shared_(std::make_shared<shared>()) {
  if (metrics != nullptr)
    shared_->gauges = std::make_unique<master_gauges>(metrics->registry());
}

state_view::~state_view() {
  stop();
}

void state_view::start(caf::actor_system& sys, master_entry_actor master, v1::MasterInfo info,
                       state_view_config cfg) {
  {
    std::lock_guard<std::mutex> guard{shared_->mtx};
    shared_->info = std::move(info); // master_json comes with the first snapshot (the term's)
    shared_->sys = &sys;
  }
  auto data = shared_;
  refresher_ = runtime::spawn_poller(sys, cfg.refresh_interval, [data, master, cfg](auto* self,
                                                                              auto done) {
    self->request(master, cfg.request_timeout, state_atom::value)
      .then(
        [=](v1::MasterState& st) {
          data->store(std::move(st), self->clock().now());
          done();
        },
        [=](caf::error&) {
          data->count_failure();
          done();
        });
  });
}

void state_view::stop() {
  if (refresher_) {
    caf::anon_send_exit(refresher_, caf::exit_reason::user_shutdown);
    refresher_ = nullptr;
  }
}

std::string state_view::state_json() const {
  std::lock_guard<std::mutex> guard{shared_->mtx};
  return shared_->state_json;
}

std::string state_view::master_json() const {
  std::lock_guard<std::mutex> guard{shared_->mtx};
  return shared_->master_json;
}

std::shared_ptr<const v1::MasterState> state_view::snapshot() const {
  std::lock_guard<std::mutex> guard{shared_->mtx};
  return shared_->snapshot;
}

std::optional<caf::timespan> state_view::age() const {
  std::lock_guard<std::mutex> guard{shared_->mtx};
  if (!shared_->snapshot || shared_->sys == nullptr)
    return std::nullopt;
  return shared_->sys->clock().now() - shared_->taken;
}

} // namespace troupe::master
