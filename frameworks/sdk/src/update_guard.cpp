#include "troupe/sdk/update_guard.hpp"

#include "troupe/messages/task_states.hpp"

namespace troupe::sdk {

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
