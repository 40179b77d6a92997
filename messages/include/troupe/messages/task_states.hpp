// Which task states end a task: shared by the master, the agent and the SDK (frameworks may
// not link actors/). TASK_UNREACHABLE is no end (a task comes back from it), nor is
// TASK_UNKNOWN (the master's answer about a task it does not know).
#pragma once

#include "troupe/messages/proto.hpp"

namespace troupe {

/// FINISHED, FAILED, KILLED, ERROR, DROPPED, GONE, GONE_BY_OPERATOR.
bool is_terminal_state(v1::TaskState state);

} // namespace troupe
