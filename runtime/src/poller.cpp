#include "troupe/runtime/poller.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

namespace troupe::runtime {

caf::actor spawn_poller(caf::actor_system& sys, caf::timespan interval, poll_function poll) {
  return sys.spawn<caf::detached>([interval, poll](caf::event_based_actor* self) {
    self->send(self, caf::tick_atom::value);
    return caf::behavior{
      [=](caf::tick_atom) {
        poll(self, [self, interval] { self->delayed_send(self, interval, caf::tick_atom::value); });
      },
    };
  });
}

} // namespace troupe::runtime
