#include "troupe/sdk/update_guard.hpp"

namespace troupe::sdk {

// The same ends as the master's task records (actors/common task_transitions; the SDK does not
// link actors/). TASK_LOST and TASK_UNREACHABLE are not ends: a task can come back from them.
bool is_terminal_state(v1::TaskState state) {
  switch (state) {
    case v1::TASK_FINISHED:
    case v1::TASK_FAILED:
    case v1::TASK_KILLED:
    case v1::TASK_ERROR:
    case v1::TASK_DROPPED:
    case v1::TASK_GONE:
    case v1::TASK_GONE_BY_OPERATOR:
      return true;
    default:
      return false;
  }
}

bool update_guard::admit(const v1::TaskStatus& status) {
  const auto& task = status.task_id().value();
  auto it = ended_.find(task);
  if (it != ended_.end())
    return status.uuid().empty() || status.state() == it->second;
  if (is_terminal_state(status.state())) {
    ended_.emplace(task, status.state());
    order_.push_back(task);
    if (order_.size() > capacity_) {
      ended_.erase(order_.front());
      order_.pop_front();
    }
  }
  return true;
}

} // namespace troupe::sdk
