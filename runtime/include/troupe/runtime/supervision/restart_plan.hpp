// The supervisor's decisions as a plain class, unit-testable without an actor system: given
// which child exited, how, and when, what to do.
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <vector>

#include <caf/actor_clock.hpp>

#include "troupe/runtime/supervision/supervisor.hpp"

namespace troupe::runtime {

class restart_plan {
public:
  using time_point = caf::actor_clock::time_point;

  enum class action {
    none,     ///< nothing to do (normal exit)
    restart,  ///< restart `children` after `delay`
    escalate, ///< give up: the supervisor must exit
  };

  struct decision {
    action what = action::none;
    std::vector<size_t> children; ///< indices to restart (in start order)
    caf::timespan delay{0};
    std::string why;              ///< for escalate: a human-readable reason
  };

  restart_plan(supervisor_config cfg, std::vector<std::string> names);

  /// Child `index` exited; `abnormal` tells whether its reason was an error.
  decision on_exit(size_t index, bool abnormal, time_point now);

  /// Restarts performed so far.
  size_t restarts() const {
    return total_restarts_;
  }

private:
  void prune(time_point now);

  supervisor_config cfg_;
  std::vector<std::string> names_;
  std::vector<std::deque<time_point>> per_child_;
  std::deque<time_point> all_;
  size_t total_restarts_ = 0;
};

} // namespace troupe::runtime
