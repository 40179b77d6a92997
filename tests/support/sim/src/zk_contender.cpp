// The simulated ZooKeeper contender (zookeeper.hpp): the real contender's flow
// (runtime/src/election/zookeeper_contender.cpp) made asynchronous over the simulated network,
// with the C client's session rules: a ping every T/3, connection loss after 2T/3 without an
// answer (or when the connection breaks), then reconnecting with the same session.
//
// Flow
//   connect        transport connector -> server proxy -> (zkconnect, session) -> zksession
//   check          create member (if none) -> children -> lowest: elected(seq + 1)
//                                                       else: lost; exists-watch predecessor
//   zkwatch        check again
//   loss           lost at once; reconnect (same session: same member, same epoch if lowest)
//   expired        lost; a new session, a new member, a larger epoch
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "troupe/runtime/transport.hpp"
#include "troupe/sim/zookeeper.hpp"
#include "zk_protocol.hpp"

namespace troupe::sim {

namespace {

namespace election = runtime::election;

using zktick_atom = caf::atom_constant<caf::atom("zktick")>;
using zkloss_atom = caf::atom_constant<caf::atom("zkloss")>;

// Untyped: it talks to the server through untyped proxies (CAF 0.17's typed actors cannot
// send to those); spawn_zk_contender hands it out as a contender_actor.

constexpr const char* election_path = "/troupe/leader";
constexpr const char* member_prefix = "member_";

struct reply_data {
  std::string created;
  std::vector<std::string> children;
  bool exists = false;
};

using continuation = std::function<void(reply_data&)>;

struct contender_state {
  std::string node;
  caf::actor connector;
  caf::timespan timeout{0};
  std::shared_ptr<const std::set<std::string>> frozen;
  election::leadership_listener listener;
  std::string data;
  bool contending = false;
  caf::actor server;      ///< the server as seen from our node (null: not connected)
  uint64_t session = 0;   ///< 0: none yet (or expired)
  bool connected = false;
  bool connecting = false;
  caf::actor_clock::time_point connect_started;
  caf::actor_clock::time_point last_reply;
  uint64_t loss_timer = 0;
  uint64_t next_xid = 0;
  std::map<uint64_t, continuation> pending;
  std::string member;     ///< our znode's name (empty: none)
  bool leading = false;
  bool checking = false;
  bool again = false;
  static inline const char* name = "sim.zk_contender";

  ~contender_state() {
    if (leading)
      caf::anon_send(listener, election::lost_atom::value);
    if (server && session != 0) // a clean stop closes the session: the member goes at once
      caf::anon_send(server, zkclose_atom::value, session);
  }
};

using contender_pointer = caf::stateful_actor<contender_state>*;

bool is_frozen(contender_pointer self) {
  return self->state.frozen->count(self->state.node) > 0;
}

void check(contender_pointer self);

void step_down(contender_pointer self) {
  auto& st = self->state;
  if (!st.leading)
    return;
  st.leading = false;
  caf::anon_send(st.listener, election::lost_atom::value);
}

void arm_loss(contender_pointer self) {
  auto& st = self->state;
  st.last_reply = self->clock().now();
  self->delayed_send(self, st.timeout * 2 / 3, zkloss_atom::value, ++st.loss_timer);
}

void connect(contender_pointer self) {
  auto& st = self->state;
  st.connecting = true;
  st.connect_started = self->clock().now();
  self
    ->request(st.connector, st.timeout, caf::connect_atom::value,
              std::string{sim_zookeeper::node}, sim_zookeeper::port)
    .then(
      [self](caf::actor& server) {
        auto& st = self->state;
        if (!st.connecting || st.connected)
          return;
        if (st.server)
          self->demonitor(st.server);
        st.server = server;
        self->monitor(server); // its down message: the connection broke
        self->send(server, zkconnect_atom::value, st.session, st.timeout, st.node);
      },
      [self](caf::error&) { self->state.connecting = false; }); // the next tick tries again
}

// Connection loss: stop leading at once, forget what was in flight, reconnect (same session).
void lose_connection(contender_pointer self) {
  auto& st = self->state;
  st.connected = false;
  st.pending.clear();
  st.checking = false;
  st.again = false;
  if (st.server)
    self->demonitor(st.server);
  st.server = nullptr;
  step_down(self);
  connect(self);
}

// The server no longer knows our session: a new one, a new member, a larger epoch.
void session_expired(contender_pointer self) {
  auto& st = self->state;
  step_down(self);
  st.member.clear();
  st.session = 0;
  st.connected = false;
  st.pending.clear();
  st.checking = false;
  st.again = false;
  if (st.server) {
    st.connecting = true;
    st.connect_started = self->clock().now();
    self->send(st.server, zkconnect_atom::value, uint64_t{0}, st.timeout, st.node);
  } else {
    connect(self);
  }
}

// (atom, session, xid, xs...) to the server; `then` runs with its reply.
template <class Atom, class... Ts>
void request(contender_pointer self, continuation then, Atom what, Ts&&... xs) {
  auto& st = self->state;
  auto xid = ++st.next_xid;
  st.pending.emplace(xid, std::move(then));
  self->send(st.server, what, st.session, xid, std::forward<Ts>(xs)...);
}

uint64_t sequence_of(const std::string& member) {
  return std::stoull(member.substr(std::string{member_prefix}.size()));
}

void finish_check(contender_pointer self) {
  auto& st = self->state;
  st.checking = false;
  if (st.again) {
    st.again = false;
    check(self);
  }
}

void list(contender_pointer self) {
  request(
    self,
    [self](reply_data& r) {
      auto& st = self->state;
      auto mine = std::find(r.children.begin(), r.children.end(), st.member);
      if (mine == r.children.end()) { // our member is gone (it should not be: re-create)
        st.member.clear();
        st.checking = false;
        check(self);
        return;
      }
      if (mine == r.children.begin()) {
        if (!st.leading) {
          st.leading = true;
          caf::anon_send(st.listener, election::elected_atom::value, sequence_of(st.member) + 1);
        }
        finish_check(self);
        return;
      }
      step_down(self);
      auto predecessor = std::string{election_path} + "/" + *std::prev(mine);
      request(
        self,
        [self](reply_data& e) {
          if (!e.exists) { // gone meanwhile: look again
            list(self);
            return;
          }
          finish_check(self); // the watch calls us when it goes
        },
        zkexists_atom::value, std::move(predecessor));
    },
    zkchildren_atom::value, std::string{election_path});
}

// Ours must be the lowest member to lead; every change re-runs the whole check.
void check(contender_pointer self) {
  auto& st = self->state;
  if (!st.connected || !st.contending)
    return;
  if (st.checking) {
    st.again = true;
    return;
  }
  st.checking = true;
  if (!st.member.empty()) {
    list(self);
    return;
  }
  request(
    self,
    [self](reply_data& r) {
      self->state.member = r.created;
      list(self);
    },
    zkcreate_atom::value, std::string{election_path}, std::string{member_prefix}, st.data);
}

caf::behavior contender_fn(contender_pointer self, std::string node,
                                           caf::actor connector, caf::timespan timeout,
                                           std::shared_ptr<const std::set<std::string>> frozen,
                                           election::leadership_listener listener) {
  auto& st = self->state;
  st.node = std::move(node);
  st.connector = std::move(connector);
  st.timeout = timeout;
  st.frozen = std::move(frozen);
  st.listener = std::move(listener);
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    if (st.server && msg.source == st.server.address() && !is_frozen(self)) {
      st.server = nullptr;
      if (st.connected || st.connecting) {
        st.connecting = false;
        lose_connection(self);
      }
    }
  });
  connect(self);
  self->delayed_send(self, timeout / 3, zktick_atom::value);
  return {
    [self](election::contend_atom, std::string& data) {
      auto& st = self->state;
      st.data = std::move(data);
      st.contending = true;
      check(self);
    },
    [self](zktick_atom) {
      auto& st = self->state;
      self->delayed_send(self, st.timeout / 3, zktick_atom::value);
      if (is_frozen(self))
        return; // a frozen client does nothing, and notices nothing
      auto now = self->clock().now();
      if (st.connected) {
        if (now - st.last_reply >= st.timeout * 2 / 3) { // e.g. just thawed
          lose_connection(self);
          return;
        }
        request(self, [](reply_data&) {}, zkping_atom::value);
      } else if (!st.connecting || now - st.connect_started > st.timeout) {
        connect(self);
      }
    },
    [self](zkloss_atom, uint64_t timer) {
      auto& st = self->state;
      if (timer == st.loss_timer && st.connected && !is_frozen(self))
        lose_connection(self);
    },
    [self](zksession_atom, uint64_t session, bool ok) {
      auto& st = self->state;
      if (is_frozen(self) || !st.connecting)
        return;
      st.connecting = false;
      if (!ok) {
        session_expired(self);
        return;
      }
      st.session = session;
      st.connected = true;
      arm_loss(self);
      check(self);
    },
    [self](zkreply_atom, uint64_t xid, bool alive, std::string& created,
           std::vector<std::string>& children, bool exists) {
      auto& st = self->state;
      if (is_frozen(self))
        return;
      auto i = st.pending.find(xid);
      if (i == st.pending.end())
        return; // from before a loss
      auto then = std::move(i->second);
      st.pending.erase(i);
      arm_loss(self);
      if (!alive) {
        session_expired(self);
        return;
      }
      reply_data r{std::move(created), std::move(children), exists};
      then(r);
    },
    [self](zkwatch_atom, const std::string&) {
      if (!is_frozen(self))
        check(self);
    },
  };
}

} // namespace

runtime::election::contender_actor
spawn_zk_contender(caf::actor_system& sys, const sim_zookeeper& zk, runtime::transport& tp,
                   const std::string& client_node, caf::timespan session_timeout,
                   runtime::election::leadership_listener listener) {
  return caf::actor_cast<runtime::election::contender_actor>(
    sys.spawn(contender_fn, client_node, tp.connector(), session_timeout, zk.frozen_nodes(),
              std::move(listener)));
}

} // namespace troupe::sim
