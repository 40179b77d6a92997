#include "troupe/actors/common/task_transitions.hpp"

#include "troupe/messages/task_states.hpp"

namespace troupe::common {

bool is_terminal(v1::TaskState state) {
  return is_terminal_state(state);
}

namespace {

// States a record can be in (everything but the two reconciliation/invalid values).
bool is_record_state(v1::TaskState s) {
  return v1::TaskState_IsValid(s) && s != v1::TASK_UNKNOWN_STATE && s != v1::TASK_UNKNOWN;
}

// Ends every live task can reach, whatever it was doing.
bool is_common_end(v1::TaskState to) {
  return to == v1::TASK_FINISHED || to == v1::TASK_FAILED || to == v1::TASK_KILLED
         || to == v1::TASK_UNREACHABLE || to == v1::TASK_GONE || to == v1::TASK_GONE_BY_OPERATOR;
}

} // namespace

bool is_allowed(v1::TaskState from, v1::TaskState to) {
  if (!is_record_state(from) || !is_record_state(to) || is_terminal(from))
    return false;
  if (from == to)
    return true;
  switch (from) {
    case v1::TASK_STAGING:
      return is_common_end(to) || to == v1::TASK_STARTING || to == v1::TASK_RUNNING
             || to == v1::TASK_KILLING || to == v1::TASK_ERROR || to == v1::TASK_DROPPED;
    case v1::TASK_STARTING:
      return is_common_end(to) || to == v1::TASK_RUNNING || to == v1::TASK_KILLING;
    case v1::TASK_RUNNING:
      return is_common_end(to) || to == v1::TASK_KILLING;
    case v1::TASK_KILLING:
      return is_common_end(to);
    case v1::TASK_UNREACHABLE:
      return is_common_end(to) || to == v1::TASK_STARTING || to == v1::TASK_RUNNING
             || to == v1::TASK_KILLING || to == v1::TASK_DROPPED;
    default:
      return false;
  }
}

} // namespace troupe::common
