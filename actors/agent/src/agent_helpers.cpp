// The agent supervises its two helpers (agent_actor.hpp, "Supervision"): the status update
// manager and the containerizer are linked to it; the agent traps their exits and restarts the
// one that ended after runtime::restart_plan's backoff, or gives up (and ends) past its
// intensity. What each restart loses is written down in agent_actor.hpp.
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "agent_node.hpp"
#include "troupe/messages/errc.hpp"
#include "troupe/runtime/errors.hpp"

namespace troupe::agent {

namespace {

constexpr uint64_t updates_index = 0;
constexpr uint64_t containerizer_index = 1;
const char* const helper_names[] = {"status update manager", "containerizer"};

} // namespace

runtime::supervisor_config agent_config::default_helper_supervision() {
  runtime::supervisor_config cfg;
  cfg.strategy = runtime::restart_strategy::one_for_one;
  cfg.backoff = {std::chrono::seconds{1}, std::chrono::seconds{30}, 2.0};
  cfg.max_restarts = 5;
  cfg.window = std::chrono::minutes{5};
  cfg.name = "agent";
  return cfg;
}

void agent_node::start_updates() {
  status_update_manager_config ucfg;
  ucfg.checkpoint_dir = cfg_.work_dir + "/meta/updates";
  ucfg.retry = cfg_.update_retry;
  ucfg.node = cfg_.node;
  ucfg.detached = cfg_.detached_updates;
  updates_ = spawn_status_update_manager(self_->system(), std::move(ucfg),
                                         caf::actor_cast<update_sink_actor>(self_));
  self_->link_to(updates_);
}

void agent_node::start_containerizer() {
  containerizer_ = make_containerizer_(self_->system(),
                                       caf::actor_cast<isolation::container_watcher_actor>(self_));
  self_->link_to(containerizer_);
}

void agent_node::to_updates(v1::StatusUpdate update) {
  if (updates_)
    self_->send(updates_, std::move(update));
  else
    parked_updates_.push_back(std::move(update)); // handed over once the manager is back
}

void agent_node::to_updates(const v1::StatusUpdateAcknowledgement& ack) {
  if (updates_)
    self_->send(updates_, ack);
  else // its update is resent by the restarted manager and acknowledged again
    log_->warn("dropping an acknowledgement: the status update manager restarts");
}

bool agent_node::on_helper_exit(const caf::exit_msg& msg) {
  uint64_t which;
  if (updates_ && msg.source == updates_.address()) {
    which = updates_index;
    updates_ = nullptr;
  } else if (containerizer_ && msg.source == containerizer_.address()) {
    which = containerizer_index;
    containerizer_ = nullptr;
  } else {
    return false;
  }
  if (phase_ == agent_phase::terminating)
    return true; // the agent ends anyway
  if (!helper_plan_)
    helper_plan_.emplace(cfg_.helpers,
                         std::vector<std::string>{helper_names[0], helper_names[1]});
  // A helper never ends on its own: even a "normal" end is a failure here.
  auto d = helper_plan_->on_exit(which, true, self_->clock().now());
  auto reason = msg.reason ? self_->system().render(msg.reason) : std::string{"no reason"};
  if (d.what == runtime::restart_plan::action::escalate) {
    log_->error("the {} ended ({}) too often: the agent gives up", helper_names[which], reason);
    self_->quit(make_error(errc::supervisor_gave_up, d.why + "; last reason: " + reason));
    return true;
  }
  log_->error("the {} ended ({}): restarting it in {} ms", helper_names[which], reason,
              std::chrono::duration_cast<std::chrono::milliseconds>(d.delay).count());
  if (which == containerizer_index) // it killed every container it had launched as it ended
    fail_lost_containers({}, v1::TaskStatus::REASON_AGENT_RESTARTED,
                         "its container ended with the agent's containerizer, which crashed");
  self_->delayed_send(self_, d.delay, restart_helper_atom::value, which);
  return true;
}

void agent_node::on_restart_helper(uint64_t which) {
  if (phase_ == agent_phase::terminating)
    return;
  if (which == updates_index && !updates_) {
    start_updates(); // it reloads the checkpointed streams
    for (auto& update : parked_updates_)
      self_->send(updates_, std::move(update));
    parked_updates_.clear();
    log_->info("status update manager restarted");
    // Updates still in the old one's mailbox were never checkpointed (their executors were
    // told they were): reregistering reports every task's latest state to the master, which
    // tells the framework what it missed.
    if (phase_ == agent_phase::running) {
      phase_ = agent_phase::reregistering;
      begin_registration();
    }
  } else if (which == containerizer_index && !containerizer_) {
    start_containerizer();
    log_->info("containerizer restarted");
    if (may_launch())
      run_held_launches(epoch_); // launches that came meanwhile
  }
}

std::pair<caf::actor, caf::actor> agent_node::helpers() const {
  return {caf::actor_cast<caf::actor>(updates_), caf::actor_cast<caf::actor>(containerizer_)};
}

std::string agent_supervision_tree() {
  return R"(troupe-agent             exits 1 when the agent ends on its own (systemd restarts it; the
│                        agent recovers tasks, executors and update streams from checkpoints)
└── agent                published on the actor port; supervises its helpers one_for_one,
    │                    1 s..30 s backoff, 5 restarts within 5 minutes, then it ends
    ├── status update manager   linked; restarted: reloads its checkpointed streams, resends
    │                           their heads; updates reported meanwhile wait in the agent
    ├── containerizer           linked; its end kills its containers: their tasks fail
    │                           (REASON_AGENT_RESTARTED); restarted for new launches
    └── leader connector        (beside the agent) follows the leading master, reconnects
)";
}

} // namespace troupe::agent
