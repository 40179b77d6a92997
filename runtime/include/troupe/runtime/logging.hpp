// Logging through spdlog: one named logger per node ("master-1", "agent-3"), so one process can
// host several simulated nodes and each line says which node wrote it.
#pragma once

#include <memory>
#include <string>

#include <caf/expected.hpp>

namespace spdlog {
class logger;
} // namespace spdlog

namespace troupe::runtime {

struct node_options;

/// Creates (or replaces) the logger of `node` at `level`, writing to stderr or to `file`.
/// Errors: errc::config_error for an unknown level or a file that cannot be opened.
caf::expected<std::shared_ptr<spdlog::logger>>
make_node_logger(const std::string& node, const std::string& level, const std::string& file = {});

/// make_node_logger from the common node options.
caf::expected<std::shared_ptr<spdlog::logger>> make_node_logger(const node_options& opts);

/// The logger of `node`, or a stderr logger created on first use.
std::shared_ptr<spdlog::logger> node_logger(const std::string& node);

} // namespace troupe::runtime
