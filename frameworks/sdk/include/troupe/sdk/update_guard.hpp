#pragma once
// The scheduler driver's promise to its framework: once a task's terminal state has been handed
// on, the agent's status stream brings nothing else for that task. A stream update (one with a
// UUID) that would follow it - a late duplicate, a retry routed through a deposed master, an
// update that overtook another on a lossy network - is acknowledged but not handed on. The
// master's own answers (no UUID: reconciliation, what it learnt from a reregistering agent) are
// always handed on, so a reconciliation is always answered. Tasks are known by ID: a framework
// that reuses the ID of an ended task (Mesos discourages it) gets none of the new task's stream
// updates while the old end is remembered (the last `capacity` ends).
#include <cstddef>
#include <deque>
#include <string>
#include <unordered_map>

#include "troupe/messages/proto.hpp"

namespace troupe::sdk {

class update_guard {
public:
  /// Remembers at most `capacity` ended tasks (the oldest are forgotten first).
  explicit update_guard(size_t capacity = 100000) : capacity_(capacity) {}

  /// Whether the framework should see `status`; records terminal states it lets through.
  bool admit(const v1::TaskStatus& status);

  size_t remembered() const { return ended_.size(); }

private:
  size_t capacity_;
  std::unordered_map<std::string, v1::TaskState> ended_; ///< task ID -> its terminal state
  std::deque<std::string> order_;                        ///< insertion order, for the bound
};

} // namespace troupe::sdk
