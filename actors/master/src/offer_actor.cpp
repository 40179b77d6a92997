#include "troupe/master/offer_actor.hpp"

#include <memory>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace troupe::master {

namespace {

using offer_impl = offer_actor;

/// The resources of an offer and whether they were handed on, shared with the exit functor so
/// the return happens exactly once whichever way the actor ends.
struct offer_holding {
  allocator::recovered_resources give_back;
  bool handed_on = false;
};

struct offer_state {
  v1::Offer offer;
  std::shared_ptr<offer_holding> holding;
  resource_sink_actor allocator;
  offer_owner_actor owner;
  static inline const char* name = "troupe.offer";
};

using offer_pointer = offer_impl::stateful_pointer<offer_state>;

// Returns the resources (at most once) and ends the offer.
void give_back(offer_pointer self, caf::timespan refuse) {
  auto& h = *self->state.holding;
  if (!h.handed_on) {
    h.handed_on = true;
    auto msg = h.give_back;
    if (refuse > caf::timespan{0})
      msg.refuse = refuse;
    self->send(self->state.allocator, std::move(msg));
  }
  self->quit();
}

v1::Offer accept(offer_pointer self) {
  self->state.holding->handed_on = true; // the master owns the resources now
  auto offer = self->state.offer;
  self->quit();
  return offer;
}

void expire(offer_pointer self) {
  self->send(self->state.owner, offer_expired_atom::value, self->state.offer.id());
  give_back(self, caf::timespan{0});
}

offer_impl::behavior_type offer_fn(offer_pointer self, v1::Offer offer, std::string role,
                                   resources res, resource_sink_actor allocator,
                                   offer_owner_actor owner, offer_config cfg) {
  auto& st = self->state;
  st.holding = std::make_shared<offer_holding>();
  st.holding->give_back = {offer.framework_id(), offer.agent_id(), std::move(role), std::move(res),
                           std::nullopt};
  st.offer = std::move(offer);
  st.allocator = allocator;
  st.owner = std::move(owner);
  // Killed, crashed or shut down with its node: the resources still go back, once.
  self->attach_functor([holding = st.holding, allocator](const caf::error&) {
    if (!holding->handed_on) {
      holding->handed_on = true;
      caf::anon_send(allocator, holding->give_back);
    }
  });
  // Linked after the functor is attached: a supervisor already gone ends the offer at once,
  // and the resources still go back.
  if (cfg.supervisor)
    self->link_to(cfg.supervisor);
  // The expiry is the behavior's idle timeout, not a delayed message: a delayed message would
  // keep every ended offer actor allocated until it fired, while CAF cancels a timeout with the
  // actor. Every message an offer handles ends it, so "idle for `timeout`" means "unanswered".
  auto on_accept = [self](accept_atom) { return accept(self); };
  auto on_decline = [self](decline_atom, caf::timespan refuse) { give_back(self, refuse); };
  auto on_rescind = [self](rescind_atom, const std::string&) { give_back(self, caf::timespan{0}); };
  if (cfg.timeout <= caf::timespan{0}) // offer timeout switched off
    return {on_accept, on_decline, on_rescind};
  return {on_accept, on_decline, on_rescind, caf::after(cfg.timeout) >> [self] { expire(self); }};
}

} // namespace

offer_actor spawn_offer(caf::actor_system& sys, v1::Offer offer, std::string role,
                        resources res, resource_sink_actor allocator, offer_owner_actor owner,
                        offer_config cfg) {
  return sys.spawn(offer_fn, std::move(offer), std::move(role), std::move(res),
                   std::move(allocator), std::move(owner), cfg);
}

} // namespace troupe::master
