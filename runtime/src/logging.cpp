#include "troupe/runtime/logging.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "troupe/messages/errc.hpp"
#include "troupe/runtime/options.hpp"

namespace troupe::runtime {

namespace {

// Time with milliseconds, level, node name: enough to merge logs of several nodes by time.
constexpr const char* pattern = "%Y-%m-%d %H:%M:%S.%e %^%-5l%$ [%n] %v";

} // namespace

caf::expected<std::shared_ptr<spdlog::logger>>
make_node_logger(const std::string& node, const std::string& level, const std::string& file) {
  auto lvl = spdlog::level::from_str(level);
  // from_str maps unknown names to "off": accept "off" only when asked for.
  if (lvl == spdlog::level::off && level != "off")
    return make_error(errc::config_error, "unknown log level '" + level + "'");
  std::shared_ptr<spdlog::logger> logger;
  try {
    spdlog::drop(node);
    if (file.empty())
      logger = spdlog::stderr_color_mt(node);
    else
      logger = spdlog::basic_logger_mt(node, file);
  } catch (const spdlog::spdlog_ex& e) {
    return make_error(errc::config_error, "cannot create logger for " + node + ": " + e.what());
  }
  logger->set_pattern(pattern);
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::warn);
  return logger;
}

caf::expected<std::shared_ptr<spdlog::logger>> make_node_logger(const node_options& opts) {
  return make_node_logger(opts.node_name, opts.log_level, opts.log_file);
}

std::shared_ptr<spdlog::logger> node_logger(const std::string& node) {
  if (auto existing = spdlog::get(node))
    return existing;
  auto created = make_node_logger(node, "info");
  if (!created)
    return spdlog::default_logger();
  (*created)->set_level(spdlog::get_level()); // the process-wide level (info unless set)
  return *created;
}

} // namespace troupe::runtime
