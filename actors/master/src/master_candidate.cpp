// The candidate's behavior (a routing table onto candidate_node) and the term lifecycle.
#include "troupe/master/master_candidate.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <spdlog/spdlog.h>

#include "troupe/messages/errc.hpp"
#include "troupe/messages/json.hpp"
#include "troupe/runtime/logging.hpp"

namespace troupe::master {

namespace {

namespace election = runtime::election;

using term_retry_atom = caf::atom_constant<caf::atom("termretry")>;
using suspend_end_atom = caf::atom_constant<caf::atom("suspend")>;

/// Where the current term is; monotone within a term (a new term starts at `none` again).
enum class term_phase {
  none,       ///< no term: not elected, or waiting to retry
  recovering, ///< the registrar reads the registry
  serving,    ///< the term's master serves; messages are forwarded
  suspended,  ///< lost the election; waits suspend_grace for the same epoch, its master paused
};

class candidate_node;

struct candidate_state {
  std::unique_ptr<candidate_node> node;
  ~candidate_state(); // where candidate_node is complete
  static inline const char* name = "troupe.master_candidate";
};

using candidate_pointer = caf::stateful_actor<candidate_state>*;

class candidate_node {
public:
  candidate_node(candidate_pointer self, candidate_config cfg)
    : self_(self), cfg_(std::move(cfg)), log_(runtime::node_logger(cfg_.master.node)) {
    contender_ = cfg_.make_contender(self_->system(),
                                     caf::actor_cast<election::leadership_listener>(self_));
    self_->link_to(contender_);
  }

  void on_contend(const v1::MasterInfo& info) {
    cfg_.master.info = info;
    self_->send(contender_, election::contend_atom::value, to_json(info));
  }

  void on_elected(uint64_t epoch) {
    elected_ = true;
    if (phase_ == term_phase::suspended && epoch == elected_epoch_) {
      phase_ = term_phase::serving;
      ++term_; // the suspension's grace timer is stale now
      log_->info("elected again with the same epoch {}: the term resumes", epoch);
      self_->send(master_, pause_atom::value, false);
      report(&term_info_);
      return;
    }
    elected_epoch_ = epoch;
    start_term();
  }

  void on_lost() {
    elected_ = false;
    if (phase_ == term_phase::serving && cfg_.suspend_grace > caf::timespan{0}) {
      phase_ = term_phase::suspended;
      log_->warn("lost the election: not serving; the term waits {} ms for a re-election",
                 std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.suspend_grace)
                   .count());
      self_->send(master_, pause_atom::value, true); // acts on nothing from now on
      report(nullptr);
      self_->delayed_send(self_, cfg_.suspend_grace, suspend_end_atom::value, term_);
      return;
    }
    end_term("lost the election");
  }

  void on_suspend_end(uint64_t term) {
    if (term == term_ && phase_ == term_phase::suspended)
      end_term("not re-elected within the grace");
  }

  void on_retry(uint64_t term) {
    if (term == term_ && elected_ && phase_ == term_phase::none)
      start_term();
  }

  // The term is one unit: its master or its registrar ending (a crash, a fenced registry) ends
  // it; a new one starts after `retry` while this node still leads.
  void on_down(const caf::down_msg& msg) {
    bool ours = (master_ && msg.source == master_.address())
                || (registrar_ && msg.source == registrar_.address());
    if (!ours)
      return;
    log_->error("a leadership term actor ended ({}): the term ends",
                self_->system().render(msg.reason));
    end_term("one of its actors ended");
    if (elected_)
      self_->delayed_send(self_, cfg_.retry, term_retry_atom::value, term_);
  }

  void on_stop() {
    end_term("the candidate stopped");
  }

  // Everything that is not the candidate's own business goes to the serving term's master, as
  // if sent there directly (sender and message ID kept: replies and requests work unchanged).
  caf::result<caf::message> forward(caf::message_view& x) {
    auto* element = self_->current_mailbox_element();
    if (phase_ == term_phase::serving) {
      caf::actor_cast<caf::actor>(master_)->enqueue(std::move(element->sender), element->mid,
                                                    x.move_content_to_message(),
                                                    self_->context());
      return caf::delegated<caf::message>{};
    }
    if (element->mid.is_request())
      return make_error(errc::unavailable, "this master is not leading");
    return caf::delegated<caf::message>{}; // dropped: senders retry, or follow the new leader
  }

private:
  void report(const v1::MasterInfo* serving) {
    if (cfg_.on_term)
      cfg_.on_term(serving);
  }

  void start_term() {
    end_term("a new term starts");
    auto term = ++term_;
    phase_ = term_phase::recovering;
    registrar_config rcfg;
    rcfg.store = cfg_.store;
    rcfg.detached = cfg_.detached_registrar;
    rcfg.node = cfg_.master.node;
    registrar_ = spawn_registrar(self_->system(), std::move(rcfg));
    self_->monitor(registrar_);
    self_->request(registrar_, caf::infinite, recover_atom::value, elected_epoch_)
      .then([this, term](internal::Registry& registry) { on_recovered(term, registry); },
            [this, term](caf::error& err) { on_recovery_failed(term, err); });
  }

  void on_recovered(uint64_t term, internal::Registry& registry) {
    if (term != term_ || phase_ != term_phase::recovering)
      return;
    auto cfg = cfg_.master;
    cfg.info.set_epoch(registry.epoch());
    cfg.registrar = registrar_;
    cfg.registry = std::move(registry);
    master_ = spawn_master(self_->system(), cfg);
    self_->monitor(master_);
    phase_ = term_phase::serving;
    term_info_ = cfg.info;
    log_->info("leading: term epoch {} (election epoch {})", term_info_.epoch(), elected_epoch_);
    report(&term_info_);
  }

  void on_recovery_failed(uint64_t term, const caf::error& err) {
    if (term != term_)
      return;
    log_->error("cannot start a leadership term: {}; retrying", error_message(err));
    end_term("the registry could not be recovered");
    self_->delayed_send(self_, cfg_.retry, term_retry_atom::value, term_);
  }

  void end_term(const char* why) {
    ++term_;
    bool served = phase_ == term_phase::serving; // a suspended term was reported already
    phase_ = term_phase::none;
    if (master_) {
      self_->demonitor(master_.address());
      caf::anon_send_exit(master_, caf::exit_reason::user_shutdown);
      master_ = nullptr;
    }
    if (registrar_) {
      self_->demonitor(registrar_.address());
      caf::anon_send_exit(registrar_, caf::exit_reason::user_shutdown);
      registrar_ = nullptr;
    }
    if (served) {
      log_->warn("leadership term ended: {}", why);
      report(nullptr);
    }
  }

  candidate_pointer self_;
  candidate_config cfg_;
  std::shared_ptr<spdlog::logger> log_;
  election::contender_actor contender_;
  bool elected_ = false;       ///< the contender says we lead
  uint64_t elected_epoch_ = 0; ///< the election's epoch of the current/last term
  uint64_t term_ = 0;          ///< bumps on every term start and end; stale replies ignored
  term_phase phase_ = term_phase::none;
  registrar_actor registrar_;
  master_node_actor master_;   ///< set from serving on
  v1::MasterInfo term_info_;   ///< the running term's MasterInfo
};

candidate_state::~candidate_state() = default;

caf::behavior candidate_fn(candidate_pointer self, candidate_config cfg) {
  self->state.node = std::make_unique<candidate_node>(self, std::move(cfg));
  auto* node = self->state.node.get();
  self->set_default_handler(
    [node](caf::scheduled_actor*, caf::message_view& x) { return node->forward(x); });
  self->set_down_handler([node](caf::down_msg& msg) { node->on_down(msg); });
  // Stopped (by its owner, or its contender died): the term ends with it.
  self->set_exit_handler([self, node](caf::exit_msg& msg) {
    node->on_stop();
    self->quit(msg.reason);
  });
  return {
    [node](election::contend_atom, const v1::MasterInfo& info) { node->on_contend(info); },
    [node](election::elected_atom, uint64_t epoch) { node->on_elected(epoch); },
    [node](election::lost_atom) { node->on_lost(); },
    [node](suspend_end_atom, uint64_t term) { node->on_suspend_end(term); },
    [node](term_retry_atom, uint64_t term) { node->on_retry(term); },
  };
}

} // namespace

caf::actor spawn_master_candidate(caf::actor_system& sys, candidate_config cfg) {
  return sys.spawn(candidate_fn, std::move(cfg));
}

} // namespace troupe::master
