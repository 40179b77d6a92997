// The candidate's behavior (its own messages plus one delegating handler per message of the
// entry interface) and the term lifecycle.
#include "troupe/master/master_candidate.hpp"

#include <algorithm>
#include <tuple>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "troupe/messages/errc.hpp"
#include "troupe/messages/json.hpp"
#include "troupe/runtime/logging.hpp"

namespace troupe::master {

namespace {

namespace election = runtime::election;

using suspend_end_atom = caf::atom_constant<caf::atom("suspend")>;
using recontend_atom = caf::atom_constant<caf::atom("recontend")>;
using term_serving_atom = caf::atom_constant<caf::atom("termserve")>;

using candidate_impl = candidate_actor::extend<
  /// A term's master -> candidate: it serves (term generation, its handle, its info).
  caf::reacts_to<term_serving_atom, uint64_t, master_node_actor, v1::MasterInfo>,
  /// Candidate -> itself: the suspension of term N ran out.
  caf::reacts_to<suspend_end_atom, uint64_t>,
  /// Candidate -> itself: contend again after a step-down (generation).
  caf::reacts_to<recontend_atom, uint64_t>>;

/// Where the current term is.
enum class term_phase {
  none,      ///< no term: not elected, or stepping down
  starting,  ///< the term runs, its master recovers (or restarts)
  serving,   ///< the term's master serves; messages are delegated to it
  suspended, ///< lost the election; waits suspend_grace for the same epoch, its master paused
};

class candidate_node;

struct candidate_state {
  std::unique_ptr<candidate_node> node;
  ~candidate_state(); // where candidate_node is complete
  static inline const char* name = "troupe.master_candidate";
};

using candidate_pointer = candidate_impl::stateful_pointer<candidate_state>;

class candidate_node {
public:
  candidate_node(candidate_pointer self, candidate_config cfg)
    : self_(self), cfg_(std::move(cfg)), log_(runtime::node_logger(cfg_.master.node)) {
    start_contender();
  }

  candidate_pointer self() const {
    return self_;
  }

  const master_node_actor& master() const {
    return master_;
  }

  bool serving() const {
    return phase_ == term_phase::serving && master_;
  }

  void on_contend(const v1::MasterInfo& info) {
    cfg_.master.info = info;
    contending_ = true;
    self_->send(contender_, election::contend_atom::value, to_json(info));
  }

  void on_elected(uint64_t epoch) {
    if (stepping_down_)
      return; // the old contender's report, before its end
    elected_ = true;
    if (phase_ == term_phase::suspended && epoch == elected_epoch_) {
      ++suspension_; // the grace timer is stale now
      if (!master_) { // it ended meanwhile: the restarted one reports when it serves
        phase_ = term_phase::starting;
        return;
      }
      phase_ = term_phase::serving;
      log_->info("elected again with the same epoch {}: the term resumes", epoch);
      self_->send(master_, pause_atom::value, false);
      report(&term_info_);
      return;
    }
    elected_epoch_ = epoch;
    start_term();
  }

  void on_lost() {
    if (stepping_down_)
      return;
    elected_ = false;
    if (phase_ == term_phase::serving && cfg_.suspend_grace > caf::timespan{0}) {
      phase_ = term_phase::suspended;
      log_->warn("lost the election: not serving; the term waits {} ms for a re-election",
                 std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.suspend_grace)
                   .count());
      self_->send(master_, pause_atom::value, true); // acts on nothing from now on
      report(nullptr);
      self_->delayed_send(self_, cfg_.suspend_grace, suspend_end_atom::value, ++suspension_);
      return;
    }
    end_term("lost the election");
  }

  void on_suspend_end(uint64_t suspension) {
    if (suspension == suspension_ && phase_ == term_phase::suspended)
      end_term("not re-elected within the grace");
  }

  // A master of the running term serves: the first, or the one a restart started.
  void on_term_serving(uint64_t generation, master_node_actor master,
                       const v1::MasterInfo& info) {
    if (generation != term_generation_ || phase_ == term_phase::none)
      return; // a term that ended meanwhile
    if (master_)
      self_->demonitor(master_.address());
    master_ = std::move(master);
    self_->monitor(master_);
    term_info_ = info;
    if (phase_ == term_phase::suspended) { // restarted while we wait for a re-election
      self_->send(master_, pause_atom::value, true);
      return;
    }
    phase_ = term_phase::serving;
    step_downs_ = 0;
    log_->info("leading: term epoch {} (election epoch {})", info.epoch(), elected_epoch_);
    report(&term_info_);
  }

  void on_down(const caf::down_msg& msg) {
    if (term_ && msg.source == term_.address()) {
      // The term ended on its own: it gave up restarting, or a newer term fenced it.
      log_->error("the leadership term ended: {}; stepping down",
                  self_->system().render(msg.reason));
      term_ = nullptr;
      end_term("its supervisor ended");
      step_down();
    } else if (master_ && msg.source == master_.address()) {
      master_ = nullptr; // its supervisor restarts the term (or ends it)
      if (phase_ == term_phase::serving) {
        phase_ = term_phase::starting;
        log_->warn("the term's master ended ({}): not serving until it restarts",
                   self_->system().render(msg.reason));
        report(nullptr);
      }
    } else if (old_contender_ && msg.source == old_contender_) {
      old_contender_ = caf::actor_addr{};
      // Consecutive step-downs back off: retry, doubling to 32 × retry (at least 100 ms).
      auto base = std::max(cfg_.retry, caf::timespan{std::chrono::milliseconds{100}});
      auto delay = base * (1u << std::min(step_downs_, 5u));
      ++step_downs_;
      self_->delayed_send(self_, delay, recontend_atom::value, ++generation_);
    }
  }

  void on_recontend(uint64_t generation) {
    if (generation != generation_ || !stepping_down_)
      return;
    stepping_down_ = false;
    start_contender();
    if (contending_)
      self_->send(contender_, election::contend_atom::value, to_json(cfg_.master.info));
  }

  void on_stop() {
    end_term("the candidate stopped");
  }

private:
  void start_contender() {
    contender_ = cfg_.make_contender(self_->system(),
                                     caf::actor_cast<election::leadership_listener>(self_));
    self_->link_to(contender_);
  }

  // Lets another node lead: the contender ends (its znode goes) and a new one contends after
  // `retry`. Reports of the old one, sent before its end, are ignored until then.
  void step_down() {
    elected_ = false;
    stepping_down_ = true;
    old_contender_ = contender_.address();
    self_->unlink_from(contender_);
    self_->monitor(contender_);
    caf::anon_send_exit(contender_, caf::exit_reason::user_shutdown);
    contender_ = nullptr;
  }

  void report(const v1::MasterInfo* serving) {
    if (cfg_.on_term)
      cfg_.on_term(serving);
  }

  void start_term() {
    end_term("a new term starts");
    leader_term_config tcfg;
    tcfg.master = cfg_.master;
    tcfg.store = cfg_.store;
    tcfg.detached_registrar = cfg_.detached_registrar;
    tcfg.elected_epoch = elected_epoch_;
    tcfg.supervision = cfg_.term_supervision;
    auto me = caf::actor_cast<candidate_impl>(self_);
    auto generation = ++generation_;
    tcfg.on_serving = [me, generation](const master_node_actor& m, const v1::MasterInfo& info) {
      caf::anon_send(me, term_serving_atom::value, generation, m, info);
    };
    term_generation_ = generation;
    term_ = spawn_leader_term(self_, std::move(tcfg));
    self_->monitor(term_);
    *running_term_ = caf::actor_cast<caf::actor>(term_);
    phase_ = term_phase::starting;
  }

  void end_term(const char* why) {
    bool served = phase_ == term_phase::serving; // a suspended term was reported already
    phase_ = term_phase::none;
    term_generation_ = 0;
    if (master_) {
      self_->demonitor(master_.address());
      master_ = nullptr;
    }
    if (term_) {
      self_->demonitor(term_.address());
      caf::anon_send_exit(term_, caf::exit_reason::user_shutdown);
      term_ = nullptr;
    }
    *running_term_ = nullptr;
    if (served) {
      log_->warn("leadership term ended: {}", why);
      report(nullptr);
    }
  }

  candidate_pointer self_;
  candidate_config cfg_;
  std::shared_ptr<spdlog::logger> log_;
  election::contender_actor contender_;
  caf::actor_addr old_contender_; ///< stopped at a step-down; we wait for its end
  bool contending_ = false;       ///< told to contend (the info is set)
  bool stepping_down_ = false;
  bool elected_ = false;          ///< the contender says we lead
  uint64_t elected_epoch_ = 0;    ///< the election's epoch of the current/last term
  uint64_t generation_ = 0;       ///< bumps per term start and step-down; stale replies ignored
  uint64_t term_generation_ = 0;  ///< the running term's generation (0: none)
  uint64_t suspension_ = 0;       ///< bumps per suspension; stale grace timers ignored
  unsigned step_downs_ = 0;       ///< in a row, without a term serving in between
  term_phase phase_ = term_phase::none;
  runtime::supervisor_actor term_;
  master_node_actor master_;      ///< the serving (or paused) master of the term

public:
  /// The running term, for the candidate's exit hook: a candidate killed (no exit handler
  /// runs) must not leave its term running without an election.
  std::shared_ptr<caf::actor> running_term_ = std::make_shared<caf::actor>();

  bool from_old_contender(const caf::actor_addr& who) const {
    return old_contender_ && who == old_contender_;
  }
  v1::MasterInfo term_info_;      ///< its MasterInfo
};

candidate_state::~candidate_state() = default;

/// One handler per message of the entry interface: delegated to the serving master, sender and
/// request ID kept. While no term serves, one-way messages are dropped (senders retry or follow
/// the new leader) and requests are answered errc::unavailable.
template <class Signature>
struct delegate_to_term;

template <class... Ins, class... Outs>
struct delegate_to_term<caf::typed_mpi<caf::detail::type_list<Ins...>, caf::output_tuple<Outs...>>> {
  static auto make(candidate_node* node) {
    return [node](Ins&... xs) -> caf::result<Outs...> {
      auto* self = node->self();
      if (!node->serving()) {
        if constexpr (std::is_same_v<caf::result<Outs...>, caf::result<void>>)
          if (!self->current_mailbox_element()->mid.is_request())
            return {};
        return make_error(errc::unavailable, "this master is not leading");
      }
      return self->delegate(node->master(), std::move(xs)...);
    };
  }
};

template <class... Signatures>
auto delegating_handlers(candidate_node* node, caf::detail::type_list<Signatures...>) {
  return std::make_tuple(delegate_to_term<Signatures>::make(node)...);
}

candidate_impl::behavior_type candidate_fn(candidate_pointer self, candidate_config cfg) {
  self->state.node = std::make_unique<candidate_node>(self, std::move(cfg));
  auto* node = self->state.node.get();
  self->set_down_handler([node](caf::down_msg& msg) { node->on_down(msg); });
  // Stopped (by its owner, or its contender died): the term ends with it.
  self->set_exit_handler([self, node](caf::exit_msg& msg) {
    if (node->from_old_contender(msg.source))
      return; // stopped by us at a step-down (its exit raced the unlink)
    node->on_stop();
    self->quit(msg.reason);
  });
  self->attach_functor([term = node->running_term_] {
    if (*term)
      caf::anon_send_exit(*term, caf::exit_reason::user_shutdown);
  });
  return std::apply(
    [node](auto... delegating) {
      return candidate_impl::behavior_type{
        delegating...,
        [node](election::contend_atom, const v1::MasterInfo& info) { node->on_contend(info); },
        [node](election::elected_atom, uint64_t epoch) { node->on_elected(epoch); },
        [node](election::lost_atom) { node->on_lost(); },
        [node](term_serving_atom, uint64_t term, master_node_actor& master,
               const v1::MasterInfo& info) { node->on_term_serving(term, std::move(master), info); },
        [node](suspend_end_atom, uint64_t suspension) { node->on_suspend_end(suspension); },
        [node](recontend_atom, uint64_t generation) { node->on_recontend(generation); },
      };
    },
    delegating_handlers(node, master_entry_actor::signatures{}));
}

} // namespace

candidate_actor spawn_master_candidate(caf::actor_system& sys, candidate_config cfg) {
  return sys.spawn(candidate_fn, std::move(cfg));
}

} // namespace troupe::master
