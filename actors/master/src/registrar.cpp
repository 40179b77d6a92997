#include "troupe/master/registrar.hpp"

#include <deque>
#include <optional>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "troupe/master/registry_store.hpp"
#include "troupe/messages/errc.hpp"
#include "troupe/runtime/chaos.hpp"
#include "troupe/runtime/logging.hpp"

namespace troupe::master {

namespace {

using retry_atom = caf::atom_constant<caf::atom("regretry")>;

/// Registrar -> itself: sync the store now (a sync the chaos point deferred).
using sync_atom = caf::atom_constant<caf::atom("regsync")>;

using registrar_impl =
  registrar_actor::extend<caf::reacts_to<retry_atom>, caf::reacts_to<sync_atom>>;

struct registrar_state {
  registrar_config cfg;
  std::shared_ptr<spdlog::logger> log;
  struct pending_op {
    internal::RegistryOperation op;
    std::optional<caf::typed_response_promise<bool>> done; ///< a durable write's waiter
  };
  std::deque<pending_op> pending;
  bool waiting = false; ///< a retry is scheduled; new operations queue behind the failed one
  bool sync_deferred = false; ///< written but not synced (chaos): a crash now loses the writes
  std::vector<caf::typed_response_promise<bool>> unsynced; ///< durable waiters of those writes
  term_token term;      ///< this term's hold on the registry (set by recover): fences writes
  size_t isolating = 0;  ///< operations of a batch refused as malformed still to commit one by
                        ///< one (to find the culprit)
  static inline const char* name = "troupe.registrar";
};

using registrar_pointer = registrar_impl::stateful_pointer<registrar_state>;

void sync_and_answer(registrar_pointer self,
                     std::vector<caf::typed_response_promise<bool>> waiters);

// Ends the registrar (and with it the term): a newer term holds the registry.
void fenced(registrar_pointer self, const caf::error& err) {
  auto& st = self->state;
  st.log->error("registry fenced: {}; this term ends", error_message(err));
  for (auto& p : st.pending) // waiters learn why instead of timing out
    if (p.done)
      p.done->deliver(err);
  for (auto& rp : st.unsynced)
    rp.deliver(err);
  self->quit(err);
}

// Writes the queue in batches, each one store commit fenced by the term's token: all of a
// batch lands or none, and none once a newer term has begun (that ends this registrar, and its
// term with it). An operation the store refuses as malformed is dropped with an error
// (retrying it would block every later one); any other failure is retried.
void drain(registrar_pointer self) {
  auto& st = self->state;
  if (st.pending.empty())
    return;
  if (runtime::chaos::hit(runtime::chaos::point::registry_slow)) { // as if the store lagged
    st.waiting = true;
    self->delayed_send(self, st.cfg.retry, retry_atom::value);
    return;
  }
  bool wrote = false;
  std::vector<caf::typed_response_promise<bool>> written; // answered once synced
  while (!st.pending.empty()) {
    // A batch: at most max_batch operations and about max_batch_bytes of records (a
    // ZooKeeper multi is one request: it must stay under the server's 1 MiB limit); one at a
    // time while a batch the store refused as malformed is searched for its culprit. Its
    // records are built once: each operation's writes appended in queue order.
    size_t limit = st.isolating > 0 ? 1 : std::max<size_t>(st.cfg.max_batch, 1);
    std::vector<runtime::store_write> writes;
    size_t taken = 0;
    size_t bytes = 0;
    caf::error malformed;
    for (const auto& p : st.pending) {
      if (taken == limit || (taken > 0 && bytes >= st.cfg.max_batch_bytes))
        break;
      auto before = writes.size();
      if ((malformed = registry_writes(p.op, writes))) {
        writes.resize(before);
        break; // a malformed operation waits until it is at the front
      }
      for (auto i = before; i < writes.size(); ++i)
        bytes += writes[i].key.size() + (writes[i].value ? writes[i].value->size() : 0);
      ++taken;
    }
    auto drop_front = [&](const caf::error& why) { // dropped, its waiter told
      st.log->error("registry operation dropped: {}", error_message(why));
      if (st.pending.front().done)
        st.pending.front().done->deliver(why);
      st.pending.pop_front();
    };
    if (taken == 0) {
      drop_front(malformed);
      continue;
    }
    auto err = runtime::chaos::hit(runtime::chaos::point::registry_unavailable)
                 ? make_error(errc::unavailable, "chaos: the registry is unavailable")
                 : commit_writes(*st.cfg.store, st.term, writes);
    if (is(err, errc::stale_epoch)) {
      fenced(self, err);
      return;
    }
    if (is(err, errc::invalid_argument)) { // retrying it would block every later operation
      if (taken == 1) {
        drop_front(err);
        st.isolating = st.isolating > 0 ? st.isolating - 1 : 0;
      } else {
        st.isolating = taken; // find which one: commit them one by one
      }
      continue;
    }
    if (err) {
      st.log->error("registry write failed ({} queued), retrying: {}", st.pending.size(),
                    error_message(err));
      st.waiting = true;
      self->delayed_send(self, st.cfg.retry, retry_atom::value);
      break;
    }
    if (st.isolating > 0)
      --st.isolating;
    for (size_t i = 0; i < taken; ++i) {
      if (st.pending.front().done)
        written.push_back(std::move(*st.pending.front().done));
      st.pending.pop_front();
    }
    wrote = true;
  }
  if (wrote
      && (st.sync_deferred || runtime::chaos::hit(runtime::chaos::point::registry_sync_late))) {
    // As if the disk were slow to sync: durable waiters wait for it; a crash meanwhile loses
    // every write since the last sync, and none of them was confirmed.
    for (auto& rp : written)
      st.unsynced.push_back(std::move(rp));
    if (!st.sync_deferred)
      self->delayed_send(self, st.cfg.retry, sync_atom::value);
    st.sync_deferred = true;
    return;
  }
  if (wrote)
    sync_and_answer(self, std::move(written));
}

void sync_and_answer(registrar_pointer self,
                     std::vector<caf::typed_response_promise<bool>> waiters) {
  auto& st = self->state;
  caf::error synced;
  if ((synced = st.cfg.store->sync()))
    st.log->error("registry sync failed: {}", error_message(synced));
  for (auto& rp : waiters)
    if (synced)
      rp.deliver(synced);
    else
      rp.deliver(true);
}

caf::result<internal::Registry> recover(registrar_pointer self, uint64_t epoch, uint64_t held) {
  auto& store = *self->state.cfg.store;
  auto term = begin_term(store, epoch, held);
  if (!term)
    return term.error();
  auto registry = load_registry(store);
  if (!registry)
    return registry.error();
  registry->set_epoch(term->epoch);
  self->state.term = *term;
  self->state.log->info("registry recovered for epoch {}: {} agents ({} unreachable, {} gone), "
                        "{} frameworks",
                        term->epoch, registry->admitted_size(), registry->unreachable_size(),
                        registry->gone_size(), registry->frameworks_size());
  return std::move(*registry);
}

registrar_impl::behavior_type registrar_fn(registrar_pointer self, registrar_config cfg) {
  self->state.cfg = std::move(cfg);
  self->state.log = runtime::node_logger(self->state.cfg.node);
  return {
    [self](recover_atom, uint64_t epoch) { return recover(self, epoch, 0); },
    [self](recover_atom, uint64_t epoch, uint64_t held) { return recover(self, epoch, held); },
    [self](internal::RegistryOperation& op) {
      self->state.pending.push_back({std::move(op), std::nullopt});
      if (!self->state.waiting)
        drain(self);
    },
    [self](durable_atom, internal::RegistryOperation& op) -> caf::result<bool> {
      auto rp = self->make_response_promise<bool>();
      self->state.pending.push_back({std::move(op), rp});
      if (!self->state.waiting)
        drain(self);
      return rp;
    },
    [self](retry_atom) {
      self->state.waiting = false;
      drain(self);
    },
    [self](sync_atom) {
      auto& st = self->state;
      st.sync_deferred = false;
      sync_and_answer(self, std::move(st.unsynced));
      st.unsynced.clear();
    },
  };
}

} // namespace

registrar_actor spawn_registrar(caf::actor_system& sys, registrar_config cfg) {
  if (cfg.detached)
    return sys.spawn<caf::detached>(registrar_fn, std::move(cfg));
  return sys.spawn(registrar_fn, std::move(cfg));
}

} // namespace troupe::master
