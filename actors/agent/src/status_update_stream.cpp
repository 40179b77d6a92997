#include "troupe/agent/status_update_stream.hpp"

#include "troupe/actors/common/task_transitions.hpp"

namespace troupe::agent {

status_update_stream::push_result status_update_stream::push(const v1::StatusUpdate& update) {
  const auto& uuid = update.status().uuid();
  if (seen_.count(uuid) > 0)
    return push_result::duplicate;
  auto state = update.status().state();
  if (terminal_seen_ || !common::is_allowed(latest_, state))
    return push_result::rejected;
  seen_.insert(uuid);
  latest_ = state;
  terminal_seen_ = common::is_terminal(state);
  pending_.push_back(update);
  return pending_.size() == 1 ? push_result::send : push_result::queued;
}

status_update_stream::ack_result status_update_stream::acknowledge(const std::string& uuid) {
  if (pending_.empty() || pending_.front().status().uuid() != uuid)
    return ack_result::mismatch;
  if (common::is_terminal(pending_.front().status().state()))
    terminated_ = true;
  pending_.pop_front();
  return pending_.empty() ? ack_result::idle : ack_result::next;
}

} // namespace troupe::agent
