// A Boost.Test fixture around CAF's deterministic scheduler (test_coordinator): one thread, a
// virtual clock, and explicit control over which message runs when. Tests of single actors
// (the "actor" tier) and, later, the simulator build on it.
//
//   run()              deliver messages until none is pending (timers untouched)
//   run_once()         deliver exactly one message
//   advance(d)         move the virtual clock by d, timer by timer, running messages in between
//   trigger_timeouts() fire every pending timer (jumps the clock), then run()
//   next_message(a)    peek at the next message in a's mailbox without consuming it
//   watch(a)           observe a's exit reason
//
// Every fixture has a seed ($TROUPE_SEED, else fresh); a failing test prints it together with
// the command that replays it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/error.hpp>
#include <caf/message.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/stateful_actor.hpp>

#include "troupe/runtime/node_config.hpp"

namespace troupe::test {

/// The seed for this test process: $TROUPE_SEED when set, else a fresh one (chosen once).
uint64_t test_seed();

/// The exit of a watched actor: empty until it terminated.
struct exit_record {
  bool down = false;
  caf::error reason;
};

class deterministic_fixture {
public:
  deterministic_fixture();
  virtual ~deterministic_fixture();

  deterministic_fixture(const deterministic_fixture&) = delete;
  deterministic_fixture& operator=(const deterministic_fixture&) = delete;

  /// Delivers messages until none is pending. Returns how many ran.
  size_t run();

  /// Delivers one message; false when none was pending.
  bool run_once();

  /// Advances virtual time by `d` one due timer at a time, with run() after each, so periodic
  /// timers re-armed by their handlers fire as often as they would in real time. Returns the
  /// number of timers fired.
  size_t advance(caf::timespan d);

  /// Fires every pending timer (the clock jumps to the last one), then run().
  size_t trigger_timeouts();

  /// True when a timer is pending.
  bool has_pending_timeout() const;

  /// The virtual time.
  caf::actor_clock::time_point now() const;

  /// Virtual time elapsed since the fixture started.
  caf::timespan elapsed() const;

  /// A copy of the next message in `hdl`'s mailbox, or nullopt when it is empty.
  std::optional<caf::message> next_message(const caf::actor& hdl) const;

  /// The next message of `hdl` as (Ts...), or nullopt when empty or of other types.
  template <class... Ts>
  std::optional<std::tuple<Ts...>> next_message_as(const caf::actor& hdl) const {
    auto msg = next_message(hdl);
    if (!msg || !msg->match_elements<Ts...>())
      return std::nullopt;
    return unpack<Ts...>(*msg, std::index_sequence_for<Ts...>{});
  }

  /// The state of a stateful actor (white-box inspection between steps).
  template <class State, class Handle>
  State& state_of(const Handle& hdl) {
    auto* ptr = caf::actor_cast<caf::abstract_actor*>(hdl);
    return dynamic_cast<caf::stateful_actor<State>&>(*ptr).state;
  }

  /// Observes `hdl`: the record fills in when it terminates (after run()).
  std::shared_ptr<exit_record> watch(const caf::actor& hdl);

  runtime::deterministic_config cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;
  const uint64_t seed;

private:
  template <class... Ts, size_t... Is>
  static std::tuple<Ts...> unpack(const caf::message& msg, std::index_sequence<Is...>) {
    return std::tuple<Ts...>{msg.get_as<Ts>(Is)...};
  }

  caf::actor_clock::time_point start_;
  std::vector<caf::actor> observers_;
};

} // namespace troupe::test
