#include "troupe/tools/master_process.hpp"

#include <iostream>

#include <CLI/CLI.hpp>
#include <caf/send.hpp>

#include "troupe/messages/errc.hpp"
#include "troupe/runtime/errors.hpp"
#include "troupe/runtime/logging.hpp"
#include "troupe/runtime/options.hpp"
#include "troupe/tools/http_routes.hpp"

namespace troupe::tools {

master_process::master_process() : view_(&metrics_) {
  add_master_routes(http_, view_, metrics_);
}

master_process::~master_process() {
  http_.stop();
  view_.stop();
  if (master_)
    caf::anon_send_exit(master_, caf::exit_reason::user_shutdown);
}

caf::error master_process::start(caf::actor_system& sys, runtime::transport& tp,
                                 const master_flags& flags, master::master_config cfg) {
  auto http_port = http_.start(flags.hostname, flags.http_port);
  if (!http_port)
    return make_error(errc::unavailable, "cannot serve HTTP on " + flags.hostname + ":"
                                           + std::to_string(flags.http_port) + ": "
                                           + runtime::render(http_port.error()));
  cfg.info.set_http_port(*http_port);
  master_ = master::spawn_master(sys, cfg);
  auto port = tp.publish(caf::actor_cast<caf::actor>(master_), {flags.hostname, flags.port});
  if (!port) {
    caf::anon_send_exit(master_, caf::exit_reason::user_shutdown);
    master_ = nullptr;
    http_.stop();
    return make_error(errc::unavailable, "cannot publish the master on " + flags.hostname + ":"
                                           + std::to_string(flags.port) + ": "
                                           + runtime::render(port.error()));
  }
  info_ = cfg.info;
  info_.set_actor_port(*port); // advertise the bound port, not 0
  view_.start(sys, master_, info_);
  write_port_file(flags.port_file, *port);
  write_port_file(flags.http_port_file, *http_port);
  return {};
}

std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv,
                                      runtime::node_options& node) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (auto err = runtime::validate(node)) {
    std::cerr << runtime::render(err) << '\n';
    return 2;
  }
  if (auto log = runtime::make_node_logger(node); !log) {
    std::cerr << runtime::render(log.error()) << '\n';
    return 2;
  }
  return std::nullopt;
}

} // namespace troupe::tools
