// `troupe run`: one command as one task, like mesos-execute. Prints each status update as it
// arrives and exits with the command's exit status (1 when the task ended without one).
#include <unistd.h>

#include <iostream>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "troupe/runtime/seconds.hpp"
#include "commands.hpp"
#include "troupe/examples/batch_framework.hpp"
#include "troupe/messages/builders.hpp"
#include "troupe/messages/resources.hpp"
#include "troupe/runtime/errors.hpp"
#include "troupe/runtime/logging.hpp"
#include "troupe/runtime/node_config.hpp"
#include "troupe/runtime/election/election.hpp"
#include "troupe/runtime/transport.hpp"
#include "troupe/tools/leadership.hpp"
#include "troupe/sdk/scheduler_driver.hpp"
#include "troupe/tools/master_address.hpp"

namespace troupe::cli {

namespace {

struct batch_outcome {
  uint32_t finished = 0;
  uint32_t gave_up = 0;
  int32_t last_exit = -1;
  bool timed_out = false;
  int error_exit = 0; ///< non-zero: the run failed before its work (usage or unreachable)
};

// Runs the example batch framework against the master at `master` (its HTTP API or its actor
// endpoint, see tools::resolve_master) from this process, printing every status update as it
// arrives.
batch_outcome drive_batch(const runtime::node_options& node, const std::string& master,
                          const std::string& name, examples::batch_config bcfg, double timeout_s,
                          double failover_timeout_s, const std::string& role, double wait_s) {
  batch_outcome out;
  if (!role.empty())
    if (auto err = validate_role(role)) {
      std::cerr << "troupe: --role " << role << ": " << runtime::say(err) << '\n';
      out.error_exit = tools::exit_code::usage;
      return out;
    }
  auto at = tools::wait_for_master(master, runtime::from_seconds(wait_s));
  if (!at) {
    std::cerr << "troupe: " << runtime::say(at.error()) << '\n';
    out.error_exit = tools::exit_code_for(at.error());
    return out;
  }
  runtime::make_node_logger(node);
  runtime::node_config sys_cfg{node};
  caf::actor_system sys{sys_cfg};
  auto tp = runtime::make_middleman_transport(sys);
  caf::scoped_actor self{sys};
  sdk::scheduler_driver_config dcfg;
  dcfg.framework.set_name(name);
  dcfg.framework.set_user(tools::current_user());
  dcfg.framework.set_failover_timeout(failover_timeout_s);
  if (!role.empty())
    dcfg.framework.add_roles(role);
  dcfg.master.remote = at->actors;
  dcfg.master.connector = tp->connector();
  // With zk://, follow the leader across failovers instead of sticking to the first one.
  auto zk = runtime::election::parse_zk_url(master);
  dcfg.master.follow_leader = static_cast<bool>(zk);
  auto observer = caf::actor_cast<examples::batch_observer_actor>(self);
  auto driver = sdk::spawn_scheduler_driver(sys, dcfg, [&sys, bcfg, observer](auto d) {
    return examples::spawn_batch_framework(sys, d, bcfg, observer);
  });
  runtime::election::detector_actor detector;
  if (zk)
    detector = tools::follow_master(sys, *tp, *zk, caf::actor_cast<caf::actor>(driver));
  bool done = false;
  bool subscribed = false;
  // Deadlines, not idle timeouts: every status update would restart an idle timer. Until the
  // master answers the subscription, --wait bounds the run too: no command hangs on a master
  // that accepts connections but never answers.
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + (timeout_s > 0 ? runtime::from_seconds(timeout_s)
                                         : caf::timespan{std::chrono::hours{24 * 365}});
  auto subscribe_deadline = start + runtime::from_seconds(std::max(wait_s, 1.0));
  while (!done) {
    auto until = subscribed ? deadline : std::min(deadline, subscribe_deadline);
    auto timeout = std::max(caf::timespan{0}, std::chrono::duration_cast<caf::timespan>(
                                                until - std::chrono::steady_clock::now()));
    self->receive(
      [&](examples::batch_subscribed_atom, const v1::FrameworkID&) { subscribed = true; },
      [&](const v1::TaskStatus& s) {
        std::cout << s.task_id().value() << ": " << v1::TaskState_Name(s.state());
        if (!s.agent_id().value().empty())
          std::cout << " on " << s.agent_id().value();
        if (!s.message().empty())
          std::cout << " - " << s.message();
        if (s.reason() != v1::TaskStatus::REASON_UNKNOWN)
          std::cout << " [" << v1::TaskStatus::Reason_Name(s.reason()) << "]";
        std::cout << std::endl;
      },
      [&](const v1::scheduler::Error& err) {
        std::cerr << "troupe: the master removed the framework: " << err.message() << '\n';
        subscribed = true; // it answered
      },
      [&](examples::batch_done_atom, uint32_t ok, uint32_t failed, int32_t exit_status) {
        done = true;
        out.finished = ok;
        out.gave_up = failed;
        out.last_exit = exit_status;
      },
      caf::after(timeout) >> [&] {
        done = true;
        if (!subscribed && std::chrono::steady_clock::now() < deadline) {
          std::cerr << "troupe: the master at " << master << " did not answer the subscription "
                    << "within " << std::max(wait_s, 1.0) << " s (its actors at "
                    << at->actors.host << ":" << at->actors.port
                    << " may be unreachable from here; --wait SECONDS)\n";
          out.error_exit = tools::exit_code::unreachable;
          return;
        }
        std::cerr << "troupe: no result within " << timeout_s << " s (--timeout)\n";
        out.timed_out = true;
      });
  }
  if (detector)
    caf::anon_send_exit(detector, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(driver, caf::exit_reason::user_shutdown);
  self->wait_for(driver);
  return out;
}

// The task's resources; a wrong value is told in a sentence (and the caller exits with 2).
std::optional<resources> task_resources(double cpus, double mem) {
  if (!(cpus > 0)) {
    std::cerr << "troupe: --cpus " << cpus << ": must be a positive number, e.g. --cpus 0.5\n";
    return std::nullopt;
  }
  if (!(mem > 0)) {
    std::cerr << "troupe: --mem " << mem << ": must be a positive number of MB, e.g. --mem 64\n";
    return std::nullopt;
  }
  auto res = resources::parse("cpus:" + std::to_string(cpus) + ";mem:" + std::to_string(mem));
  if (!res) {
    std::cerr << "troupe: --cpus/--mem: " << runtime::say(res.error()) << '\n';
    return std::nullopt;
  }
  return *res;
}

} // namespace

int run_task(const runtime::node_options& node, const run_options& opts) {
  auto res = task_resources(opts.cpus, opts.mem);
  if (!res)
    return tools::exit_code::usage;
  examples::batch_config bcfg;
  bcfg.name = opts.name;
  bcfg.copies = 1;
  bcfg.max_attempts = 1;
  bcfg.lost_attempts_are_free = false; // never start a command twice
  bcfg.command = make_exec_command(opts.command.front(), opts.command);
  bcfg.per_task = *res;
  auto out = drive_batch(node, opts.master, opts.name, bcfg, opts.timeout, opts.failover_timeout,
                         opts.role, opts.wait);
  if (out.error_exit != 0)
    return out.error_exit;
  if (out.timed_out)
    return tools::exit_code::deadline;
  return out.last_exit >= 0 ? out.last_exit : (out.finished == 1 ? 0 : 1);
}

int run_example(const runtime::node_options& node, const example_options& opts) {
  auto res = task_resources(opts.cpus, opts.mem);
  if (!res)
    return tools::exit_code::usage;
  examples::batch_config bcfg;
  bcfg.name = opts.name;
  bcfg.copies = opts.tasks;
  bcfg.max_attempts = opts.attempts;
  bcfg.command = make_shell_command(opts.command);
  bcfg.per_task = *res;
  auto out = drive_batch(node, opts.master, "example-" + opts.name, bcfg, opts.timeout,
                         opts.failover_timeout, opts.role, opts.wait);
  if (out.error_exit != 0)
    return out.error_exit;
  std::cout << "example: " << out.finished << " finished, " << out.gave_up << " gave up"
            << std::endl;
  return out.timed_out ? tools::exit_code::deadline
                       : (out.gave_up == 0 ? tools::exit_code::ok : tools::exit_code::failed);
}

} // namespace troupe::cli
