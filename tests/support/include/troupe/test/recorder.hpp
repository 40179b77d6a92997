// A stand-in peer for actor tests: a typed actor accepting one message type that records each
// message with the virtual time (since `start`) at which it arrived.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include <caf/actor_clock.hpp>
#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace troupe::test {

/// What a recorder saw, oldest first.
template <class Msg>
struct recording {
  std::vector<std::pair<caf::timespan, Msg>> items;
};

/// Spawns a recorder behind `Handle` (a typed_actor<reacts_to<Msg>>). Stop it with
/// anon_send_exit like any other actor.
template <class Handle, class Msg>
Handle spawn_recorder(caf::actor_system& sys, std::shared_ptr<recording<Msg>> log,
                      caf::actor_clock::time_point start) {
  return sys.spawn([log, start](typename Handle::pointer self) -> typename Handle::behavior_type {
    return {[=](const Msg& msg) { log->items.emplace_back(self->clock().now() - start, msg); }};
  });
}

} // namespace troupe::test
