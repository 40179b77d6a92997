// The one master address users give the CLI (`--master HOST:PORT`): normally the master's HTTP
// API (default 127.0.0.1:5050), from which the CLI learns where the master's actors are; for
// scripts written before the HTTP edge, the actor endpoint itself still works.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <caf/expected.hpp>
#include <caf/timespan.hpp>

#include "troupe/messages/proto.hpp"
#include "troupe/runtime/transport.hpp"

namespace troupe::tools {

/// Where a master is reachable.
struct master_address {
  runtime::endpoint actors;              ///< where its actors are published (connect here)
  std::optional<runtime::endpoint> http; ///< its HTTP API, when the given address was one
  std::optional<v1::MasterInfo> info;    ///< what /api/v1/master said, when asked over HTTP
};

/// Resolves "zk://hosts/path" by asking ZooKeeper who leads (up to `timeout`), or "host:port": GETs http://host:port/api/v1/master (bounded by `timeout`) and, when
/// it answers, connects to the actor port it names (on its advertised hostname; on `host` when
/// it advertises none or a wildcard). When no HTTP answer comes (refused, timed out, not HTTP —
/// e.g. a CAF actor port), host:port itself is taken as the actor endpoint. Errors:
/// errc::invalid_argument for a malformed address, errc::unavailable when an HTTP server
/// answers but not as a troupe master (the message quotes the status or the parse error).
caf::expected<master_address> resolve_master(const std::string& text,
                                             caf::timespan timeout = std::chrono::seconds{3});

/// resolve_master, waiting: while the master cannot be reached (refused, no answer) or answers
/// 503 (it is starting; its Retry-After is honoured), tries again until `wait` has passed
/// (0 = one try). On a terminal, one progress line ("waiting for the master at ...") is kept
/// up to date on stderr and erased when done. Errors are sentences for people: errc::
/// invalid_argument for a malformed address, errc::unavailable when the master could not be
/// reached or was not ready in time (naming the address, the last reason, and the flag).
caf::expected<master_address> wait_for_master(const std::string& text, caf::timespan wait);

/// The CLI's exit codes (`troupe --help` and the README list them).
namespace exit_code {
inline constexpr int ok = 0;          ///< done
inline constexpr int failed = 1;      ///< the work failed (e.g. a task failed without a status)
inline constexpr int usage = 2;       ///< usage or bad input
inline constexpr int unreachable = 3; ///< cannot reach, or was refused by, the cluster
inline constexpr int deadline = 124;  ///< a --timeout passed
} // namespace exit_code

/// The exit code for an error: usage for bad input (invalid_argument, invalid_resources,
/// config_error), unreachable for unavailable, timeout, not_leader and io_error, else failed.
int exit_code_for(const caf::error& err);

/// GETs /api/v1/state from a master's HTTP API and parses it. errc::unavailable when there is
/// no 200 answer, errc::invalid_message when the body is not a v1::MasterState.
caf::expected<v1::MasterState> fetch_master_state(const runtime::endpoint& http,
                                                  caf::timespan timeout
                                                  = std::chrono::seconds{3});

} // namespace troupe::tools
