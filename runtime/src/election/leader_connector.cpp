#include "troupe/runtime/election/leader_connector.hpp"

#include <algorithm>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "troupe/messages/json.hpp"
#include "troupe/messages/proto.hpp"
#include "troupe/messages/errc.hpp"
#include "troupe/runtime/logging.hpp"
#include "troupe/runtime/transport.hpp"

namespace troupe::runtime::election {

namespace {

using retry_atom = caf::atom_constant<caf::atom("lcretry")>;

using connector_impl
  = leader_listener::extend<caf::reacts_to<retry_atom, uint64_t>>;

struct connector_state {
  caf::actor transport_connector;
  caf::actor client;
  caf::timespan retry;
  v1::MasterInfo current; ///< the leader being connected to or handed out (id empty: none)
  uint64_t generation = 0;
  uint32_t failures = 0;  ///< failed attempts at the current leader (the backoff step)
  caf::actor_addr handed; ///< the handle the client has (watched: a broken connection)
  static inline const char* name = "troupe.leader_connector";
};

using connector_pointer = connector_impl::stateful_pointer<connector_state>;

void try_connect(connector_pointer self, uint64_t generation) {
  auto& st = self->state;
  if (generation != st.generation)
    return;
  auto info = st.current;
  self
    ->request(st.transport_connector, std::chrono::seconds{10}, connect_atom::value,
              info.hostname(), static_cast<uint16_t>(info.actor_port()))
    .then(
      [self, generation, info](caf::actor& master) {
        auto& st = self->state;
        if (generation != st.generation)
          return;
        if (st.handed)
          self->demonitor(st.handed);
        st.handed = master.address();
        self->monitor(master); // its down message: the connection broke
        runtime::node_logger("election")->info("connected to the master at {}:{}",
                                                info.hostname(), info.actor_port());
        caf::anon_send(st.client, leader_atom::value, std::move(master), info);
      },
      [self, generation, info](caf::error& err) {
        if (generation != self->state.generation)
          return;
        // Backoff: retry, doubling to 4 x retry; one line per attempt.
        auto& st = self->state;
        auto delay = st.retry * (1u << std::min(st.failures++, 2u));
        runtime::node_logger("election")
          ->warn("cannot reach the master at {}:{} ({}); trying again in {:.1f} s",
                 info.hostname(), info.actor_port(), error_message(err),
                 std::chrono::duration<double>(delay).count());
        self->delayed_send(self, delay, retry_atom::value, generation);
      });
}

void on_leader(connector_pointer self, const std::optional<std::string>& data) {
  auto& st = self->state;
  if (!data) {
    st.current.Clear();
    ++st.generation; // stop retrying a leader that left
    return;
  }
  v1::MasterInfo info;
  if (auto err = from_json(*data, info)) {
    runtime::node_logger("election")
      ->warn("ignoring a leader announcement that is not a MasterInfo: {}", error_message(err));
    return;
  }
  if (info.id() == st.current.id() && info.epoch() == st.current.epoch())
    return;
  st.current = std::move(info);
  st.failures = 0;
  try_connect(self, ++st.generation);
}

connector_impl::behavior_type connector_fn(connector_pointer self, caf::actor transport_connector,
                                           caf::actor client, caf::timespan retry) {
  self->state.transport_connector = std::move(transport_connector);
  self->state.client = client;
  self->state.retry = retry;
  self->monitor(client);
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    if (msg.source == st.client.address()) {
      self->quit(); // the client ended
      return;
    }
    if (!st.handed || msg.source != st.handed)
      return; // a handle handed out before (its down was already queued when we let go)
    st.handed = caf::actor_addr{};
    if (st.current.id().empty())
      return; // that leader left: the next announcement connects
    runtime::node_logger("election")
      ->warn("lost the connection to the master at {}:{}; reconnecting", st.current.hostname(),
             st.current.actor_port());
    st.failures = 0;
    self->delayed_send(self, st.retry, retry_atom::value, ++st.generation);
  });
  return {
    [self](leader_atom, const std::optional<std::string>& data) { on_leader(self, data); },
    [self](retry_atom, uint64_t generation) { try_connect(self, generation); },
  };
}

} // namespace

leader_listener spawn_leader_connector(caf::actor_system& sys, caf::actor connector,
                                       caf::actor client, caf::timespan retry) {
  return caf::actor_cast<leader_listener>(
    sys.spawn(connector_fn, std::move(connector), std::move(client), retry));
}

} // namespace troupe::runtime::election
