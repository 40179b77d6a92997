// The status updates of one task on an agent: delivered to the master in order, strictly one in
// flight, each retried until acknowledged (Mesos' status update stream, at least once).
//
//   push(u)         an executor reported u: queued; `send` when it became the head
//   acknowledge(id) the framework acknowledged the head: the next one (if any) becomes the head
//   head()          the update in flight (what a retry resends)
//   terminated()    a terminal update was acknowledged: the stream is done
//
// Updates are identified by status.uuid; a duplicate uuid is ignored. An update whose state the
// task may not move to from the previous update's state (task_transitions) is rejected, and so
// is anything after a terminal update.
#pragma once

#include <deque>
#include <optional>
#include <set>
#include <string>

#include "troupe/messages/proto.hpp"

namespace troupe::agent {

class status_update_stream {
public:
  enum class push_result {
    send,      ///< became the head: send it now
    queued,    ///< waits behind the head
    duplicate, ///< this uuid was seen before: dropped
    rejected,  ///< illegal transition or after a terminal update: dropped
  };

  enum class ack_result {
    next,      ///< head acknowledged; a new head is ready to send
    idle,      ///< head acknowledged; nothing queued
    mismatch,  ///< not the head's uuid (stale or duplicate acknowledgement): ignored
  };

  /// Adds an update reported for this task.
  push_result push(const v1::StatusUpdate& update);

  /// Handles an acknowledgement of `uuid`.
  ack_result acknowledge(const std::string& uuid);

  /// The update in flight, or nullptr.
  const v1::StatusUpdate* head() const {
    return pending_.empty() ? nullptr : &pending_.front();
  }

  /// Updates not yet acknowledged (head included).
  size_t pending() const {
    return pending_.size();
  }

  /// True once a terminal update was acknowledged.
  bool terminated() const {
    return terminated_;
  }

  /// The state of the newest accepted update (TASK_STAGING before any).
  v1::TaskState latest_state() const {
    return latest_;
  }

private:
  std::deque<v1::StatusUpdate> pending_;
  std::set<std::string> seen_;
  v1::TaskState latest_ = v1::TASK_STAGING;
  bool terminal_seen_ = false;
  bool terminated_ = false;
};

} // namespace troupe::agent
