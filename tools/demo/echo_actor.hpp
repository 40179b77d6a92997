// The echo actor served by `troupe-demo serve` (protocol: troupe/protocols/echo.hpp).
#pragma once

#include <memory>

#include <caf/fwd.hpp>

#include "troupe/protocols/echo.hpp"

namespace spdlog {
class logger;
} // namespace spdlog

namespace troupe::demo {

/// Counters of one echo actor.
struct echo_state {
  uint64_t one_way = 0;
  uint64_t undecodable = 0;
  std::shared_ptr<spdlog::logger> log;
  static inline const char* name = "troupe.echo";
};

protocols::echo_actor spawn_echo(caf::actor_system& sys, std::shared_ptr<spdlog::logger> log);

} // namespace troupe::demo
