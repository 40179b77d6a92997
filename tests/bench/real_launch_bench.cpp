// real-launch-bench: N real tasks through the whole real launch path - troupe-master and one
// troupe-agent as processes, troupe-executor per task, the command's exit, the executor's last
// update and exit, reaping - with POSIX and cgroups isolation, all submitted at once by the
// example batch framework running in this process. Per isolation and command, medians over the
// runs of: completions, wall time, tasks/s, p50/p99 submit -> RUNNING and RUNNING -> terminal,
// and CPU seconds per task of the master, the agent, and the executors with their tasks (the
// agent's reaped children). Baseline of the same run: the same N commands forked and exec'ed
// straight from this process, 64 at a time (what the machine can do with no cluster manager).
//
//   real-launch-bench [--tasks 1000] [--runs 3] [--isolation posix,cgroups]
//                     [--command /bin/true --command 'sleep 0.1'] [--slots 64] [--quick]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include "troupe/examples/batch_framework.hpp"
#include "troupe/messages/builders.hpp"
#include "troupe/messages/resources.hpp"
#include "troupe/runtime/http_client.hpp"
#include "troupe/runtime/logging.hpp"
#include "troupe/runtime/node_config.hpp"
#include "troupe/runtime/transport.hpp"
#include "troupe/sdk/scheduler_driver.hpp"
#include "troupe/test/child_process.hpp"

extern char** environ;

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace troupe;
using steady = std::chrono::steady_clock;

namespace {

struct options {
  uint32_t tasks = 1000;
  uint32_t runs = 3;
  uint32_t slots = 64; ///< the agent's cpus (one per task) and the baseline's processes in flight
  std::vector<std::string> isolation{"posix", "cgroups"};
  std::vector<std::string> commands{"/bin/true", "sleep 0.1"};
  std::string tools;
  std::string work_dir = "/tmp/troupe-real-launch-bench";
  bool quick = false;
};

struct figures {
  double finished = 0;
  double wall_s = 0;
  double per_s = 0;
  double to_running_p50 = 0, to_running_p99 = 0; ///< seconds from submission
  double running_p50 = 0, running_p99 = 0;       ///< RUNNING -> terminal, seconds
  double master_ms = 0, agent_ms = 0, executors_ms = 0; ///< CPU per task
};

double median(std::vector<double> xs) {
  if (xs.empty())
    return 0;
  std::sort(xs.begin(), xs.end());
  return xs[xs.size() / 2];
}

double quantile(std::vector<double> xs, double q) {
  if (xs.empty())
    return 0;
  std::sort(xs.begin(), xs.end());
  return xs[std::min(xs.size() - 1, static_cast<size_t>(q * static_cast<double>(xs.size())))];
}

/// utime+stime and cutime+cstime of `pid`, in seconds.
std::pair<double, double> cpu_of(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  std::string text{std::istreambuf_iterator<char>{in}, {}};
  auto close = text.rfind(')');
  if (close == std::string::npos)
    return {0, 0};
  std::istringstream rest{text.substr(close + 2)};
  std::vector<std::string> f{std::istream_iterator<std::string>{rest}, {}};
  // After "pid (comm) ": state is field 3, utime 14, stime 15, cutime 16, cstime 17.
  auto at = [&](size_t field) { return f.size() > field - 3 ? std::stod(f[field - 3]) : 0.0; };
  double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  return {(at(14) + at(15)) / tick, (at(16) + at(17)) / tick};
}

std::optional<unsigned long> wait_port(const std::string& file) {
  return test::read_number_file(file, 30s);
}

figures run_cluster(const options& opts, const std::string& isolation,
                    const std::string& command) {
  figures out;
  auto dir = opts.work_dir + "/run";
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir);
  test::child_process master{{opts.tools + "/troupe-master", "--port", "0", "--http-port", "0",
                              "--port-file", dir + "/master.port", "--http-port-file",
                              dir + "/master.http", "--log-level", "warn"},
                             dir + "/master.log"};
  auto port = wait_port(dir + "/master.port");
  auto http = wait_port(dir + "/master.http");
  if (!port || !http) {
    std::cerr << "the master did not start; see " << dir << "/master.log\n";
    return out;
  }
  auto slots = std::to_string(opts.slots);
  test::child_process agent{
    {opts.tools + "/troupe-agent", "--master", "127.0.0.1:" + std::to_string(*port), "--port",
     "0", "--http-port", "0", "--work-dir", dir + "/agent", "--isolation", isolation,
     "--resources", "cpus:" + slots + ";mem:65536;disk:100000;ports:[31000-32000]",
     "--log-level", "warn"},
    dir + "/agent.log"};
  runtime::endpoint api{"127.0.0.1", static_cast<uint16_t>(*http)};
  for (auto deadline = steady::now() + 30s;; std::this_thread::sleep_for(50ms)) {
    auto st = runtime::http_get(api, "/api/v1/state", 2s);
    if (st && st->status == 200 && st->body.find("\"registered\"") != std::string::npos)
      break;
    if (steady::now() > deadline) {
      std::cerr << "the agent did not register; see " << dir << "/agent.log\n";
      return out;
    }
  }
  runtime::node_options node;
  node.node_name = "bench";
  node.log_level = "warn";
  runtime::make_node_logger(node);
  runtime::node_config sys_cfg{node};
  caf::actor_system sys{sys_cfg};
  auto tp = runtime::make_middleman_transport(sys);
  caf::scoped_actor self{sys};
  sdk::scheduler_driver_config dcfg;
  dcfg.framework.set_name("real-launch-bench");
  dcfg.framework.set_user("root");
  dcfg.master.remote = {"127.0.0.1", static_cast<uint16_t>(*port)};
  dcfg.master.connector = tp->connector();
  examples::batch_config bcfg;
  bcfg.name = "b";
  bcfg.copies = opts.tasks;
  bcfg.command = make_shell_command(command);
  bcfg.per_task = resources::parse("cpus:1;mem:16").value();
  auto observer = caf::actor_cast<examples::batch_observer_actor>(self);
  auto t0 = steady::now();
  auto driver = sdk::spawn_scheduler_driver(sys, dcfg, [&sys, bcfg, observer](auto d) {
    return examples::spawn_batch_framework(sys, d, bcfg, observer);
  });
  std::map<std::string, steady::time_point> running;
  std::vector<double> to_running, run_time;
  auto last = t0;
  bool done = false;
  while (!done)
    self->receive(
      [&](const v1::TaskStatus& s) {
        auto now = steady::now();
        auto id = s.task_id().value();
        if (s.state() == v1::TASK_RUNNING && running.emplace(id, now).second)
          to_running.push_back(std::chrono::duration<double>(now - t0).count());
        bool terminal = s.state() == v1::TASK_FINISHED || s.state() == v1::TASK_FAILED
                        || s.state() == v1::TASK_KILLED;
        if (terminal) {
          last = now;
          if (auto it = running.find(id); it != running.end())
            run_time.push_back(std::chrono::duration<double>(now - it->second).count());
        }
      },
      [&](const v1::scheduler::Error&) {},
      [&](examples::batch_subscribed_atom, const v1::FrameworkID&) {},
      [&](examples::batch_done_atom, uint32_t ok, uint32_t, int32_t) {
        out.finished = ok;
        done = true;
      },
      caf::after(300s) >> [&] {
        std::cerr << "no result in 300 s (" << run_time.size() << " tasks ended)\n";
        done = true;
      });
  out.wall_s = std::chrono::duration<double>(last - t0).count();
  out.per_s = out.wall_s > 0 ? out.finished / out.wall_s : 0;
  out.to_running_p50 = quantile(to_running, 0.5);
  out.to_running_p99 = quantile(to_running, 0.99);
  out.running_p50 = quantile(run_time, 0.5);
  out.running_p99 = quantile(run_time, 0.99);
  // Executors are reaped by the agent as they end: their CPU (and their tasks') is the agent's
  // children's time by now.
  std::this_thread::sleep_for(500ms);
  auto [m_own, m_children] = cpu_of(master.pid());
  auto [a_own, a_children] = cpu_of(agent.pid());
  (void)m_children;
  double n = std::max(1.0, out.finished);
  out.master_ms = 1000 * m_own / n;
  out.agent_ms = 1000 * a_own / n;
  out.executors_ms = 1000 * a_children / n;
  caf::anon_send_exit(driver, caf::exit_reason::user_shutdown);
  self->wait_for(driver);
  agent.signal(SIGTERM);
  agent.wait_for(20s);
  master.signal(SIGTERM);
  master.wait_for(10s);
  fs::remove_all(dir, ec);
  return out;
}

// The same commands forked and exec'ed from here through /bin/sh -c (as the command executor
// runs them), `slots` at a time.
figures run_baseline(const options& opts, const std::string& command) {
  figures out;
  rusage before{};
  getrusage(RUSAGE_CHILDREN, &before);
  auto t0 = steady::now();
  uint32_t started = 0, ended = 0;
  std::map<pid_t, steady::time_point> live;
  std::vector<double> run_time;
  while (ended < opts.tasks) {
    while (started < opts.tasks && live.size() < opts.slots) {
      const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
      pid_t pid = 0;
      if (posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ) != 0)
        return out;
      live[pid] = steady::now();
      ++started;
    }
    int status = 0;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid <= 0)
      break;
    if (auto it = live.find(pid); it != live.end()) {
      run_time.push_back(std::chrono::duration<double>(steady::now() - it->second).count());
      live.erase(it);
      ++ended;
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        ++out.finished;
    }
  }
  out.wall_s = std::chrono::duration<double>(steady::now() - t0).count();
  out.per_s = out.finished / out.wall_s;
  out.running_p50 = quantile(run_time, 0.5);
  out.running_p99 = quantile(run_time, 0.99);
  rusage after{};
  getrusage(RUSAGE_CHILDREN, &after);
  auto secs = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  out.executors_ms = 1000
                     * (secs(after.ru_utime) - secs(before.ru_utime) + secs(after.ru_stime)
                        - secs(before.ru_stime))
                     / std::max(1.0, out.finished);
  return out;
}

figures medians(const std::vector<figures>& xs) {
  auto pick = [&](double figures::*m) {
    std::vector<double> v;
    for (const auto& x : xs)
      v.push_back(x.*m);
    return median(v);
  };
  figures f;
  for (auto m : {&figures::finished, &figures::wall_s, &figures::per_s, &figures::to_running_p50,
                 &figures::to_running_p99, &figures::running_p50, &figures::running_p99,
                 &figures::master_ms, &figures::agent_ms, &figures::executors_ms})
    f.*m = pick(m);
  return f;
}

void print_row(const std::string& what, const figures& f, double baseline_wall) {
  std::cout << std::left << std::setw(34) << what << std::right << std::fixed
            << std::setprecision(0) << std::setw(6) << f.finished << std::setprecision(1)
            << std::setw(8) << f.wall_s << std::setprecision(0) << std::setw(8) << f.per_s
            << std::setprecision(2) << std::setw(8) << f.to_running_p50 << std::setw(8)
            << f.to_running_p99 << std::setw(8) << f.running_p50 << std::setw(8)
            << f.running_p99 << std::setprecision(1) << std::setw(8) << f.master_ms
            << std::setw(8) << f.agent_ms << std::setw(9) << f.executors_ms
            << std::setprecision(1) << std::setw(7) << f.wall_s / baseline_wall << "x"
            << std::endl;
}

} // namespace

int main(int argc, char** argv) {
  options opts;
  opts.tools = (fs::canonical("/proc/self/exe").parent_path() / ".." / ".." / "tools").string();
  CLI::App app{"real-launch-bench: real tasks through troupe-master, troupe-agent and "
               "troupe-executor, against forking them directly"};
  app.add_option("--tasks", opts.tasks, "tasks per run")->check(CLI::Range(1u, 100000u));
  app.add_option("--runs", opts.runs, "runs per row (medians)")->check(CLI::Range(1u, 50u));
  app.add_option("--slots", opts.slots, "agent cpus (one per task) and baseline concurrency")
    ->check(CLI::Range(1u, 4096u));
  app.add_option("--isolation", opts.isolation, "posix and/or cgroups")
    ->delimiter(',')
    ->check(CLI::IsMember({"posix", "cgroups"}));
  app.add_option("--command", opts.commands, "task command lines (repeatable)");
  app.add_option("--tools", opts.tools, "directory of troupe-master, troupe-agent and "
                                        "troupe-executor");
  app.add_option("--work-dir", opts.work_dir, "agent work dir goes below");
  app.add_flag("--quick", opts.quick, "smoke run: 100 tasks, one run, posix, /bin/true");
  CLI11_PARSE(app, argc, argv);
  if (opts.quick) {
    opts.tasks = 100;
    opts.runs = 1;
    opts.isolation = {"posix"};
    opts.commands = {"/bin/true"};
  }
  if (geteuid() != 0)
    opts.isolation.erase(std::remove(opts.isolation.begin(), opts.isolation.end(), "cgroups"),
                         opts.isolation.end());
  std::cout << opts.tasks << " tasks per run, " << opts.slots << " at a time, medians of "
            << opts.runs << " runs; CPU in ms per task\n"
            << std::left << std::setw(34) << "run" << std::right << std::setw(6) << "done"
            << std::setw(8) << "wall s" << std::setw(8) << "tasks/s" << std::setw(8) << "up p50"
            << std::setw(8) << "up p99" << std::setw(8) << "run p50" << std::setw(8) << "run p99"
            << std::setw(8) << "master" << std::setw(8) << "agent" << std::setw(9) << "execs"
            << std::setw(8) << "vs base" << std::endl;
  for (const auto& command : opts.commands) {
    std::vector<figures> base;
    std::map<std::string, std::vector<figures>> troupe_runs;
    for (uint32_t r = 0; r < opts.runs; ++r) { // interleaved: the machine drifts
      base.push_back(run_baseline(opts, command));
      for (const auto& iso : opts.isolation)
        troupe_runs[iso].push_back(run_cluster(opts, iso, command));
    }
    auto b = medians(base);
    print_row("fork+exec '" + command + "' (baseline)", b, b.wall_s);
    for (const auto& iso : opts.isolation)
      print_row("troupe " + iso + " '" + command + "'", medians(troupe_runs[iso]), b.wall_s);
  }
  return 0;
}
