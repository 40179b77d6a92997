// The task state machine: the only place that decides whether a task may move from one state
// to another (DESIGN.md §3). Master, agent and simulator invariants all ask this table.
//
//   STAGING ─► STARTING ─► RUNNING ─► KILLING ─► FINISHED | FAILED | KILLED
//      │          │           │          │
//      └──────────┴───────────┴──────────┴──► UNREACHABLE ─► (back to what the agent reports)
//   any non-terminal ─► GONE | GONE_BY_OPERATOR;  STAGING ─► ERROR | DROPPED
//
// Rules
// - Terminal states (FINISHED, FAILED, KILLED, ERROR, DROPPED, GONE, GONE_BY_OPERATOR) have no
//   way out; a duplicate terminal update is handled by update uuids, not here.
// - A non-terminal state may repeat (health changes, reconciliation re-reports).
// - UNREACHABLE returns to whatever the agent reports when it comes back, except STAGING and
//   ERROR; a task the returning agent does not know ends DROPPED (it never started).
// - TASK_UNKNOWN is a reconciliation answer, never the state of a record: nothing enters or
//   leaves it. TASK_UNKNOWN_STATE (0) is invalid.
#pragma once

#include "troupe/messages/proto.hpp"

namespace troupe::common {

/// True for states a task never leaves.
bool is_terminal(v1::TaskState state);

/// True when a task record may move from `from` to `to`.
bool is_allowed(v1::TaskState from, v1::TaskState to);

} // namespace troupe::common
