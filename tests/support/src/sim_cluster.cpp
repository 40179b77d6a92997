#include "troupe/test/sim_cluster.hpp"

#include <filesystem>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include "troupe/actors/common/task_transitions.hpp"
#include "troupe/agent/agent_actor.hpp"
#include "troupe/examples/batch_framework.hpp"
#include "troupe/master/master_actor.hpp"
#include "troupe/messages/builders.hpp"
#include "troupe/messages/resources.hpp"
#include "troupe/test/fake_containerizer.hpp"

namespace troupe::test {

namespace {

constexpr uint16_t master_port = 5055;

} // namespace

sim_cluster::sim_cluster(caf::actor_system& sys, uint64_t seed, sim_cluster_spec spec,
                         std::string work_root)
  : sys_(sys),
    seed_(seed),
    spec_(std::move(spec)),
    root_(std::move(work_root)),
    net_(std::make_unique<runtime::sim_network>(sys, seed, spec_.faults)),
    outcome_(std::make_shared<sim_outcome>()) {
  std::filesystem::create_directories(root_);
}

sim_cluster::~sim_cluster() {
  stop();
  transports_.clear();
  net_.reset();
  std::error_code ec;
  std::filesystem::remove_all(root_, ec);
}

void sim_cluster::start() {
  // The master.
  master::master_config mcfg;
  mcfg.info.set_id("sim-master");
  mcfg.info.set_hostname("master");
  mcfg.info.set_actor_port(master_port);
  mcfg.info.set_epoch(1);
  mcfg.ping_interval = std::chrono::seconds{1};
  mcfg.max_missed_pings = 5;
  mcfg.allocator.allocation_interval = std::chrono::milliseconds{100};
  mcfg.allocator.seed = seed_;
  mcfg.node = "sim-master";
  master_ = caf::actor_cast<caf::actor>(master::spawn_master(sys_, mcfg));
  auto& mt = transports_.emplace_back(net_->transport_for("master"));
  (void) mt->publish(master_, {"master", master_port});
  // The agents.
  auto total = resources::parse(spec_.agent_resources).value();
  fake_containerizer_config fake;
  fake.default_duration = spec_.task_duration;
  for (uint32_t i = 1; i <= spec_.agents; ++i) {
    auto node = agent_node(i);
    auto& tp = transports_.emplace_back(net_->transport_for(node));
    auto master = tp->connect({"master", master_port});
    agent::agent_config acfg;
    acfg.info = make_agent_info(node, 5065, total);
    acfg.work_dir = root_ + "/" + node;
    acfg.executor_path = "fake";
    acfg.executor_endpoint = "in-process:0";
    acfg.seed = seed_;
    acfg.node = node;
    agents_.push_back(caf::actor_cast<caf::actor>(
      agent::spawn_agent(sys_, std::move(acfg),
                         caf::actor_cast<protocols::master_actor>(master.value()),
                         fake_containerizer_factory(fake))));
  }
  // The framework and who watches it.
  auto out = outcome_;
  observer_ = sys_.spawn([out](caf::event_based_actor*) -> caf::behavior {
    return {
      [out](const v1::TaskStatus& s) { out->updates[s.task_id().value()].push_back(s.state()); },
      [out](examples::batch_done_atom, uint32_t finished, uint32_t gave_up, int32_t) {
        out->done = true;
        out->finished = finished;
        out->gave_up = gave_up;
      },
    };
  });
  auto& ft = transports_.emplace_back(net_->transport_for("framework"));
  sdk::scheduler_driver_config dcfg;
  dcfg.framework = make_framework_info("sim-batch", "sim", {"*"});
  dcfg.master.remote = {"master", master_port};
  dcfg.master.connector = ft->connector();
  examples::batch_config bcfg;
  bcfg.name = "copy";
  bcfg.copies = spec_.tasks;
  bcfg.command = make_shell_command("true");
  bcfg.per_task = resources::parse(spec_.task_resources).value();
  bcfg.max_attempts = spec_.max_attempts;
  auto observer = caf::actor_cast<examples::batch_observer_actor>(observer_);
  auto& sys = sys_;
  driver_ = caf::actor_cast<caf::actor>(
    sdk::spawn_scheduler_driver(sys_, dcfg, [&sys, bcfg, observer](auto d) {
      return examples::spawn_batch_framework(sys, d, bcfg, observer);
    }));
}

void sim_cluster::stop() {
  for (auto* hdl : {&driver_, &observer_, &master_})
    if (*hdl) {
      caf::anon_send_exit(*hdl, caf::exit_reason::kill);
      *hdl = nullptr;
    }
  for (auto& a : agents_)
    caf::anon_send_exit(a, caf::exit_reason::kill);
  agents_.clear();
}

std::vector<std::string> sim_cluster::check_state(const v1::MasterState& st) {
  std::vector<std::string> problems;
  std::map<std::string, resources> used, offered;
  std::map<std::string, std::string> status;
  for (const auto& a : st.agents()) {
    status[a.info().id().value()] = a.status();
    auto total = resources::from_proto(a.info().resources());
    auto u = resources::from_proto(a.used());
    auto o = resources::from_proto(a.offered());
    if (total && u && o && !total->contains(*u + *o))
      problems.push_back("agent " + a.info().id().value() + ": used " + u->to_string()
                         + " + offered " + o->to_string() + " exceed " + total->to_string());
  }
  for (const auto& offer : st.offers()) {
    auto s = status.find(offer.agent_id().value());
    if (s == status.end() || s->second != "registered")
      problems.push_back("offer " + offer.id().value() + " outlives agent "
                         + offer.agent_id().value()
                         + (s == status.end() ? " (gone)" : " (" + s->second + ")"));
  }
  return problems;
}

std::vector<std::string> sim_cluster::check_updates(bool at_end) const {
  std::vector<std::string> problems;
  for (const auto& [task, states] : outcome_->updates) {
    // TASK_UNKNOWN is a final answer too: the master never launched the task.
    auto final_state = [](v1::TaskState s) {
      return common::is_terminal(s) || s == v1::TASK_UNKNOWN;
    };
    for (size_t i = 1; i < states.size(); ++i)
      if (final_state(states[i - 1]) && states[i] != states[i - 1])
        problems.push_back("task " + task + ": " + v1::TaskState_Name(states[i])
                           + " after terminal " + v1::TaskState_Name(states[i - 1]));
    if (at_end && (states.empty() || !final_state(states.back()))) {
      std::string seen;
      for (auto s : states)
        seen += " " + v1::TaskState_Name(s);
      problems.push_back("task " + task + " never reached a terminal state:" + seen);
    }
  }
  return problems;
}

} // namespace troupe::test
