#include "troupe/sim/cluster.hpp"

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "troupe/actors/common/task_transitions.hpp"
#include "troupe/agent/agent_actor.hpp"
#include "troupe/examples/batch_framework.hpp"
#include "troupe/master/master_actor.hpp"
#include "troupe/master/master_candidate.hpp"
#include "troupe/master/registry_store.hpp"
#include "troupe/messages/builders.hpp"
#include "troupe/messages/errc.hpp"
#include "troupe/messages/resources.hpp"
#include "troupe/runtime/election/election.hpp"
#include "troupe/runtime/random.hpp"
#include "troupe/test/deterministic_fixture.hpp"
#include "troupe/test/fake_containerizer.hpp"
#include "troupe/sim/zookeeper.hpp"

namespace troupe::sim {

namespace {

constexpr uint16_t master_port = 5055;

// A fresh directory below `root` (created if needed) for one run: stale checkpoints of an
// earlier run never leak in, and only this directory is removed at the end.
std::string unique_dir(const std::string& root) {
  std::filesystem::create_directories(root);
  std::string pattern = root + "/run-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr)
    throw std::runtime_error("cannot create a run directory below " + root);
  return pattern;
}

} // namespace

struct cluster::agent_slot {
  agent::agent_config cfg;               ///< what it starts (and restarts) with
  std::shared_ptr<test::fake_host> host; ///< its machine: executors outlive the agent
  caf::actor actor;                      ///< null while stopped or crashed
  uint32_t incarnation = 0;
};

cluster::cluster(caf::actor_system& sys, uint64_t seed, cluster_spec spec, std::string work_root)
  : sys_(sys),
    seed_(seed),
    spec_(std::move(spec)),
    root_(unique_dir(work_root)),
    net_(std::make_unique<runtime::sim_network>(sys, seed, spec_.faults)),
    outcome_(std::make_shared<cluster_outcome>()) {
}

cluster::~cluster() {
  stop();
  agents_.clear();
  transports_.clear();
  zk_.reset(); // its server is published on the network
  net_.reset();
  std::error_code ec;
  std::filesystem::remove_all(root_, ec);
}

runtime::transport& cluster::transport_of(const std::string& node) {
  auto& tp = transports_[node];
  if (!tp)
    tp = net_->transport_for(node);
  return *tp;
}

caf::actor cluster::spawn_candidate(uint32_t i) {
  master::candidate_config cfg;
  cfg.master.info = infos_[i - 1];
  cfg.master.ping_interval = std::chrono::seconds{1};
  cfg.master.max_missed_pings = 5;
  cfg.master.allocator.allocation_interval = std::chrono::milliseconds{100};
  cfg.master.allocator.seed = seed_;
  cfg.master.agent_reregister_timeout = std::chrono::seconds{60};
  cfg.master.node = "sim-" + master_node(i);
  cfg.store = registry_;
  cfg.detached_registrar = false;
  auto* slot = &contenders_[i - 1]; // made when the candidate starts contending, not now
  cfg.make_contender = [slot](caf::actor_system& s, runtime::election::leadership_listener l) {
    auto c = runtime::election::spawn_standalone_contender(s, std::move(l));
    *slot = caf::actor_cast<caf::actor>(c);
    return caf::actor_cast<runtime::election::contender_actor>(c);
  };
  if (zk_) { // the election and the registry go through the simulated ZooKeeper
    auto node = master_node(i);
    auto* zk = zk_.get();
    auto* tp = &transport_of(node);
    auto timeout = spec_.zk_session;
    cfg.make_contender = [slot, zk, tp, node, timeout](caf::actor_system& s,
                                                       runtime::election::leadership_listener l) {
      auto c = spawn_zk_contender(s, *zk, *tp, node, timeout, std::move(l));
      *slot = caf::actor_cast<caf::actor>(c);
      return c;
    };
    cfg.store = make_zk_store(registry_, *net_, node, registry_violations_);
    cfg.suspend_grace = timeout / 3; // as troupe-master does
  }
  auto out = outcome_;
  cfg.on_term = [out, i](const v1::MasterInfo* serving) {
    if (serving == nullptr) {
      out->serving.erase(i);
      return;
    }
    // Checked now, not at the next step: a short overlap would slip between two samples.
    for (const auto& [other, epoch] : out->serving)
      if (other != i && out->frozen.count(other) == 0 && out->frozen.count(i) == 0)
        out->overlaps.push_back(master_node(i) + " began serving epoch "
                                + std::to_string(serving->epoch()) + " while " + master_node(other)
                                + " served epoch " + std::to_string(epoch));
    out->serving[i] = serving->epoch();
    auto& who = out->served[serving->epoch()];
    if (who.empty() || who.back() != i)
      who.push_back(i);
  };
  auto candidate = caf::actor_cast<caf::actor>(master::spawn_master_candidate(sys_, std::move(cfg)));
  (void) transport_of(master_node(i)).publish(candidate, {master_node(i), master_port});
  return candidate;
}

void cluster::spawn_agent(uint32_t i) {
  auto& a = agents_[i - 1];
  // A fresh stream per incarnation: a restarted agent must not repeat its update UUIDs.
  a.cfg.seed = runtime::derive_seed(seed_, agent_node(i) + "#" + std::to_string(a.incarnation++));
  a.cfg.incarnation = agent_node(i) + "#" + std::to_string(a.incarnation); // one per restart
  auto master = transport_of(agent_node(i)).connect({master_node(leader_), master_port});
  test::fake_containerizer_config fake;
  fake.default_duration = spec_.task_duration;
  fake.default_exit_code = spec_.task_exit_code;
  fake.host = a.host;
  auto out = outcome_;
  fake.on_report = [out](const v1::TaskStatus& s) {
    auto& sent = out->reported[s.task_id().value()];
    if (sent.empty() || sent.back() != s.state())
      sent.push_back(s.state());
  };
  a.actor = caf::actor_cast<caf::actor>(agent::spawn_agent(
    sys_, a.cfg,
    master ? caf::actor_cast<protocols::master_actor>(*master) : protocols::master_actor{},
    test::fake_containerizer_factory(fake)));
}

void cluster::spawn_frameworks() {
  auto make_driver = [&](const std::string& node, v1::FrameworkInfo info, auto make) {
    sdk::scheduler_driver_config dcfg;
    dcfg.framework = std::move(info);
    dcfg.master.remote = {master_node(leader_), master_port};
    dcfg.master.connector = transport_of(node).connector();
    dcfg.master.follow_leader = true; // it goes where announce_leader() says
    drivers_.emplace_back(node, caf::actor_cast<caf::actor>(
                                  sdk::spawn_scheduler_driver(sys_, dcfg, std::move(make))));
  };
  if (spec_.tasks > 0) {
    auto out = outcome_;
    observer_ = sys_.spawn([out](caf::event_based_actor*) -> caf::behavior {
      return {
        [out](const v1::TaskStatus& s) {
          auto& states = out->updates[s.task_id().value()];
          if (!s.uuid().empty())
            out->stream_at[s.task_id().value()].push_back(states.size());
          if (s.source() == v1::TaskStatus::SOURCE_MASTER)
            out->master_at[s.task_id().value()].push_back(states.size());
          states.push_back(s.state());
          out->update_log[s.task_id().value()].push_back(
            v1::TaskState_Name(s.state()) + " from " + v1::TaskStatus::Source_Name(s.source())
            + " (" + v1::TaskStatus::Reason_Name(s.reason()) + ")"
            + (s.uuid().empty() ? "" : " uuid " + s.uuid()));
        },
        [out](const v1::scheduler::Error&) { out->removed = true; },
        [](examples::batch_subscribed_atom, const v1::FrameworkID&) {},
        [out](examples::batch_done_atom, uint32_t finished, uint32_t gave_up, int32_t) {
          out->done = true;
          out->finished = finished;
          out->gave_up = gave_up;
        },
      };
    });
    auto info = make_framework_info("sim-batch", "sim", {"*"});
    info.set_failover_timeout(spec_.failover_timeout_s);
    examples::batch_config bcfg;
    bcfg.name = "copy";
    bcfg.copies = spec_.tasks;
    bcfg.command = make_shell_command("true");
    bcfg.per_task = resources::parse(spec_.task_resources).value();
    bcfg.max_attempts = spec_.max_attempts;
    auto observer = caf::actor_cast<examples::batch_observer_actor>(observer_);
    auto* sys = &sys_;
    make_driver(framework_node, info, [sys, bcfg, observer](sdk::scheduler_driver_actor d) {
      return examples::spawn_batch_framework(*sys, d, bcfg, observer);
    });
  }
  for (const auto& f : spec_.frameworks) {
    auto* sys = &sys_;
    auto make = f.make;
    make_driver(f.node, f.info, [sys, make](sdk::scheduler_driver_actor d) {
      return make(*sys, d);
    });
  }
}

void cluster::start() {
  if (auto err = check(spec_))
    throw std::invalid_argument(error_message(err));
  if (spec_.chaos) { // which points, and how often, is the seed's choice
    runtime::seeded_random pick{seed_, "chaos-plan"};
    for (auto& p : chaos_)
      p = pick.chance(0.5) ? 0.1 + 0.4 * static_cast<double>(pick.next() % 1000) / 1000 : 0;
    runtime::chaos::arm(seed_, chaos_);
  }
  // The master candidates: standalone contenders (master-1 appointed) over one registry, or
  // every one contending through the simulated ZooKeeper.
  registry_ = std::make_shared<runtime::memory_store>();
  if (spec_.zookeeper) {
    runtime::sim_faults tcp; // links to the coordinator: reliable, ordered, quick
    tcp.min_delay = std::chrono::milliseconds{1};
    tcp.max_delay = std::chrono::milliseconds{20};
    net_->set_node_faults(sim_zookeeper::node, tcp);
    zk_ = std::make_unique<sim_zookeeper>(sys_, *net_);
  }
  contenders_.resize(spec_.masters);
  contending_.assign(spec_.masters, false);
  for (uint32_t i = 1; i <= spec_.masters; ++i) {
    v1::MasterInfo info;
    info.set_id("sim-master-" + std::to_string(i));
    info.set_hostname(master_node(i));
    info.set_actor_port(master_port);
    infos_.push_back(info);
    candidates_.push_back(spawn_candidate(i));
  }
  // Standalone contenders lead once they contend: only master-1 does for now. With ZooKeeper
  // all contend; whoever's member comes first leads.
  // all contend, master-i (i - 1) × 300 ms late, so that master-1 leads first as plans expect.
  for (uint32_t i = 1; i <= (zk_ ? spec_.masters : 1); ++i) {
    caf::delayed_anon_send(candidates_[i - 1], std::chrono::milliseconds{300} * (i - 1),
                           runtime::election::contend_atom::value, infos_[i - 1]);
    contending_[i - 1] = true;
  }
  auto total = resources::parse(spec_.agent_resources).value();
  agents_.resize(spec_.agents);
  for (uint32_t i = 1; i <= spec_.agents; ++i) {
    auto& a = agents_[i - 1];
    auto node = agent_node(i);
    a.cfg.info = make_agent_info(node, 5065, total);
    a.cfg.work_dir = root_ + "/" + node;
    a.cfg.executor_path = "fake";
    a.cfg.executor_endpoint = "in-process:0";
    a.cfg.node = node;
    a.host = std::make_shared<test::fake_host>(sys_);
    spawn_agent(i);
  }
  spawn_frameworks();
  announce_leader();
}

void cluster::fail_over(uint32_t to) {
  if (contenders_[leader_ - 1])
    caf::anon_send(contenders_[leader_ - 1], runtime::election::depose_atom::value);
  if (candidates_[to - 1]) {
    if (!contending_[to - 1]) { // a standalone contender leads as soon as it contends
      caf::anon_send(candidates_[to - 1], runtime::election::contend_atom::value,
                     infos_[to - 1]);
      contending_[to - 1] = true;
    } else if (contenders_[to - 1]) {
      caf::anon_send(contenders_[to - 1], runtime::election::appoint_atom::value);
    }
  }
  leader_ = to;
}

void cluster::announce_leader() {
  auto registry = master::load_registry(*registry_);
  auto info = infos_[leader_ - 1];
  info.set_epoch(registry ? registry->epoch() : 0);
  auto tell = [&](const caf::actor& whom, const std::string& node) {
    if (!whom)
      return;
    if (auto leader = transport_of(node).connect({master_node(leader_), master_port}))
      caf::anon_send(whom, runtime::election::leader_atom::value, *leader, info);
  };
  for (uint32_t i = 1; i <= agents_.size(); ++i)
    tell(agents_[i - 1].actor, agent_node(i));
  for (const auto& [node, driver] : drivers_)
    tell(driver, node);
}

void cluster::crash_master(uint32_t i) {
  net_->take_down(master_node(i));
  // A clean stop ends the candidate's term actors and contender with it (a kill would leave
  // them behind); the node being down, nothing they do now leaves it.
  if (candidates_[i - 1])
    caf::anon_send_exit(candidates_[i - 1], caf::exit_reason::user_shutdown);
  candidates_[i - 1] = nullptr;
  contenders_[i - 1] = nullptr;
  contending_[i - 1] = false;
}

void cluster::restart_master(uint32_t i) {
  net_->bring_up(master_node(i));
  if (spec_.masters == 1 && !zk_)
    registry_->crash(); // its own disk: what it wrote but never synced is gone
  candidates_[i - 1] = spawn_candidate(i);
  if (i == leader_ || zk_) {
    caf::anon_send(candidates_[i - 1], runtime::election::contend_atom::value, infos_[i - 1]);
    contending_[i - 1] = true;
  }
}

void cluster::crash_agent(uint32_t i) {
  auto& a = agents_[i - 1];
  net_->take_down(agent_node(i));
  if (a.actor)
    caf::anon_send_exit(a.actor, caf::exit_reason::kill);
  a.actor = nullptr;
  a.host->reboot();
}

void cluster::stop_agent(uint32_t i) {
  auto& a = agents_[i - 1];
  if (a.actor)
    caf::anon_send_exit(a.actor, caf::exit_reason::kill);
  a.actor = nullptr;
  a.host->agent_gone();
}

void cluster::restart_agent(uint32_t i) {
  net_->bring_up(agent_node(i));
  spawn_agent(i);
}

void cluster::crash_framework() {
  net_->take_down(framework_node);
  for (auto& [node, driver] : drivers_)
    if (node == framework_node && driver) {
      caf::anon_send_exit(driver, caf::exit_reason::kill); // the framework is linked
      driver = nullptr;
    }
  framework_crashed_ = true;
}

caf::error cluster::inject(const fault& f) {
  auto index = [&](const std::string& node, const char* prefix, uint32_t count,
                   uint32_t& out) {
    auto p = std::string{prefix} + "-";
    if (node.rfind(p, 0) != 0)
      return false;
    try {
      out = static_cast<uint32_t>(std::stoul(node.substr(p.size())));
    } catch (const std::exception&) {
      return false;
    }
    return out >= 1 && out <= count;
  };
  auto no = [&](const std::string& why) {
    return make_error(errc::invalid_argument, "\"" + f.text + "\": " + why);
  };
  uint32_t i = 0;
  const std::string node = f.nodes.empty() ? "" : f.nodes.front();
  bool master = index(node, "master", spec_.masters, i);
  bool agent = !master && index(node, "agent", spec_.agents, i);
  switch (f.kind) {
    case fault_kind::partition:
      net_->partition(f.nodes, f.others);
      return caf::none;
    case fault_kind::cut:
      net_->cut(f.nodes[0], f.nodes[1]);
      return caf::none;
    case fault_kind::clog: {
      auto slow = spec_.faults;
      slow.min_delay = slow.max_delay = f.delay;
      net_->set_link_faults(f.nodes[0], f.nodes[1], slow);
      return caf::none;
    }
    case fault_kind::heal:
      net_->heal();
      return caf::none;
    case fault_kind::disconnect:
      net_->disconnect(f.nodes[0], f.nodes[1]);
      return caf::none;
    case fault_kind::crash:
      if (master)
        crash_master(i);
      else if (agent)
        crash_agent(i);
      else if (node == framework_node && spec_.tasks > 0)
        crash_framework();
      else
        return no("no such node (master-1.." + std::to_string(spec_.masters) + ", agent-1.."
                  + std::to_string(spec_.agents) + ", framework)");
      return caf::none;
    case fault_kind::stop:
      if (!agent)
        return no("only agents stop (agent-1.." + std::to_string(spec_.agents) + ")");
      if (!agents_[i - 1].actor)
        return no("it is not running");
      stop_agent(i);
      return caf::none;
    case fault_kind::restart:
      if (master && !candidates_[i - 1])
        restart_master(i);
      else if (agent && !agents_[i - 1].actor)
        restart_agent(i);
      else
        return no(master || agent ? "it is running (crash or stop it first)"
                                  : "only masters and agents restart");
      return caf::none;
    case fault_kind::fail_over:
      if (!master)
        return no("fail over to master-1.." + std::to_string(spec_.masters));
      if (zk_)
        return no("with ZooKeeper the election decides");
      fail_over(i);
      return caf::none;
    case fault_kind::expire:
    case fault_kind::freeze:
    case fault_kind::thaw:
      if (!zk_ || !master)
        return no("expire, freeze and thaw name a master of a cluster with ZooKeeper");
      if (f.kind == fault_kind::expire) {
        zk_->expire(node);
      } else {
        bool on = f.kind == fault_kind::freeze;
        zk_->freeze(node, on);
        if (on)
          outcome_->frozen.insert(i);
        else
          outcome_->frozen.erase(i);
      }
      return caf::none;
  }
  return no("unknown fault");
}

std::set<std::string> cluster::down_agent_nodes() const {
  std::set<std::string> out;
  for (uint32_t i = 1; i <= agents_.size(); ++i)
    if (!agents_[i - 1].actor)
      out.insert(agent_node(i));
  return out;
}

std::map<uint32_t, std::vector<v1::Task>> cluster::agent_tasks(test::deterministic_fixture& f) {
  std::map<uint32_t, std::vector<v1::Task>> out;
  for (uint32_t i = 1; i <= agents_.size(); ++i) {
    const auto& a = agents_[i - 1].actor;
    if (!a)
      continue;
    caf::scoped_actor self{f.sys};
    self->send(a, agent::agent_state_atom::value);
    f.run();
    self->receive([&](const v1::AgentID&, std::vector<v1::Task>& tasks) { out[i] = std::move(tasks); },
                  caf::after(std::chrono::seconds{0}) >> [] {});
  }
  return out;
}

std::vector<std::string> cluster::running_on_agents(test::deterministic_fixture& f) {
  std::vector<std::string> out;
  for (const auto& [i, tasks] : agent_tasks(f))
    for (const auto& t : tasks)
      if (!common::is_terminal(t.state()))
        out.push_back(agent_node(i) + " runs " + t.task_id().value() + " ("
                      + v1::TaskState_Name(t.state()) + ")");
  return out;
}

std::vector<std::string> cluster::check_agents(test::deterministic_fixture& f) {
  std::vector<std::string> problems;
  for (const auto& [i, tasks] : agent_tasks(f)) {
    auto total = resources::from_proto(agents_[i - 1].cfg.info.resources());
    resources held;
    for (const auto& t : tasks)
      if (!common::is_terminal(t.state()))
        if (auto r = resources::from_proto(t.resources()))
          held += *r;
    if (total && !total->contains(held))
      problems.push_back(agent_node(i) + " runs tasks holding " + held.to_string()
                         + ", more than its " + total->to_string());
  }
  return problems;
}

std::optional<v1::MasterState> cluster::state(test::deterministic_fixture& f) {
  if (!master())
    return std::nullopt;
  caf::scoped_actor self{f.sys};
  self->send(master(), master::state_atom::value);
  f.run();
  std::optional<v1::MasterState> out;
  self->receive([&](v1::MasterState& st) { out = std::move(st); },
                caf::after(std::chrono::seconds{0}) >> [] {});
  return out;
}

run_report cluster::run(test::deterministic_fixture& f, const fault_plan& plan,
                        caf::timespan limit) {
  using namespace std::chrono_literals;
  run_report r;
  auto start = f.now();
  const auto& faults = plan.faults();
  size_t next = 0;
  bool announce = false; // a new or restarted leader is told a second on, at announce_at
  caf::timespan announce_at{0};
  bool expired_now = false;
  std::optional<v1::MasterState> last; // the leader's latest state
  caf::timespan unanswered{0}; // how long the leader has not answered state requests
  if (auto err = check(spec_, plan)) { // a misspelled node would make a fault-free run
    r.problems.push_back(error_message(err));
    return r;
  }
  // The goal: the batch done (or the crashed framework expired), every fault injected, and
  // every task the framework saw settled (an agent that comes back reports its tasks).
  const bool has_goal = spec_.tasks > 0 || spec_.goal;
  auto goal = [&] {
    if (next < faults.size() || announce || (spec_.goal && !(last && spec_.goal(*last))))
      return false;
    if (spec_.tasks == 0)
      return running_on_agents(f).empty();
    bool ended = framework_crashed_ || outcome_->removed
                   ? expired_now
                   : done() && last && check_updates(&*last).empty();
    return ended && running_on_agents(f).empty();
  };
  auto add = [&](std::vector<std::string> xs) {
    for (auto& x : xs)
      r.problems.push_back(std::move(x));
  };
  for (;;) {
    auto t = f.now() - start;
    for (; next < faults.size() && faults[next].at <= t && r.problems.empty(); ++next) {
      const auto& what = faults[next];
      if (auto err = inject(what)) { // the plan does not fit: nothing else is meaningful
        r.problems.push_back(error_message(err));
        return r;
      }
      r.faults.push_back(describe(what));
      if (!what.nodes.empty() && what.nodes.front().rfind("master-", 0) == 0)
        unanswered = {}; // a master fault: its silence starts over
      bool leader_restart = what.kind == fault_kind::restart && what.nodes[0] == master_node(leader_);
      // A detector tells every node about a new leader, and catches up a node cut off from it
      // once the network heals or its connection broke.
      if (what.kind == fault_kind::fail_over || leader_restart || what.kind == fault_kind::heal
          || what.kind == fault_kind::disconnect) {
        announce = true;
        announce_at = t + 1s;
      }
    }
    if (zk_) { // the election decides: tell every node once a new leader serves
      uint32_t serving = 0;
      uint64_t newest = 0;
      for (const auto& [i, epoch] : outcome_->serving)
        if (epoch > newest && outcome_->frozen.count(i) == 0) {
          newest = epoch;
          serving = i;
        }
      if (serving != 0 && newest != announced_epoch_) {
        leader_ = serving;
        announced_epoch_ = newest;
        announce = true;
        announce_at = t;
      }
    }
    if (announce && t >= announce_at) {
      announce_leader();
      announce = false;
    }
    if (!r.problems.empty() || (has_goal && goal()) || t >= limit)
      break;
    caf::timespan step = 1s; // but land exactly on the next fault and announcement
    if (next < faults.size())
      step = std::min(step, faults[next].at - t);
    if (announce)
      step = std::min(step, announce_at - t);
    step = std::min(std::max(step, caf::timespan{1ms}), limit - t);
    f.advance(step);
    if (auto st = state(f)) {
      unanswered = {};
      add(check_state(*st));
      if (framework_crashed_ || outcome_->removed)
        expired_now = expired(*st);
      last = std::move(st);
    } else if (master() && (unanswered += step) > 30s) {
      r.problems.push_back("the leader " + master_node(leader_)
                           + " has not served for 30 s although it runs");
    }
    add(check_updates(nullptr));
    add(check_masters());
    add(check_agents(f));
  }
  auto t = f.now() - start;
  auto hits = runtime::chaos::hits();
  for (size_t i = 0; i < chaos_.size(); ++i)
    if (chaos_[i] > 0)
      r.faults.push_back("chaos " + std::string{runtime::chaos::name(runtime::chaos::point(i))}
                         + " " + std::to_string(static_cast<int>(chaos_[i] * 100)) + " %: "
                         + std::to_string(hits[i]) + " hits");
  r.virtual_s = std::chrono::duration<double>(t).count();
  bool failed_during_run = !r.problems.empty();
  if (r.problems.empty() && has_goal && !goal()) {
    r.problems.push_back(spec_.tasks == 0 ? "the test's goal was not reached within the limit"
                         : framework_crashed_
                           ? "the master did not expire the crashed framework within the limit"
                         : done() ? "the framework finished, but not every task settled "
                                    "(at the framework, or on the agents) within the limit"
                                  : "the framework did not finish within the limit");
    add(stuck_report(f));
  }
  if (!failed_during_run) // after a violation the end checks would only repeat its fallout
    add(end_checks(last ? &*last : nullptr));
  return r;
}

std::vector<std::string> cluster::stuck_report(test::deterministic_fixture& f) {
  std::vector<std::string> out;
  for (auto& orphan : running_on_agents(f))
    out.push_back("  " + orphan);
  if (auto st = state(f)) {
    for (const auto& task : st->tasks())
      if (!common::is_terminal(task.state()))
        out.push_back("  at the master: " + task.task_id().value() + " "
                      + v1::TaskState_Name(task.state()) + " on " + task.agent_id().value());
    for (const auto& fw : st->frameworks())
      out.push_back("  framework " + fw.info().id().value() + " connected "
                    + std::to_string(fw.connected()) + ", " + std::to_string(fw.offers())
                    + " offers, " + std::to_string(fw.active_tasks()) + " active tasks");
  }
  return out;
}

std::vector<std::string> cluster::end_checks(const v1::MasterState* last) const {
  std::vector<std::string> out;
  auto add = [&](std::vector<std::string> xs) {
    for (auto& x : xs)
      out.push_back(std::move(x));
  };
  if (last == nullptr)
    out.push_back("the leader never answered a state request");
  else if (!framework_crashed_ && !outcome_->removed) // an expired framework never hears
    add(check_updates(last));                          // the end of its tasks
  if (spec_.task_exit_code != 0 && outcome_->done && outcome_->finished > 0)
    out.push_back(std::to_string(outcome_->finished)
                  + " copies finished although every task fails");
  if (spec_.task_exit_code == 0 && outcome_->gave_up > 0 && !outcome_->removed) {
    out.push_back(std::to_string(outcome_->gave_up) + " copies gave up");
    for (const auto& [task, states] : outcome_->updates) {
      std::string seen;
      for (auto st : states)
        seen += " " + v1::TaskState_Name(st);
      out.push_back("  " + task + ":" + seen);
    }
  }
  return out;
}

void cluster::stop() {
  if (spec_.chaos)
    runtime::chaos::disarm();
  for (auto& [node, driver] : drivers_)
    if (driver) {
      caf::anon_send_exit(driver, caf::exit_reason::kill);
      driver = nullptr;
    }
  if (observer_) {
    caf::anon_send_exit(observer_, caf::exit_reason::kill);
    observer_ = nullptr;
  }
  for (auto& c : candidates_) // a clean stop: the candidate ends its term's actors too
    if (c)
      caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
  candidates_.clear();
  if (zk_)
    zk_->stop();
  for (auto& a : agents_) {
    if (a.actor)
      caf::anon_send_exit(a.actor, caf::exit_reason::kill);
    a.actor = nullptr;
    if (a.host)
      a.host->reboot();
  }
}

} // namespace troupe::sim
