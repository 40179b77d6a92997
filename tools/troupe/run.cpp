// `troupe run`: one command as one task, like mesos-execute. Prints each status update as it
// arrives and exits with the command's exit status (1 when the task ended without one).
#include <unistd.h>

#include <iostream>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "commands.hpp"
#include "troupe/examples/batch_framework.hpp"
#include "troupe/messages/builders.hpp"
#include "troupe/runtime/errors.hpp"
#include "troupe/runtime/logging.hpp"
#include "troupe/runtime/node_config.hpp"
#include "troupe/runtime/transport.hpp"
#include "troupe/sdk/scheduler_driver.hpp"

namespace troupe::cli {

int run_task(const runtime::node_options& node, const run_options& opts) {
  auto at = runtime::parse_endpoint(opts.master);
  if (!at) {
    std::cerr << "--master: " << runtime::render(at.error()) << '\n';
    return 2;
  }
  auto res = resources::parse("cpus:" + std::to_string(opts.cpus) + ";mem:"
                              + std::to_string(opts.mem));
  if (!res) {
    std::cerr << "--cpus/--mem: " << runtime::render(res.error()) << '\n';
    return 2;
  }
  runtime::make_node_logger(node);
  runtime::node_config sys_cfg{node};
  caf::actor_system sys{sys_cfg};
  auto tp = runtime::make_middleman_transport(sys);
  caf::scoped_actor self{sys};
  sdk::scheduler_driver_config dcfg;
  dcfg.framework.set_name(opts.name);
  dcfg.framework.set_user(getenv("USER") != nullptr ? getenv("USER") : "root");
  dcfg.master.remote = *at;
  dcfg.master.connector = tp->connector();
  examples::batch_config bcfg;
  bcfg.name = opts.name;
  bcfg.copies = 1;
  bcfg.max_attempts = 1;
  bcfg.command = make_exec_command(opts.command.front(), opts.command);
  bcfg.per_task = *res;
  auto observer = caf::actor_cast<examples::batch_observer_actor>(self);
  auto driver = sdk::spawn_scheduler_driver(sys, dcfg, [&sys, bcfg, observer](auto d) {
    return examples::spawn_batch_framework(sys, d, bcfg, observer);
  });
  int code = -1;
  bool done = false;
  auto timeout = opts.timeout > 0 ? std::chrono::duration_cast<caf::timespan>(
                                      std::chrono::duration<double>(opts.timeout))
                                  : caf::timespan{std::chrono::hours{24 * 365}};
  while (!done)
    self->receive(
      [&](const v1::TaskStatus& s) {
        std::cout << s.task_id().value() << ": " << v1::TaskState_Name(s.state())
                  << (s.message().empty() ? "" : " - " + s.message()) << std::endl;
      },
      [&](examples::batch_done_atom, uint32_t ok, uint32_t, int32_t exit_status) {
        done = true;
        code = exit_status >= 0 ? exit_status : (ok == 1 ? 0 : 1);
      },
      caf::after(timeout) >> [&] {
        std::cerr << "troupe run: no result within " << opts.timeout << " s\n";
        done = true;
        code = 124;
      });
  self->wait_for(driver);
  return code;
}

} // namespace troupe::cli
