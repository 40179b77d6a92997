#include "troupe/runtime/options.hpp"

#include <algorithm>
#include <array>
#include <sstream>

#include <CLI/CLI.hpp>
#include <caf/actor_system_config.hpp>

#include "troupe/messages/errc.hpp"

namespace troupe::runtime {

// CLI11 2.1 has no std::chrono support: durations are flags in milliseconds.
void add_node_options(CLI::App& app, node_options& opts) {
  app.set_config("--config", "", "read options from this INI/TOML file");
  app.add_option("--node-name", opts.node_name, "node name used in logs and seed streams")
    ->capture_default_str();
  app.add_option("--seed", opts.cluster_seed, "cluster seed (0 = choose one and log it)")
    ->capture_default_str();
  app.add_option("--log-level", opts.log_level, "trace|debug|info|warn|error|critical|off")
    ->capture_default_str();
  app.add_option("--log-file", opts.log_file, "log to this file instead of stderr");
  app.add_option("--threads", opts.scheduler_threads, "CAF scheduler worker threads")
    ->check(CLI::Range(size_t{1}, size_t{256}))
    ->capture_default_str();
  app.add_option_function<int64_t>(
       "--heartbeat-ms",
       [&opts](int64_t ms) { opts.heartbeat_interval = std::chrono::milliseconds{ms}; },
       "middleman heartbeat interval in milliseconds (same on every node)")
    ->check(CLI::Range(int64_t{1}, int64_t{3'600'000}));
  app.add_option_function<int64_t>(
       "--connection-timeout-ms",
       [&opts](int64_t ms) { opts.connection_timeout = std::chrono::milliseconds{ms}; },
       "drop a peer after this many milliseconds without traffic")
    ->check(CLI::Range(int64_t{1}, int64_t{3'600'000}));
}

caf::error parse_flags(CLI::App& app, const std::vector<std::string>& args,
                       parse_outcome* outcome) {
  // CLI11 parses a reversed vector (its documented convention for vector input).
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    if (outcome) {
      outcome->help_requested = true;
      outcome->help_text = app.help();
    }
  } catch (const CLI::ParseError& e) {
    return make_error(errc::config_error, e.what());
  }
  return caf::none;
}

caf::error validate(const node_options& opts) {
  static constexpr std::array<const char*, 7> levels = {"trace", "debug", "info", "warn",
                                                        "error", "critical", "off"};
  if (std::find(levels.begin(), levels.end(), opts.log_level) == levels.end())
    return make_error(errc::config_error, "--log-level: unknown level '" + opts.log_level
                                            + "' (trace|debug|info|warn|error|critical|off)");
  if (opts.node_name.empty())
    return make_error(errc::config_error, "--node-name: must not be empty");
  if (opts.connection_timeout < 10 * opts.heartbeat_interval)
    return make_error(errc::config_error,
                      "--connection-timeout-ms must be at least 10 x --heartbeat-ms "
                      "(shorter timeouts drop healthy connections under load)");
  return caf::none;
}

void apply(const node_options& opts, caf::actor_system_config& cfg) {
  cfg.set("scheduler.max-threads", opts.scheduler_threads);
  cfg.set("middleman.heartbeat-interval", opts.heartbeat_interval);
  cfg.set("middleman.connection-timeout", opts.connection_timeout);
  // After a job, an idle CAF worker polls its queue 500 times 50 us apart (25 ms) before it
  // waits on a condition variable that every enqueue notifies; with timers and pollers firing
  // several times a second that kept an idle node at about 5 % of a core. 20 polls (1 ms),
  // then the wait: no message waits longer for it.
  cfg.set("work-stealing.moderate-poll-attempts", size_t{20});
}

} // namespace troupe::runtime
