#include "troupe/test/sim_cluster.hpp"

#include <filesystem>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include "troupe/actors/common/task_transitions.hpp"
#include "troupe/agent/agent_actor.hpp"
#include "troupe/examples/batch_framework.hpp"
#include "troupe/master/master_actor.hpp"
#include "troupe/master/master_candidate.hpp"
#include "troupe/master/registry_store.hpp"
#include "troupe/runtime/election/election.hpp"
#include "troupe/runtime/store/memory_store.hpp"
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
  // The master candidates: standalone contenders (master-1 appointed) over one registry.
  registry_ = std::make_shared<runtime::memory_store>();
  contenders_.resize(spec_.masters);
  contending_.assign(spec_.masters, false);
  for (uint32_t i = 1; i <= spec_.masters; ++i) {
    master::candidate_config cfg;
    cfg.master.info.set_id("sim-master-" + std::to_string(i));
    cfg.master.info.set_hostname(master_node(i));
    cfg.master.info.set_actor_port(master_port);
    cfg.master.ping_interval = std::chrono::seconds{1};
    cfg.master.max_missed_pings = 5;
    cfg.master.allocator.allocation_interval = std::chrono::milliseconds{100};
    cfg.master.allocator.seed = seed_;
    cfg.master.agent_reregister_timeout = std::chrono::seconds{60};
    cfg.master.node = "sim-" + master_node(i);
    cfg.store = registry_;
    cfg.detached_registrar = false;
    auto* slot = &contenders_[i - 1]; // made when the candidate starts, not now
    cfg.make_contender = [slot](caf::actor_system& s, runtime::election::leadership_listener l) {
      auto c = runtime::election::spawn_standalone_contender(s, std::move(l));
      *slot = caf::actor_cast<caf::actor>(c);
      return caf::actor_cast<runtime::election::contender_actor>(c);
    };
    auto candidate = master::spawn_master_candidate(sys_, std::move(cfg));
    auto& tp = transports_.emplace_back(net_->transport_for(master_node(i)));
    (void) tp->publish(candidate, {master_node(i), master_port});
    v1::MasterInfo info;
    info.set_id("sim-master-" + std::to_string(i));
    info.set_hostname(master_node(i));
    info.set_actor_port(master_port);
    candidates_.push_back(candidate);
    infos_.push_back(info);
  }
  // Standalone contenders lead once they contend: only master-1 does for now.
  caf::anon_send(candidates_[0], runtime::election::contend_atom::value, infos_[0]);
  contending_[0] = true;
  // The agents.
  auto total = resources::parse(spec_.agent_resources).value();
  fake_containerizer_config fake;
  fake.default_duration = spec_.task_duration;
  for (uint32_t i = 1; i <= spec_.agents; ++i) {
    auto node = agent_node(i);
    auto& tp = transports_.emplace_back(net_->transport_for(node));
    auto master = tp->connect({master_node(1), master_port});
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
  dcfg.framework.set_failover_timeout(spec_.failover_timeout_s);
  dcfg.master.remote = {master_node(1), master_port};
  dcfg.master.connector = ft->connector();
  dcfg.master.follow_leader = spec_.masters > 1; // then it goes where announce_leader() says
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
  if (spec_.masters > 1)
    announce_leader();
}

void sim_cluster::fail_over(uint32_t to) {
  if (contenders_[leader_ - 1])
    caf::anon_send(contenders_[leader_ - 1], runtime::election::depose_atom::value);
  if (!contending_[to - 1]) { // a standalone contender leads as soon as it contends
    caf::anon_send(candidates_[to - 1], runtime::election::contend_atom::value, infos_[to - 1]);
    contending_[to - 1] = true;
  } else if (contenders_[to - 1]) {
    caf::anon_send(contenders_[to - 1], runtime::election::appoint_atom::value);
  }
  leader_ = to;
}

void sim_cluster::announce_leader() {
  auto registry = master::load_registry(*registry_);
  v1::MasterInfo info;
  info.set_id("sim-master-" + std::to_string(leader_));
  info.set_hostname(master_node(leader_));
  info.set_actor_port(master_port);
  info.set_epoch(registry ? registry->epoch() : 0);
  // transports_: the masters', then the agents', then the framework's.
  auto tell = [&](const caf::actor& whom, runtime::transport& view) {
    if (auto leader = view.connect({master_node(leader_), master_port}))
      caf::anon_send(whom, runtime::election::leader_atom::value, *leader, info);
  };
  for (size_t i = 0; i < agents_.size(); ++i)
    tell(agents_[i], *transports_[spec_.masters + i]);
  if (driver_)
    tell(driver_, *transports_.back());
}

void sim_cluster::stop() {
  for (auto* hdl : {&driver_, &observer_})
    if (*hdl) {
      caf::anon_send_exit(*hdl, caf::exit_reason::kill);
      *hdl = nullptr;
    }
  for (auto& c : candidates_) // a clean stop: the candidate ends its term's actors too
    caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
  candidates_.clear();
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
