// A stand-in for a remote peer (an agent, a scheduler, an executor) in actor tests: it sends
// what the test tells it to - as itself, so the actor under test answers it - and records every
// other message it receives.
//
//   auto agent = test::spawn_peer_probe(sys);
//   agent.send_to(master, register_msg);  run();
//   auto regs = agent.received<v1::AgentRegistered>();
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/message.hpp>
#include <caf/send.hpp>

namespace troupe::test {

struct peer_probe {
  caf::actor handle;
  std::shared_ptr<std::vector<caf::message>> log;

  /// Makes the probe send `msg` to `to` with itself as the sender (delivered on run()).
  template <class T>
  void send_to(const caf::actor& to, T msg) const {
    caf::anon_send(handle, caf::make_message(to, caf::make_message(std::move(msg))));
  }

  template <class Handle, class T>
  void send_to(const Handle& to, T msg) const {
    send_to(caf::actor_cast<caf::actor>(to), std::move(msg));
  }

  /// Every received message of type T, oldest first: T alone, or T followed by the handle its
  /// sender declared to be answered at (runtime/reply_address.hpp).
  template <class T>
  std::vector<T> received() const {
    std::vector<T> out;
    for (const auto& m : *log)
      if (m.match_elements<T>() || m.match_elements<T, caf::actor>())
        out.push_back(m.get_as<T>(0));
    return out;
  }

  /// Forgets what was received so far.
  void clear() const {
    log->clear();
  }

  /// Ends the probe (its monitors see it go down).
  void kill() const;
};

peer_probe spawn_peer_probe(caf::actor_system& sys);

} // namespace troupe::test
