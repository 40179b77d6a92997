// The CAF configuration every troupe process and every test starts from: all message types,
// the troupe error category and the middleman, with CAF settings applied from node_options.
#pragma once

#include <caf/actor_system_config.hpp>

#include "troupe/runtime/options.hpp"

namespace troupe::runtime {

class node_config : public caf::actor_system_config {
public:
  /// Registers types and the error category and loads the middleman.
  node_config();

  /// Same, then applies `opts` (threads, heartbeats).
  explicit node_config(const node_options& opts);
};

/// A config for CAF's deterministic test scheduler (single thread, virtual time, no
/// middleman): what tests/support and the simulator build on.
class deterministic_config : public caf::actor_system_config {
public:
  deterministic_config();
};

} // namespace troupe::runtime
