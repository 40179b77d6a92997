// Launch benchmark: how fast does a whole troupe cluster in one process turn accepted offers
// into running tasks? One master, K agents with the fake containerizer (in-process executors:
// no processes, so this measures troupe itself), and one framework that launches T short tasks
// (fake duration 0, cpus:0.1;mem:32) as fast as offers allow, spreading each batch of offers
// evenly. Per task it records when the Accept carrying it was sent and when its TASK_RUNNING
// arrived. Prints, per K, the medians over `runs` runs of: setup (agents registered), total
// (first Accept -> last RUNNING), throughput, and p50/p99 submit -> RUNNING latency.
//   launch-bench [--agents 100,1000,5000] [--tasks 5000] [--runs 3] [--interval-ms 10]
//                [--threads nproc] [--work-dir DIR] [--log-level warn] [--quick]
// The agents' work dirs (status update and task checkpoints) go below --work-dir, by default
// /dev/shm: every status update is fdatasync'ed, and on a disk that, not troupe, sets the pace
// (on this VM's ext4 about 300-400 tasks/s instead of ~2000). Pass --work-dir to measure a disk.
// A benchmark, not a test: it never asserts timings.
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "troupe/agent/agent_actor.hpp"
#include "troupe/master/master_actor.hpp"
#include "troupe/messages/builders.hpp"
#include "troupe/messages/task_states.hpp"
#include "troupe/runtime/logging.hpp"
#include "troupe/runtime/node_config.hpp"
#include "troupe/runtime/options.hpp"
#include "troupe/sdk/scheduler_driver.hpp"
#include "troupe/test/fake_containerizer.hpp"

using namespace std::chrono_literals;
using namespace troupe;

namespace {

using steady = std::chrono::steady_clock;

// -- options -------------------------------------------------------------------------------

struct options {
  std::vector<int> agents{100, 1000, 5000};
  int tasks = 5000;
  int runs = 3;
  int interval_ms = 10;
  size_t threads = 0; // 0 = nproc
  std::string work_dir;
  std::string log_level = "warn";
  caf::timespan run_timeout = 60s;
};

std::vector<int> parse_list(const std::string& text) {
  std::vector<int> out;
  std::stringstream in{text};
  std::string item;
  while (std::getline(in, item, ','))
    if (int v = std::atoi(item.c_str()); v > 0)
      out.push_back(v);
  return out;
}

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
      opts.agents = {10, 100};
      opts.tasks = 200;
      opts.runs = 1;
    } else if (arg == "--agents") {
      opts.agents = parse_list(value());
    } else if (arg == "--tasks") {
      opts.tasks = std::max(1, std::atoi(value().c_str()));
    } else if (arg == "--runs") {
      opts.runs = std::max(1, std::atoi(value().c_str()));
    } else if (arg == "--interval-ms") {
      opts.interval_ms = std::max(1, std::atoi(value().c_str()));
    } else if (arg == "--threads") {
      opts.threads = static_cast<size_t>(std::max(1, std::atoi(value().c_str())));
    } else if (arg == "--work-dir") {
      opts.work_dir = value();
    } else if (arg == "--log-level") {
      opts.log_level = value();
    } else {
      std::fprintf(stderr,
                   "usage: %s [--agents 100,1000,5000] [--tasks N] [--runs N] "
                   "[--interval-ms N] [--threads N] [--work-dir DIR] [--log-level L] "
                   "[--quick]\n",
                   argv[0]);
      return false;
    }
  }
  return !opts.agents.empty();
}

// -- the benchmark framework ---------------------------------------------------------------

using bench_done_atom = caf::atom_constant<caf::atom("benchdone")>;

/// What one run measured; written by the framework actor, read by main after bench_done.
struct run_record {
  std::vector<steady::time_point> submitted; ///< by task index; epoch = not yet
  std::vector<steady::time_point> running;   ///< by task index; epoch = never
  int terminal = 0;                          ///< tasks that reached a terminal state
  int failed = 0;                            ///< terminal without ever RUNNING, or not FINISHED
};

struct bench_state {
  sdk::scheduler_driver_actor driver;
  caf::actor observer;
  std::shared_ptr<run_record> record;
  resources per_task;
  int total = 0;
  int next = 0; ///< index of the next task to submit
  int running = 0;
  bool suppressed = false;
  bool done = false;
  static inline const char* name = "launch_bench.framework";
};

using bench_pointer = sdk::framework_actor::stateful_pointer<bench_state>;

template <class Msg>
void call(bench_pointer self, Msg msg) {
  self->send(self->state.driver, make_call(v1::FrameworkID{}, std::move(msg)));
}

v1::TaskInfo bench_task(int index, const v1::AgentID& agent, const resources& res) {
  auto id = "bench-" + std::to_string(index);
  auto task = make_task_info(make_task_id(id), id, agent, res, make_shell_command("true"));
  auto* label = task.mutable_labels()->add_labels();
  label->set_key(test::fake_duration_label);
  label->set_value("0");
  return task;
}

// Spreads the pending tasks evenly over this batch of offers; declines what it cannot use.
// Accepts carry refuse_seconds = 0: the unused rest of an agent comes back in the next pass.
void on_offers(bench_pointer self, const v1::scheduler::Offers& msg) {
  auto& st = self->state;
  int pending = st.total - st.next;
  auto per_offer = msg.offers_size() == 0
                     ? 0
                     : (pending + msg.offers_size() - 1) / msg.offers_size();
  v1::scheduler::Decline decline;
  for (const auto& offer : msg.offers()) {
    auto left = *resources::from_proto(offer.resources());
    std::vector<v1::TaskInfo> tasks;
    std::vector<int> indices;
    while (st.next < st.total && static_cast<int>(tasks.size()) < per_offer
           && left.contains(st.per_task)) {
      left -= st.per_task;
      indices.push_back(st.next);
      tasks.push_back(bench_task(st.next++, offer.agent_id(), st.per_task));
    }
    if (tasks.empty()) {
      *decline.add_offer_ids() = offer.id();
      continue;
    }
    v1::scheduler::Accept accept;
    *accept.add_offer_ids() = offer.id();
    *accept.add_operations() = make_launch(std::move(tasks));
    *accept.mutable_filters() = make_filters(0);
    auto now = steady::now();
    for (auto i : indices)
      st.record->submitted[i] = now;
    call(self, std::move(accept));
  }
  if (decline.offer_ids_size() > 0) {
    *decline.mutable_filters() = make_filters(st.next < st.total ? 0 : 3600);
    call(self, std::move(decline));
  }
  if (st.next >= st.total && !st.suppressed) {
    st.suppressed = true;
    call(self, v1::scheduler::Suppress{});
  }
}

void on_update(bench_pointer self, const v1::TaskStatus& status) {
  auto& st = self->state;
  auto& rec = *st.record;
  const auto& id = status.task_id().value();
  if (id.rfind("bench-", 0) != 0)
    return;
  auto index = std::atoi(id.c_str() + 6);
  if (index < 0 || index >= st.total)
    return;
  if (status.state() == v1::TASK_RUNNING) {
    if (rec.running[index] == steady::time_point{}) {
      rec.running[index] = steady::now();
      ++st.running;
    }
  } else if (is_terminal_state(status.state()) || status.state() == v1::TASK_UNKNOWN) {
    ++rec.terminal;
    if (status.state() != v1::TASK_FINISHED || rec.running[index] == steady::time_point{})
      ++rec.failed;
  }
  if (!st.done && rec.terminal >= st.total) {
    st.done = true;
    caf::anon_send(st.observer, bench_done_atom::value); // main's scoped actor is untyped
  }
}

sdk::framework_actor::behavior_type bench_fn(bench_pointer self,
                                             sdk::scheduler_driver_actor driver,
                                             caf::actor observer, std::shared_ptr<run_record> rec,
                                             int total) {
  auto& st = self->state;
  st.driver = std::move(driver);
  st.observer = std::move(observer);
  st.record = std::move(rec);
  st.total = total;
  st.per_task = resources::parse("cpus:0.1;mem:32").value();
  return {
    [](const v1::scheduler::Subscribed&) {},
    [self](const v1::scheduler::Offers& msg) { on_offers(self, msg); },
    [](const v1::scheduler::Rescind&) {},
    [self](const v1::scheduler::Update& msg) { on_update(self, msg.status()); },
    [](const v1::scheduler::ExecutorMessage&) {},
    [](const v1::scheduler::Failure&) {},
    [](const v1::scheduler::Error& err) {
      std::fprintf(stderr, "framework error: %s\n", err.message().c_str());
    },
    [](sdk::disconnected_atom) { std::fprintf(stderr, "framework disconnected\n"); },
  };
}

// -- one run -------------------------------------------------------------------------------

struct run_result {
  bool complete = false;
  double setup_s = 0;   ///< spawn -> every agent registered
  double total_s = 0;   ///< first Accept -> last RUNNING
  double rate = 0;      ///< tasks / total_s
  double p50_ms = 0;
  double p99_ms = 0;
  int failed = 0;
};

double seconds_between(steady::time_point a, steady::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty())
    return 0;
  auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

// Asks the master how many agents are registered (blocking: main only).
int registered_agents(caf::scoped_actor& self, const master::master_node_actor& master) {
  int n = -1;
  self->request(master, 10s, master::state_atom::value)
    .receive(
      [&](const v1::MasterState& st) {
        n = 0;
        for (const auto& a : st.agents())
          if (a.status() == "registered")
            ++n;
      },
      [&](caf::error&) { n = -1; });
  return n;
}

run_result run_once(const options& opts, int agents, int run_index) {
  run_result out;
  auto work_dir = opts.work_dir + "/run-" + std::to_string(agents) + "-"
                  + std::to_string(run_index);
  runtime::node_options node;
  node.scheduler_threads = opts.threads;
  runtime::node_config cfg{node};
  {
    caf::actor_system sys{cfg};
    std::vector<caf::actor> started;
    master::master_config mcfg;
    mcfg.info.set_id("bench-master");
    mcfg.info.set_hostname("127.0.0.1");
    mcfg.info.set_epoch(1);
    mcfg.allocator.allocation_interval = std::chrono::milliseconds{opts.interval_ms};
    mcfg.node = "bench-master";
    auto t0 = steady::now();
    auto master = master::spawn_master(sys, mcfg);
    started.push_back(caf::actor_cast<caf::actor>(master));
    auto total = resources::parse("cpus:8;mem:8192").value();
    for (int i = 0; i < agents; ++i) {
      agent::agent_config acfg;
      acfg.info = make_agent_info("bench-agent-" + std::to_string(i), 5051, total);
      acfg.work_dir = work_dir + "/agent-" + std::to_string(i);
      acfg.executor_path = "fake";
      acfg.executor_endpoint = "in-process:0";
      acfg.seed = 42;
      acfg.node = "bench-agent";
      auto agent = agent::spawn_agent(sys, std::move(acfg),
                                      caf::actor_cast<protocols::master_actor>(master),
                                      test::fake_containerizer_factory({}));
      started.push_back(caf::actor_cast<caf::actor>(agent));
    }
    caf::scoped_actor self{sys};
    auto deadline = steady::now() + opts.run_timeout;
    while (registered_agents(self, master) < agents && steady::now() < deadline)
      std::this_thread::sleep_for(100ms);
    auto t1 = steady::now();
    out.setup_s = seconds_between(t0, t1);
    auto rec = std::make_shared<run_record>();
    rec->submitted.resize(static_cast<size_t>(opts.tasks));
    rec->running.resize(static_cast<size_t>(opts.tasks));
    sdk::scheduler_driver_config dcfg;
    dcfg.framework = make_framework_info("launch-bench", "bench", {"*"});
    dcfg.master.local = caf::actor_cast<caf::actor>(master);
    auto observer = caf::actor_cast<caf::actor>(self);
    auto driver = sdk::spawn_scheduler_driver(sys, dcfg, [&](sdk::scheduler_driver_actor d) {
      return sdk::framework_actor{sys.spawn(bench_fn, d, observer, rec, opts.tasks)};
    });
    bool done = false;
    self->receive([&](bench_done_atom) { done = true; }, caf::after(opts.run_timeout) >> [] {});
    caf::anon_send_exit(driver, caf::exit_reason::user_shutdown);
    for (auto& a : started)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    if (done) {
      std::vector<double> latencies;
      steady::time_point first = steady::time_point::max();
      steady::time_point last{};
      for (size_t i = 0; i < rec->running.size(); ++i) {
        if (rec->running[i] == steady::time_point{})
          continue;
        first = std::min(first, rec->submitted[i]);
        last = std::max(last, rec->running[i]);
        latencies.push_back(
          std::chrono::duration<double, std::milli>(rec->running[i] - rec->submitted[i]).count());
      }
      std::sort(latencies.begin(), latencies.end());
      out.complete = true;
      out.failed = rec->failed;
      out.total_s = latencies.empty() ? 0 : seconds_between(first, last);
      out.rate = out.total_s > 0 ? static_cast<double>(latencies.size()) / out.total_s : 0;
      out.p50_ms = percentile(latencies, 0.50);
      out.p99_ms = percentile(latencies, 0.99);
    } else {
      std::fprintf(stderr, "run %d with %d agents: not done after the timeout\n", run_index,
                   agents);
    }
  } // ~actor_system waits for every actor
  std::error_code ec;
  std::filesystem::remove_all(work_dir, ec);
  return out;
}

// The default work dir: tmpfs when there is one (see the top of the file).
std::string default_work_dir() {
  std::error_code ec;
  std::string base = "/dev/shm";
  if (!std::filesystem::is_directory(base, ec)) {
    const char* tmp = std::getenv("TMPDIR");
    base = tmp != nullptr ? tmp : "/tmp";
  }
  return base + "/troupe-launch-bench-" + std::to_string(::getpid());
}

const char* filesystem_kind(const std::string& path) {
  struct statfs fs {};
  if (::statfs(path.c_str(), &fs) != 0)
    return "unknown filesystem";
  return fs.f_type == 0x01021994 /* TMPFS_MAGIC */ ? "tmpfs" : "not tmpfs: fdatasync hits a disk";
}

double median(std::vector<double> xs) {
  std::sort(xs.begin(), xs.end());
  return xs.empty() ? 0 : xs[xs.size() / 2];
}

} // namespace

int main(int argc, char** argv) {
  options opts;
  if (!parse(argc, argv, opts))
    return 2;
  auto nproc = static_cast<size_t>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
  if (opts.threads == 0)
    opts.threads = nproc;
  bool own_work_dir = opts.work_dir.empty();
  if (own_work_dir)
    opts.work_dir = default_work_dir();
  std::error_code mk;
  std::filesystem::create_directories(opts.work_dir, mk);
  for (const char* node : {"bench-master", "bench-agent", "allocator"})
    if (auto lg = runtime::make_node_logger(node, opts.log_level); !lg) {
      std::fprintf(stderr, "bad --log-level %s\n", opts.log_level.c_str());
      return 2;
    }
  std::string command;
  for (int i = 0; i < argc; ++i)
    command += (i > 0 ? " " : "") + std::string{argv[i]};
  std::printf("launch-bench: %s\n", command.c_str());
  std::printf("machine: nproc %zu, CAF threads %zu; master allocation interval %d ms; "
              "agents cpus:8;mem:8192, fake containerizer; tasks cpus:0.1;mem:32, duration 0\n"
              "work dir %s (%s); medians of %d run(s)\n",
              nproc, opts.threads, opts.interval_ms, opts.work_dir.c_str(),
              filesystem_kind(opts.work_dir), opts.runs);
  std::printf("%7s %7s %9s %9s %10s %9s %9s %7s\n", "agents", "tasks", "setup s", "total s",
              "tasks/s", "p50 ms", "p99 ms", "failed");
  std::fflush(stdout);
  int incomplete = 0;
  for (int agents : opts.agents) {
    std::vector<double> setup, total, rate, p50, p99, failed;
    for (int r = 0; r < opts.runs; ++r) {
      auto res = run_once(opts, agents, r);
      if (!res.complete) {
        ++incomplete;
        continue;
      }
      setup.push_back(res.setup_s);
      total.push_back(res.total_s);
      rate.push_back(res.rate);
      p50.push_back(res.p50_ms);
      p99.push_back(res.p99_ms);
      failed.push_back(res.failed);
    }
    if (total.empty()) {
      std::printf("%7d %7d %9s\n", agents, opts.tasks, "(no complete run)");
      continue;
    }
    std::printf("%7d %7d %9.2f %9.3f %10.0f %9.1f %9.1f %7.0f\n", agents, opts.tasks,
                median(setup), median(total), median(rate), median(p50), median(p99),
                median(failed));
    std::fflush(stdout);
  }
  if (own_work_dir) {
    std::error_code ec;
    std::filesystem::remove_all(opts.work_dir, ec);
  }
  if (incomplete > 0)
    std::printf("%d run(s) did not complete within %lld s\n", incomplete,
                static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::seconds>(opts.run_timeout).count()));
  return incomplete > 0 ? 1 : 0;
}
