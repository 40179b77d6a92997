#include "troupe/tools/agent_state_view.hpp"

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

namespace troupe::tools {

namespace {

struct agent_gauges {
  prometheus::Gauge* registered = nullptr;
  std::map<v1::TaskState, prometheus::Gauge*> tasks; // by state
  prometheus::Gauge* tasks_active = nullptr;
  prometheus::Counter* refreshes_ok = nullptr;
  prometheus::Counter* refreshes_failed = nullptr;

  explicit agent_gauges(prometheus::Registry& reg) {
    registered = &prometheus::BuildGauge()
                    .Name("troupe_agent_registered")
                    .Help("1 once the agent has an ID from the master")
                    .Register(reg)
                    .Add({});
    auto& task_family = prometheus::BuildGauge()
                          .Name("troupe_agent_tasks")
                          .Help("Tasks the agent holds, by state")
                          .Register(reg);
    for (int s = v1::TaskState_MIN; s <= v1::TaskState_MAX; ++s) {
      auto state = static_cast<v1::TaskState>(s);
      if (v1::TaskState_IsValid(s) && state != v1::TASK_UNKNOWN_STATE
          && state != v1::TASK_UNKNOWN)
        tasks[state] = &task_family.Add({{"state", v1::TaskState_Name(state)}});
    }
    tasks_active = &prometheus::BuildGauge()
                      .Name("troupe_agent_tasks_active")
                      .Help("Non-terminal tasks")
                      .Register(reg)
                      .Add({});
    auto& refresh_family = prometheus::BuildCounter()
                             .Name("troupe_agent_state_refreshes_total")
                             .Help("State snapshots requested by the HTTP read side, by result")
                             .Register(reg);
    refreshes_ok = &refresh_family.Add({{"result", "ok"}});
    refreshes_failed = &refresh_family.Add({{"result", "failed"}});
  }

  void update(const v1::AgentID& id, const std::vector<v1::Task>& all) {
    registered->Set(id.value().empty() ? 0 : 1);
    std::map<v1::TaskState, double> by_state;
    double active = 0;
    for (const auto& t : all) {
      by_state[t.state()] += 1;
      if (!common::is_terminal(t.state()))
        active += 1;
    }
    for (auto& [state, gauge] : tasks)
      gauge->Set(by_state[state]);
    tasks_active->Set(active);
    refreshes_ok->Increment();
  }
};

std::string render(const v1::AgentID& id, const std::vector<v1::Task>& all) {
  std::string out = "{\"id\":" + to_json(id) + ",\"tasks\":[";
  for (size_t i = 0; i < all.size(); ++i) {
    if (i > 0)
      out += ',';
    out += to_json(all[i]);
  }
  return out + "]}";
}

} // namespace

struct agent_state_view::shared {
  mutable std::mutex mtx;
  std::string state_json;
  bool registered = false;
  std::unique_ptr<agent_gauges> gauges;

  // Renders outside the lock; readers only ever wait for a swap.
  void store(const v1::AgentID& id, const std::vector<v1::Task>& all) {
    if (gauges)
      gauges->update(id, all);
    auto json = render(id, all);
    std::lock_guard<std::mutex> guard{mtx};
    state_json = std::move(json);
    registered = !id.value().empty();
  }

  void count_failure() {
    if (gauges)
      gauges->refreshes_failed->Increment();
  }
};

agent_state_view::agent_state_view(runtime::node_metrics* metrics)
  : shared_(std::make_shared<shared>()) {
  if (metrics != nullptr)
    shared_->gauges = std::make_unique<agent_gauges>(metrics->registry());
}

agent_state_view::~agent_state_view() {
  stop();
}

void agent_state_view::start(caf::actor_system& sys, agent::agent_node_actor agent,
                             agent_state_view_config cfg) {
  auto data = shared_;
  refresher_ = runtime::spawn_poller(sys, cfg.refresh_interval, [data, agent, cfg](auto* self,
                                                                             auto done) {
    self->request(agent, cfg.request_timeout, agent::agent_state_atom::value)
      .then(
        [=](const v1::AgentID& id, const std::vector<v1::Task>& all) {
          data->store(id, all);
          done();
        },
        [=](caf::error&) {
          data->count_failure();
          done();
        });
  });
}

void agent_state_view::stop() {
  if (refresher_) {
    caf::anon_send_exit(refresher_, caf::exit_reason::user_shutdown);
    refresher_ = nullptr;
  }
}

std::string agent_state_view::state_json() const {
  std::lock_guard<std::mutex> guard{shared_->mtx};
  return shared_->state_json;
}

bool agent_state_view::registered() const {
  std::lock_guard<std::mutex> guard{shared_->mtx};
  return shared_->registered;
}

} // namespace troupe::tools
