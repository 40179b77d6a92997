// Node options: the flags (and config-file keys) every troupe process shares, parsed with CLI11,
// and how they become CAF settings. Role-specific flags (master, agent) extend the same CLI::App.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

namespace CLI {
class App;
} // namespace CLI

namespace troupe::runtime {

/// Options common to every node.
struct node_options {
  std::string node_name = "node";        ///< logger name and seed stream prefix
  uint64_t cluster_seed = 0;             ///< 0 = choose one at start (and log it)
  std::string log_level = "info";        ///< trace|debug|info|warn|error|critical|off
  std::string log_file;                  ///< empty = stderr
  size_t scheduler_threads = 2;          ///< CAF worker threads (explicit on shared hosts)
  caf::timespan heartbeat_interval = std::chrono::seconds{1};  ///< middleman heartbeats
  caf::timespan connection_timeout = std::chrono::seconds{10}; ///< middleman peer timeout
};

/// Adds the common flags to `app` (also readable from the file given by --config, INI or TOML:
/// `log-level = "debug"`).
void add_node_options(CLI::App& app, node_options& opts);

/// Parses argv into `app`'s options. A bad flag or config file gives errc::config_error with
/// CLI11's text; --help gives errc::none-valued `help_requested` = true and the help text.
struct parse_outcome {
  bool help_requested = false;
  std::string help_text;
};
caf::error parse_flags(CLI::App& app, const std::vector<std::string>& args,
                       parse_outcome* outcome = nullptr);

/// Checks value ranges CLI11 cannot express (log level names, positive timeouts, heartbeat
/// timeout >= 10 × interval so bursts do not drop healthy links).
caf::error validate(const node_options& opts);

/// Applies the options to a CAF config (scheduler threads, middleman heartbeats). Call before
/// constructing the actor system.
void apply(const node_options& opts, caf::actor_system_config& cfg);

} // namespace troupe::runtime
