// Validation of an accept, as a pure function: which tasks of the operations may launch on the
// accepted resources, which fail (with the TASK_ERROR reason and a message naming the problem),
// and what is left over. Nothing moves until this plan is made.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "troupe/messages/proto.hpp"
#include "troupe/messages/resources.hpp"

namespace troupe::master {

struct rejected_task {
  v1::TaskInfo task;
  v1::TaskStatus::Reason reason = v1::TaskStatus::REASON_TASK_INVALID;
  std::string message;
};

/// A LAUNCH_GROUP that passed: all its tasks go to one executor on the agent.
struct group_launch {
  v1::ExecutorInfo executor;
  std::vector<v1::TaskInfo> tasks;
};

/// A RESERVE or UNRESERVE that passed: `from` (offered) becomes `to` (same amounts).
struct reservation_step {
  resources from;
  resources to;
};

/// Who accepts: reservations are made for the offer's role, by the framework's principal.
struct accept_context {
  std::string role;      ///< the offers' allocation role
  std::string principal; ///< the framework's principal ("" when it has none)
};

struct launch_plan {
  std::vector<v1::TaskInfo> tasks;       ///< LAUNCH tasks to run, agent_id set, in order
  std::vector<group_launch> groups;      ///< LAUNCH_GROUP groups to run
  std::vector<rejected_task> rejected;   ///< tasks that get TASK_ERROR
  std::vector<std::string> errors;       ///< operations refused as a whole (for Event.error)
  std::vector<reservation_step> reservations; ///< RESERVE/UNRESERVE steps, in order
  resources unused;                      ///< offered resources no launch consumed
};

/// Plans `ops` against `offered` on `agent`. `task_known(id)` says whether the framework already
/// has a task of that ID (launched earlier); IDs repeated within the accept are caught too.
/// A task fails alone; a group fails as a whole. Operations apply in order: a RESERVE turns
/// offered resources into dynamically reserved ones that later launches of the same accept may
/// use; UNRESERVE the reverse. A reservation must be DYNAMIC, for `ctx.role`, by
/// `ctx.principal`, on resources still unused (a stacked one refining the reservation of an
/// ancestor role); otherwise the operation is refused whole (an Event.error) and changes
/// nothing.
launch_plan plan_launches(const v1::AgentID& agent, resources offered,
                          const google::protobuf::RepeatedPtrField<v1::Offer::Operation>& ops,
                          const std::function<bool(const v1::TaskID&)>& task_known,
                          const resource_schema& schema = {}, const accept_context& ctx = {});

} // namespace troupe::master
