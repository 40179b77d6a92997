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

struct candidate_state {
  candidate_config cfg;
  std::shared_ptr<spdlog::logger> log;
  election::contender_actor contender;
  bool elected = false;     ///< the contender says we lead
  uint64_t elected_epoch = 0;
  uint64_t term = 0;        ///< bumps on every term start and end; stale replies ignored
  registrar_actor registrar;
  master_node_actor master; ///< set while a term runs
  bool suspended = false;   ///< the term lost the election and waits for the same epoch
  v1::MasterInfo term_info; ///< the running term's MasterInfo
  static inline const char* name = "troupe.master_candidate";
};

using candidate_pointer = caf::stateful_actor<candidate_state>*;

void end_term(candidate_pointer self, const char* why) {
  auto& st = self->state;
  ++st.term;
  bool served = st.master && !st.suspended;
  st.suspended = false;
  if (st.master) {
    self->demonitor(st.master.address());
    caf::anon_send_exit(st.master, caf::exit_reason::user_shutdown);
    st.master = nullptr;
  }
  if (st.registrar) {
    self->demonitor(st.registrar.address());
    caf::anon_send_exit(st.registrar, caf::exit_reason::user_shutdown);
    st.registrar = nullptr;
  }
  if (served) {
    st.log->warn("leadership term ended: {}", why);
    if (st.cfg.on_term)
      st.cfg.on_term(nullptr);
  }
}

void start_term(candidate_pointer self) {
  auto& st = self->state;
  end_term(self, "a new term starts");
  auto term = ++st.term;
  registrar_config rcfg;
  rcfg.store = st.cfg.store;
  rcfg.detached = st.cfg.detached_registrar;
  rcfg.node = st.cfg.master.node;
  st.registrar = spawn_registrar(self->system(), std::move(rcfg));
  self->monitor(st.registrar);
  self->request(st.registrar, caf::infinite, recover_atom::value, st.elected_epoch)
    .then(
      [self, term](internal::Registry& registry) {
        auto& st = self->state;
        if (term != st.term || !st.elected)
          return;
        auto cfg = st.cfg.master;
        cfg.info.set_epoch(registry.epoch());
        cfg.registrar = st.registrar;
        cfg.registry = std::move(registry);
        st.master = spawn_master(self->system(), cfg);
        self->monitor(st.master);
        st.log->info("leading: term epoch {} (election epoch {})", cfg.info.epoch(),
                     st.elected_epoch);
        st.term_info = cfg.info;
        if (st.cfg.on_term)
          st.cfg.on_term(&st.term_info);
      },
      [self, term](caf::error& err) {
        auto& st = self->state;
        if (term != st.term)
          return;
        st.log->error("cannot start a leadership term: {}; retrying", error_message(err));
        end_term(self, "the registry could not be recovered");
        self->delayed_send(self, st.cfg.retry, term_retry_atom::value, st.term);
      });
}

// Everything that is not the candidate's own business goes to the serving term's master, as if
// sent there directly (sender and message ID kept: replies and requests work unchanged).
caf::result<caf::message> forward(candidate_pointer self, caf::message_view& x) {
  auto& st = self->state;
  auto* element = self->current_mailbox_element();
  if (st.master && !st.suspended) {
    caf::actor_cast<caf::actor>(st.master)
      ->enqueue(std::move(element->sender), element->mid, x.move_content_to_message(),
                self->context());
    return caf::delegated<caf::message>{};
  }
  if (element->mid.is_request())
    return make_error(errc::unavailable, "this master is not leading");
  return caf::delegated<caf::message>{}; // dropped: senders retry, or follow the new leader
}

caf::behavior candidate_fn(candidate_pointer self, candidate_config cfg) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.log = runtime::node_logger(st.cfg.master.node);
  st.contender = st.cfg.make_contender(self->system(),
                                       caf::actor_cast<election::leadership_listener>(self));
  self->link_to(st.contender);
  self->set_default_handler(
    [self](caf::scheduled_actor*, caf::message_view& x) { return forward(self, x); });
  // The term is one unit: its master or its registrar ending (a crash, a fenced registry)
  // ends it; a new one starts after `retry` while this node still leads.
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    bool ours = (st.master && msg.source == st.master.address())
                || (st.registrar && msg.source == st.registrar.address());
    if (!ours)
      return;
    st.log->error("a leadership term actor ended ({}): the term ends",
                  self->system().render(msg.reason));
    end_term(self, "one of its actors ended");
    if (st.elected)
      self->delayed_send(self, st.cfg.retry, term_retry_atom::value, st.term);
  });
  // Stopped (by its owner, or its contender died): the term ends with it.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    end_term(self, "the candidate stopped");
    self->quit(msg.reason);
  });
  return {
    [self](election::contend_atom, const v1::MasterInfo& info) {
      self->state.cfg.master.info = info;
      self->send(self->state.contender, election::contend_atom::value, to_json(info));
    },
    [self](election::elected_atom, uint64_t epoch) {
      auto& st = self->state;
      st.elected = true;
      if (st.suspended && st.master && epoch == st.elected_epoch) {
        st.suspended = false;
        ++st.term; // the grace timer of the suspension is stale now
        st.log->info("elected again with the same epoch {}: the term resumes", epoch);
        if (st.cfg.on_term)
          st.cfg.on_term(&st.term_info);
        return;
      }
      st.elected_epoch = epoch;
      start_term(self);
    },
    [self](election::lost_atom) {
      auto& st = self->state;
      st.elected = false;
      if (st.master && !st.suspended && st.cfg.suspend_grace > caf::timespan{0}) {
        st.suspended = true;
        st.log->warn("lost the election: not serving; the term waits {} ms for a re-election",
                     std::chrono::duration_cast<std::chrono::milliseconds>(st.cfg.suspend_grace)
                       .count());
        if (st.cfg.on_term)
          st.cfg.on_term(nullptr);
        self->delayed_send(self, st.cfg.suspend_grace, suspend_end_atom::value, st.term);
        return;
      }
      end_term(self, "lost the election");
    },
    [self](suspend_end_atom, uint64_t term) {
      auto& st = self->state;
      if (term == st.term && st.suspended) {
        end_term(self, "not re-elected within the grace");
      }
    },
    [self](term_retry_atom, uint64_t term) {
      if (term == self->state.term && self->state.elected)
        start_term(self);
    },
  };
}

} // namespace

caf::actor spawn_master_candidate(caf::actor_system& sys, candidate_config cfg) {
  return sys.spawn(candidate_fn, std::move(cfg));
}

} // namespace troupe::master
