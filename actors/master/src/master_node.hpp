// Private to the master: the records the master keeps and the class whose methods the master's
// behavior routes to. Handlers are split by concern over master_agents.cpp,
// master_frameworks.cpp, master_offers.cpp and master_tasks.cpp.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <set>
#include <string>
#include <utility>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "troupe/master/agent_registry.hpp"
#include "troupe/master/launch_plan.hpp"
#include "troupe/master/master_actor.hpp"
#include "troupe/protocols/agent.hpp"
#include "troupe/protocols/scheduler.hpp"

namespace spdlog {
class logger;
} // namespace spdlog

namespace troupe::master {

/// Private timer messages.
using ping_tick_atom = caf::atom_constant<caf::atom("pingtick")>;
using heartbeat_tick_atom = caf::atom_constant<caf::atom("hbtick")>;
using failover_expired_atom = caf::atom_constant<caf::atom("fwexpire")>;
using reregister_timeout_atom = caf::atom_constant<caf::atom("reregto")>;

using master_impl = master_node_actor::extend<
  caf::reacts_to<ping_tick_atom>, caf::reacts_to<heartbeat_tick_atom>,
  caf::reacts_to<failover_expired_atom, v1::FrameworkID, uint64_t>,
  caf::reacts_to<reregister_timeout_atom>>;

/// One task as the master knows it: observed state (task.state, the latest statuses) and the
/// desired one (kill_requested), and whether its resources went back to the allocator.
struct task_record {
  v1::Task task;
  std::optional<v1::RunTask> launch;  ///< what was sent to the agent, kept while STAGING
  /// The same for a task of a group: one copy shared by the group's members.
  std::shared_ptr<const v1::RunTaskGroup> group_launch;
  uint32_t staging_ticks = 0;         ///< ping rounds spent STAGING (the launch is resent)
  resources res;
  std::string role;
  bool kill_requested = false;
  bool released = false;
};

struct framework_record {
  v1::FrameworkInfo info;
  protocols::scheduler_actor scheduler;   ///< invalid while disconnected
  caf::actor_addr last_scheduler;         ///< the latest subscribed one, also once it is gone
  bool connected = false;
  uint64_t generation = 0;                ///< bumps on each (re)subscribe; stale timers ignore
  std::map<std::string, task_record> tasks; ///< by task ID
  std::set<std::string> offers;           ///< live offer IDs
  std::multiset<std::string> launching;   ///< task IDs of accepts waiting for offer actors
};

struct agent_link {
  protocols::agent_actor handle;
  std::set<std::pair<std::string, std::string>> tasks; ///< (framework ID, task ID)
};

struct offer_record {
  offer_actor actor;
  v1::Offer offer;
  std::string role;
  resources res;
};

struct master_state;
using master_pointer = master_impl::stateful_pointer<master_state>;

class master_node {
public:
  master_node(master_pointer self, master_config cfg);
  ~master_node();

  void start();
  const v1::MasterInfo& info() const {
    return cfg_.info;
  }

  // agents (master_agents.cpp)
  /// `declared`: the handle the agent named (null if none), see runtime/reply_address.hpp.
  void on_register(const v1::RegisterAgent& msg, const caf::actor& declared);
  void on_reregister(v1::ReregisterAgent& msg, const caf::actor& declared);
  void on_pong(const v1::Pong& msg);
  void on_pause(bool on);
  bool deferred_while_paused(caf::message msg);
  void on_ping_tick();
  void on_reregister_timeout();

  // status updates and tasks (master_tasks.cpp)
  void on_status_update(const v1::StatusUpdate& msg);
  void on_executor_message(const v1::ExecutorToFrameworkMessage& msg);

  // schedulers (master_frameworks.cpp)
  /// A scheduler call; `declared` is the handle the scheduler named (null if none).
  void on_call(const v1::scheduler::Call& call, const caf::actor& declared);
  void on_heartbeat_tick();
  void on_failover_expired(const v1::FrameworkID& id, uint64_t generation);
  void on_scheduler_down(const caf::actor_addr& who);

  // offers (master_offers.cpp)
  void on_offer_batch(allocator::offer_batch& batch);
  void on_offer_expired(const v1::OfferID& id);

  // operator calls on roles (master_roles.cpp)
  caf::result<v1::OperatorResponse> on_operator_call(const v1::OperatorCall& call);

  v1::MasterState snapshot() const;

private:
  // roles
  caf::error validate_operator_call(const v1::OperatorCall& call) const;
  void apply_role_operations(const std::vector<internal::RegistryOperation>& ops);
  v1::OperatorResponse role_response(v1::OperatorCall::Type type) const;
  void recover_roles();
  // registry (master_recovery.cpp)
  void recover_registry();
  void record(internal::RegistryOperation op);
  void record_lease(const framework_record& fw, double deadline);
  void record_unreachable(const v1::AgentID& id);
  // agents
  void mark_unreachable(const v1::AgentID& id);
  void resend_staging_launches();
  void resend_launch(const protocols::agent_actor& to, const std::string& framework,
                     const task_record& rec,
                     std::set<std::pair<std::string, std::string>>& groups_sent);
  void remove_agent(const v1::AgentID& id, v1::TaskState state, v1::TaskStatus::Reason reason);
  void retire_replaced(const v1::AgentID& old, const std::string& host);
  void link_agent(const std::string& id, const protocols::agent_actor& handle);
  void adopt_reported_tasks(v1::ReregisterAgent& msg);
  std::string role_of(const v1::Task& task) const;
  // frameworks
  void subscribe(const v1::scheduler::Call& call, const protocols::scheduler_actor& sender);
  void teardown(const v1::FrameworkID& id, const std::string& why);
  void disconnect(framework_record& fw);
  void reconcile(framework_record& fw, const v1::scheduler::Reconcile& msg);
  void kill(framework_record& fw, const v1::scheduler::Kill& msg);
  void acknowledge(framework_record& fw, const v1::scheduler::Acknowledge& msg);
  void framework_message(framework_record& fw, const v1::scheduler::FrameworkMessage& msg);
  // offers
  void accept(framework_record& fw, const v1::scheduler::Accept& msg);
  void decline(framework_record& fw, const v1::scheduler::Decline& msg);
  /// `launching`: this accept's task IDs are in the framework's `launching` (taken out here).
  void on_offers_accepted(const v1::FrameworkID& fw, const v1::scheduler::Accept& msg,
                          std::vector<v1::Offer> offers, bool all_present, bool launching);
  void on_offers_accepted_impl(const v1::FrameworkID& fw, const v1::scheduler::Accept& msg,
                          std::vector<v1::Offer> offers, bool all_present);
  void apply_reservations(const v1::FrameworkID& fid, const v1::AgentID& agent,
                          const std::string& role, const std::vector<reservation_step>& steps);
  void rescind(const std::string& offer_id, const std::string& why);
  void rescind_where(const std::function<bool(const offer_record&)>& pred,
                     const std::string& why);
  // tasks
  task_record* find_task(const std::string& fw, const std::string& task);
  void add_task(framework_record& fw, const v1::TaskInfo& info, const std::string& role,
                const v1::ExecutorID& executor);
  void update_task(framework_record& fw, task_record& task, const v1::TaskStatus& status);
  void release(const v1::FrameworkID& fw, task_record& task);
  void master_update(const v1::FrameworkID& fw, const v1::TaskID& task, v1::TaskState state,
                     v1::TaskStatus::Reason reason, const std::string& message,
                     const v1::AgentID& agent);
  void send_event(framework_record& fw, v1::scheduler::Event event);
  /// `removed`: the framework's ID is gone for good (its driver stops resubscribing).
  void send_error(const protocols::scheduler_actor& to, const std::string& message,
                  bool removed = false);
  void kill_framework_tasks(framework_record& fw);
  void prune_completed();
  protocols::agent_actor agent_handle(const v1::AgentID& id) const;
  double now() const;

  master_pointer self_;
  master_config cfg_;
  std::shared_ptr<spdlog::logger> log_;
  /// Prefix of every ID this term makes (agents, frameworks, offers): the master's ID and, with
  /// a registry, the term's epoch ("m1-e3"), so that no two terms ever hand out the same ID.
  std::string id_prefix_;
  allocator::allocator_actor allocator_;
  agent_registry agents_;
  std::map<std::string, agent_link> links_;           ///< by agent ID
  std::map<caf::actor_addr, std::string> agent_by_addr_; ///< agent actor -> agent ID
  std::map<std::string, std::string> agent_by_incarnation_; ///< RegisterAgent token -> ID
  /// Per agent ID, the report number of the newest ReregisterAgent processed.
  std::map<std::string, uint64_t> reports_;
  bool stale_report(const v1::ReregisterAgent& msg);
  bool paused_ = false; ///< the candidate lost the election: act on nothing (on_pause)
  /// Kills of tasks this term does not know, on agents that are recovering or unreachable:
  /// carried out when the agent reregisters with the task (agent ID -> framework, task).
  std::map<std::string, std::set<std::pair<std::string, std::string>>> deferred_kills_;
  std::map<std::string, framework_record> frameworks_; ///< by framework ID
  std::map<std::string, offer_record> offers_;        ///< by offer ID
  std::set<std::pair<std::string, std::string>> staging_; ///< (framework, task) with a launch
                                                          ///< not yet confirmed by an update
  uint64_t next_framework_ = 0;
  uint64_t next_offer_ = 0;
  std::deque<std::pair<std::string, std::string>> completed_; ///< terminal tasks, oldest first
  std::set<std::string> removed_frameworks_;          ///< torn down; may not resubscribe
  std::deque<framework_record> completed_frameworks_; ///< the last removed ones, for /state
  std::map<std::string, double> weights_;             ///< role weights set by operators
  std::map<std::string, resources> quotas_;           ///< role quota limits set by operators
};

struct master_state {
  std::unique_ptr<master_node> node;
  static inline const char* name = "troupe.master";
};

/// A framework's roles as the allocator takes them ("*" when it names none).
std::vector<std::string> roles_of(const v1::FrameworkInfo& info);

/// True when a task in this state still holds its resources on the agent.
bool holds_resources(v1::TaskState state);

} // namespace troupe::master
