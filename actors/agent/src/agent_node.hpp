// Private to the agent: its records and the class its behavior routes to. Registration and
// liveness are in agent_actor.cpp; tasks, executors and updates in agent_tasks.cpp.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "troupe/agent/agent_actor.hpp"
#include "troupe/agent/agent_checkpoints.hpp"
#include "troupe/agent/status_update_manager.hpp"
#include "troupe/protocols/executor.hpp"
#include "troupe/runtime/random.hpp"
#include "troupe/runtime/supervision/restart_plan.hpp"

namespace spdlog {
class logger;
} // namespace spdlog

namespace troupe::agent {

using register_tick_atom = caf::atom_constant<caf::atom("regtick")>;
using silence_tick_atom = caf::atom_constant<caf::atom("silence")>;
using executor_timeout_atom = caf::atom_constant<caf::atom("exectmo")>;
using kill_escalate_atom = caf::atom_constant<caf::atom("killesc")>;

using restart_helper_atom = caf::atom_constant<caf::atom("aghrestrt")>;

using agent_impl = agent_node_actor::extend<
  caf::reacts_to<register_tick_atom, uint64_t>, caf::reacts_to<silence_tick_atom>,
  caf::reacts_to<restart_helper_atom, uint64_t>,
  caf::reacts_to<executor_timeout_atom, std::string, uint64_t>,
  caf::reacts_to<kill_escalate_atom, std::string, uint64_t>>;

enum class agent_phase { registering, running, reregistering, terminating };

struct executor_record {
  v1::ExecutorInfo info;
  v1::ContainerID container;
  std::string sandbox;
  protocols::executor_actor handle;        ///< set when it subscribed
  bool launched = false;                   ///< the container runs
  bool destroying = false;                 ///< destroy requested
  uint64_t generation = 0;                 ///< container incarnation (stale timers ignore)
  std::vector<v1::executor::Event> launches; ///< launches it has not reported on yet (resent
                                            ///< at every subscription)
  std::vector<v1::executor::Event> queued;  ///< other events waiting for the subscription
  std::set<std::string> tasks;             ///< task IDs it runs
};

struct framework_entry {
  v1::FrameworkInfo info;
  std::map<std::string, executor_record> executors; ///< by executor ID
  std::map<std::string, v1::Task> tasks;            ///< by task ID, latest state
  std::map<std::string, v1::TaskInfo> infos;        ///< by task ID, as launched
  std::set<std::string> acked_terminal;             ///< terminal update acknowledged
  std::set<std::string> failing;                    ///< executor TASK_FAILED being completed
  std::set<std::string> kill_requested;             ///< task IDs
};

struct agent_state;
using agent_pointer = agent_impl::stateful_pointer<agent_state>;

class agent_node {
public:
  agent_node(agent_pointer self, agent_config cfg, protocols::master_actor master,
             containerizer_factory containerizer);

  void start();

  // master link (agent_actor.cpp)
  void on_registered(const v1::AgentID& id, const v1::MasterInfo& master, double ping_seconds,
                     bool reregistered);
  void on_ping(const v1::Ping& ping);
  void on_register_tick(uint64_t attempt);
  void on_silence_tick();
  void on_shutdown_agent(const v1::ShutdownAgent& msg);
  void forward_update(const v1::StatusUpdate& update);
  std::vector<v1::Task> all_tasks() const;
  void set_executor_endpoint(const std::string& endpoint);
  const v1::AgentID& id() const {
    return cfg_.info.id();
  }

  // tasks and executors (agent_tasks.cpp)
  bool may_launch() const;
  bool launch_is_ours(const v1::TaskInfo& task);
  void run_held_launches(uint64_t master_epoch); ///< those of an older epoch are dropped
  void forget_held(const std::string& framework, const std::string& task);
  void on_run_task(const v1::RunTask& msg);
  void on_run_task_group(const v1::RunTaskGroup& msg);
  void on_kill_task(const v1::KillTask& msg);
  void on_acknowledgement(const v1::StatusUpdateAcknowledgement& msg);
  void on_shutdown_framework(const v1::ShutdownFramework& msg);
  void on_checkpoint_resources(const v1::CheckpointResources& msg);
  void keep_reservations(const v1::AgentInfo& checkpointed);
  void on_framework_message(const v1::FrameworkToExecutorMessage& msg);
  void on_executor_call(const v1::executor::Call& call, const caf::actor& reply_to);
  void on_container_exited(const isolation::container_exited& msg);
  void on_executor_timeout(const std::string& container, uint64_t generation);
  void on_kill_escalate(const std::string& container, uint64_t generation);

  void on_leader(protocols::master_actor master, const v1::MasterInfo& info);

  // supervision of the helpers (agent_helpers.cpp)
  /// True when `msg` is the end of a helper (handled: restart planned, or the agent gives up).
  bool on_helper_exit(const caf::exit_msg& msg);
  void on_restart_helper(uint64_t which);
  std::pair<caf::actor, caf::actor> helpers() const;
  void on_master_down(const caf::actor_addr& who);

private:
  void start_updates();
  void start_containerizer();
  void to_updates(v1::StatusUpdate update);
  void to_updates(const v1::StatusUpdateAcknowledgement& ack);
  void fail_lost_containers(const std::set<std::string>& alive, v1::TaskStatus::Reason reason,
                            const std::string& message);
  void recover();
  void on_containers_recovered(const std::vector<v1::ContainerID>& adopted);
  void checkpoint_task(const framework_entry& fw, const std::string& task);
  void checkpoint_executor(const framework_entry& fw, const executor_record& ex, int pid);
  void forget_finished_executor(framework_entry& fw, const v1::ExecutorID& ex);
  void begin_registration();
  const std::string& incarnation(); ///< this process's token, drawn on first use
  void send_registration();
  bool fresh_epoch(uint64_t epoch);
  framework_entry& framework(const v1::FrameworkInfo& info);
  executor_record& executor_for(framework_entry& fw, const v1::ExecutorInfo& info);
  void launch_container(framework_entry& fw, executor_record& ex);
  isolation::container_limits limits_of(const framework_entry& fw,
                                        const executor_record& ex) const;
  void deliver(executor_record& ex, v1::executor::Event event);
  void on_executor_subscribe(framework_entry& fw, executor_record& ex,
                             const v1::executor::Call& call,
                             const protocols::executor_actor& sender);
  void confirm_launch(executor_record& ex, const std::string& task);
  void resend_launch(const framework_entry& fw, const std::string& task);
  void agent_update(const v1::FrameworkID& fw, const v1::TaskID& task,
                    const v1::ExecutorID& executor, v1::TaskState state,
                    v1::TaskStatus::Reason reason, const std::string& message);
  void record_update(const v1::StatusUpdate& update);
  void destroy(executor_record& ex, caf::timespan grace);
  void fail_executor_tasks(framework_entry& fw, executor_record& ex,
                           v1::TaskStatus::Reason reason, const std::string& message);
  std::pair<framework_entry*, executor_record*> by_container(const std::string& container);
  std::string new_uuid();
  double now() const;

  agent_pointer self_;
  agent_config cfg_;
  protocols::master_actor master_;
  containerizer_factory make_containerizer_;
  isolation::containerizer_actor containerizer_;
  status_update_manager_actor updates_;
  std::optional<runtime::restart_plan> helper_plan_; ///< restarts of the two helpers
  std::vector<v1::StatusUpdate> parked_updates_;     ///< while the manager restarts
  std::shared_ptr<spdlog::logger> log_;
  runtime::seeded_random random_;
  agent_checkpoints checkpoints_;
  internal::AgentCheckpoint checkpoint_; ///< the agent record last written (registration)
  bool recovering_ = false; ///< waiting for the containerizer to adopt surviving containers
  std::string incarnation_; ///< this process's token in RegisterAgent (retries keep their ID)
  uint64_t reports_ = 0;    ///< the last ReregisterAgent's `report` number
  std::vector<v1::RunTask> held_runs_;        ///< launches that came before the agent's ID
  std::vector<v1::RunTaskGroup> held_groups_; ///< the same for task groups
  agent_phase phase_ = agent_phase::registering;
  uint64_t epoch_ = 0;
  std::string leader_id_; ///< the ID of the master the leader connector named last ("" unknown)
  uint64_t registration_round_ = 0;
  caf::timespan ping_interval_ = std::chrono::seconds{5};
  caf::actor_clock::time_point last_ping_;
  uint64_t next_container_ = 0;
  std::map<std::string, framework_entry> frameworks_;                       ///< by ID
  std::map<std::string, std::pair<std::string, std::string>> containers_;   ///< -> (fw, exec)
  std::deque<std::pair<std::string, std::string>> finished_;                ///< (fw, task)
};

struct agent_state {
  std::unique_ptr<agent_node> node;
  static inline const char* name = "troupe.agent";
};

} // namespace troupe::agent
