// Failover benchmark (in process): how long until a new leader has recovered the registry and
// every agent has reregistered with its tasks? The Mesos MasterFailover benchmark shape: A
// agents with T tasks in all (spread over F frameworks) reregister at once with a master that
// just started a term. The agents are simulated by K sender actors that send each agent's
// ReregisterAgent (with its tasks) and count the AgentReregistered answers, as Mesos simulates
// them with bare processes; the master is the real one behind a real master candidate (standalone
// contender, memory_store registry holding the A admitted agents and F framework leases).
//
// Per shape it prints the medians over `runs` runs of: registry recovery (contend -> serving),
// reregistration (first ReregisterAgent sent -> last AgentReregistered received), their sum,
// and the same reregistration into a master with an empty registry (every agent unknown) as
// the baseline measured in the same run, with the ratio.
//   failover-bench [--shapes 10000x100000,40000x400000] [--runs 3] [--senders 8]
//                  [--frameworks 100] [--threads nproc] [--quick]
// A benchmark, not a test: it never asserts timings.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "troupe/master/master_candidate.hpp"
#include "troupe/master/registry_store.hpp"
#include "troupe/messages/builders.hpp"
#include "troupe/runtime/logging.hpp"
#include "troupe/runtime/node_config.hpp"
#include "troupe/runtime/options.hpp"
#include "troupe/runtime/store/memory_store.hpp"

using namespace std::chrono_literals;
using namespace troupe;
namespace election = troupe::runtime::election;

namespace {

using steady = std::chrono::steady_clock;

struct shape {
  int agents;
  int tasks;
};

struct options {
  std::vector<shape> shapes{{10000, 100000}, {40000, 400000}};
  int runs = 3;
  int senders = 8;
  int frameworks = 100;
  size_t threads = 0;
};

bool parse(int argc, char** argv, options& opts) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--quick") {
      opts.shapes = {{1000, 10000}};
      opts.runs = 1;
    } else if (arg == "--shapes") {
      opts.shapes.clear();
      std::stringstream in{value()};
      std::string item;
      while (std::getline(in, item, ',')) {
        auto x = item.find('x');
        int a = std::atoi(item.substr(0, x).c_str());
        int t = x == std::string::npos ? 0 : std::atoi(item.substr(x + 1).c_str());
        if (a > 0 && t >= 0)
          opts.shapes.push_back({a, t});
      }
    } else if (arg == "--runs") {
      opts.runs = std::max(1, std::atoi(value().c_str()));
    } else if (arg == "--senders") {
      opts.senders = std::max(1, std::atoi(value().c_str()));
    } else if (arg == "--frameworks") {
      opts.frameworks = std::max(1, std::atoi(value().c_str()));
    } else if (arg == "--threads") {
      opts.threads = static_cast<size_t>(std::max(1, std::atoi(value().c_str())));
    } else {
      std::fprintf(stderr,
                   "usage: %s [--shapes AxT,...] [--runs N] [--senders N] [--frameworks N] "
                   "[--threads N] [--quick]\n",
                   argv[0]);
      return false;
    }
  }
  return !opts.shapes.empty();
}

// -- the cluster as the registry and the agents remember it ---------------------------------

struct cluster {
  std::vector<v1::ReregisterAgent> agents;
  std::vector<v1::FrameworkInfo> frameworks;
};

cluster make_cluster(const shape& s, int frameworks) {
  cluster out;
  auto agent_res = resources::parse("cpus:64;mem:262144;disk:1048576;ports:[31000-32000]").value();
  auto task_res = resources::parse("cpus:0.01;mem:16").value();
  for (int f = 0; f < frameworks; ++f) {
    auto info = make_framework_info("fw" + std::to_string(f), "bench", {"*"});
    info.mutable_id()->set_value("old-F" + std::to_string(f));
    info.set_failover_timeout(3600);
    out.frameworks.push_back(std::move(info));
  }
  int next_task = 0;
  for (int a = 0; a < s.agents; ++a) {
    v1::ReregisterAgent msg;
    auto* info = msg.mutable_agent();
    *info = make_agent_info("10.0." + std::to_string(a / 250) + "." + std::to_string(a % 250),
                            5065, agent_res);
    info->mutable_id()->set_value("old-S" + std::to_string(a));
    int share = s.tasks / s.agents + (a < s.tasks % s.agents ? 1 : 0);
    for (int t = 0; t < share; ++t, ++next_task) {
      auto* task = msg.add_tasks();
      task->set_name("t");
      task->mutable_task_id()->set_value("task-" + std::to_string(next_task));
      *task->mutable_framework_id() = out.frameworks[next_task % frameworks].id();
      *task->mutable_agent_id() = info->id();
      task->set_state(v1::TASK_RUNNING);
      task_res.to_proto(task->mutable_resources());
    }
    for (int f = 0; f < std::min(share, frameworks); ++f)
      *msg.add_frameworks() = out.frameworks[(a * share + f) % frameworks];
    out.agents.push_back(std::move(msg));
  }
  return out;
}

std::shared_ptr<runtime::memory_store> make_registry(const cluster& c, bool with_records) {
  auto st = std::make_shared<runtime::memory_store>();
  if (!with_records)
    return st;
  for (const auto& a : c.agents) {
    internal::RegistryOperation op;
    *op.mutable_admit_agent()->mutable_info() = a.agent();
    master::apply_operation(*st, op);
  }
  for (const auto& f : c.frameworks) {
    internal::RegistryOperation op;
    *op.mutable_record_lease()->mutable_info() = f;
    op.mutable_record_lease()->set_connected(true);
    master::apply_operation(*st, op);
  }
  st->sync();
  return st;
}

// -- simulated agents -------------------------------------------------------------------------

using sender_done_atom = caf::atom_constant<caf::atom("snddone")>;

// Sends its agents' reregistrations and reports once every one was answered.
caf::behavior sender(caf::event_based_actor* self, std::shared_ptr<const cluster> c,
                     size_t first, size_t last, protocols::master_actor master, caf::actor observer) {
  auto left = std::make_shared<size_t>(last - first);
  for (size_t i = first; i < last; ++i)
    self->send(master, c->agents[i]);
  return {
    [self, left, observer](const v1::AgentReregistered&) {
      if (--*left == 0) {
        self->send(observer, sender_done_atom::value);
        self->quit();
      }
    },
    [](const v1::Ping&) {},
  };
}

struct run_result {
  double recovery_s = 0;
  double reregistration_s = 0;
  bool complete = false;
};

run_result run_once(caf::actor_system& sys, const std::shared_ptr<const cluster>& c,
                    bool recovered, int senders) {
  run_result out;
  master::candidate_config cfg;
  cfg.master.info.set_id(recovered ? "new" : "cold");
  cfg.master.info.set_hostname("127.0.0.1");
  cfg.master.ping_interval = 1h;
  cfg.master.heartbeat_interval = 1h;
  cfg.master.agent_reregister_timeout = 1h;
  cfg.master.node = "bench-master";
  cfg.store = make_registry(*c, recovered);
  cfg.make_contender = [](caf::actor_system& s, election::leadership_listener l) {
    return caf::actor_cast<election::contender_actor>(
      election::spawn_standalone_contender(s, std::move(l)));
  };
  auto serving = std::make_shared<std::promise<void>>();
  auto fired = std::make_shared<std::atomic<bool>>(false);
  cfg.on_term = [serving, fired](const v1::MasterInfo* info) {
    if (info != nullptr && !fired->exchange(true))
      serving->set_value();
  };
  auto started = serving->get_future();
  auto t0 = steady::now();
  auto candidate = master::spawn_master_candidate(sys, std::move(cfg));
  caf::anon_send(candidate, election::contend_atom::value, v1::MasterInfo{});
  if (started.wait_for(120s) != std::future_status::ready) {
    caf::anon_send_exit(candidate, caf::exit_reason::user_shutdown);
    return out;
  }
  auto t1 = steady::now();
  caf::scoped_actor self{sys};
  size_t n = c->agents.size();
  size_t per = (n + senders - 1) / senders;
  int spawned = 0;
  for (size_t first = 0; first < n; first += per, ++spawned)
    sys.spawn(sender, c, first, std::min(n, first + per), candidate,
              caf::actor_cast<caf::actor>(self));
  int done = 0;
  bool timed_out = false;
  while (done < spawned && !timed_out)
    self->receive([&](sender_done_atom) { ++done; },
                  caf::after(std::chrono::seconds{300}) >> [&] { timed_out = true; });
  auto t2 = steady::now();
  caf::anon_send_exit(candidate, caf::exit_reason::user_shutdown);
  self->wait_for(candidate);
  // The term's master and allocator free hundreds of thousands of records after the candidate
  // ends them: let that finish before the next run measures anything.
  std::this_thread::sleep_for(std::chrono::milliseconds{200} * (n / 4000 + 1));
  out.recovery_s = std::chrono::duration<double>(t1 - t0).count();
  out.reregistration_s = std::chrono::duration<double>(t2 - t1).count();
  out.complete = !timed_out;
  return out;
}

double median(std::vector<double> v) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

} // namespace

int main(int argc, char** argv) {
  options opts;
  if (!parse(argc, argv, opts))
    return 2;
  auto nproc = static_cast<size_t>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
  if (opts.threads == 0)
    opts.threads = nproc;
  for (const char* node : {"bench-master", "allocator", "master"})
    runtime::make_node_logger(node, "warn");
  runtime::node_options node;
  node.node_name = "failover-bench";
  node.scheduler_threads = opts.threads;
  runtime::node_config sys_cfg{node};
  caf::actor_system sys{sys_cfg};
  std::string command;
  for (int i = 0; i < argc; ++i)
    command += (i > 0 ? " " : "") + std::string{argv[i]};
  std::printf("failover-bench: %s\n", command.c_str());
  std::printf("machine: nproc %zu, CAF threads %zu; %d frameworks, %d sender actors; medians of "
              "%d run(s)\n",
              nproc, opts.threads, opts.frameworks, opts.senders, opts.runs);
  std::printf("%7s %8s %12s %14s %9s %14s %7s\n", "agents", "tasks", "recovery ms",
              "rereg s", "total s", "cold rereg s", "ratio");
  std::fflush(stdout);
  int incomplete = 0;
  for (const auto& s : opts.shapes) {
    auto c = std::make_shared<const cluster>(make_cluster(s, opts.frameworks));
    std::vector<double> recovery, rereg, total, cold;
    for (int r = 0; r < opts.runs; ++r) {
      auto warm = run_once(sys, c, true, opts.senders);
      auto base = run_once(sys, c, false, opts.senders);
      if (!warm.complete || !base.complete) {
        ++incomplete;
        continue;
      }
      recovery.push_back(warm.recovery_s * 1000);
      rereg.push_back(warm.reregistration_s);
      total.push_back(warm.recovery_s + warm.reregistration_s);
      cold.push_back(base.reregistration_s);
    }
    std::printf("%7d %8d %12.1f %14.3f %9.3f %14.3f %7.2f\n", s.agents, s.tasks,
                median(recovery), median(rereg), median(total), median(cold),
                median(cold) > 0 ? median(total) / median(cold) : 0.0);
    std::fflush(stdout);
  }
  if (incomplete > 0)
    std::printf("%d run(s) did not complete within the timeout\n", incomplete);
  return incomplete == 0 ? 0 : 1;
}
