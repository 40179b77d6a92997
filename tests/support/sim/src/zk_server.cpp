// The simulated ZooKeeper server actor, its control plane (sim_zookeeper) and the store that
// reaches the registry through it.
#include <cstdlib>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "troupe/messages/errc.hpp"
#include "troupe/runtime/transport.hpp"
#include "troupe/sim/zookeeper.hpp"
#include "zk_model.hpp"
#include "zk_protocol.hpp"

namespace troupe::sim {

namespace {

using zkexpire_atom = caf::atom_constant<caf::atom("zkexpire")>;
using zkforce_atom = caf::atom_constant<caf::atom("zkforce")>;

struct server_state {
  std::shared_ptr<zk_model> model;
  std::map<uint64_t, caf::actor> clients; ///< session -> the client as seen from zk
  static inline const char* name = "sim.zookeeper";
};

using server_pointer = caf::stateful_actor<server_state>*;

void deliver_watches(server_pointer self) {
  for (auto& [session, path] : self->state.model->take_fired())
    if (auto i = self->state.clients.find(session); i != self->state.clients.end())
      self->send(i->second, zkwatch_atom::value, path);
}

void end_session(server_pointer self, uint64_t session) {
  self->state.model->end(session, true);
  self->state.clients.erase(session);
  deliver_watches(self);
}

// One timer per session, re-armed for what is left: no polling.
void arm_expiry(server_pointer self, uint64_t session) {
  auto left = self->state.model->remaining(session, self->clock().now());
  if (!left)
    return;
  if (*left <= caf::timespan{0}) {
    end_session(self, session);
    return;
  }
  self->delayed_send(self, *left, zkexpire_atom::value, session);
}

// The reply to a request: `alive` false when the session is gone (the client then learns
// "session expired" when it reconnects).
caf::message reply(uint64_t xid, bool alive, std::string created = {},
                   std::vector<std::string> children = {}, bool exists = false) {
  return caf::make_message(zkreply_atom::value, xid, alive, std::move(created),
                           std::move(children), exists);
}

// Answers the current sender with `msg` (a plain message, not a response: clients send
// one-way requests and match replies by xid).
void answer(server_pointer self, caf::message msg) {
  if (auto to = caf::actor_cast<caf::actor>(self->current_sender()))
    self->send(to, std::move(msg));
}

caf::behavior server_fn(server_pointer self, std::shared_ptr<zk_model> model) {
  self->state.model = std::move(model);
  auto heard = [self](uint64_t session) {
    if (!self->state.model->alive(session))
      return false;
    self->state.model->touch(session, self->clock().now());
    return true;
  };
  return {
    [self](zkconnect_atom, uint64_t session, caf::timespan timeout,
           const std::string& client_node) {
      auto& m = *self->state.model;
      auto client = caf::actor_cast<caf::actor>(self->current_sender());
      if (session == 0) {
        session = m.open(client_node, timeout, self->clock().now());
      } else if (!m.alive(session)) {
        answer(self, caf::make_message(zksession_atom::value, session, false));
        return;
      }
      m.touch(session, self->clock().now());
      self->state.clients[session] = client;
      arm_expiry(self, session);
      answer(self, caf::make_message(zksession_atom::value, session, true));
    },
    [self, heard](zkcreate_atom, uint64_t session, uint64_t xid, const std::string& parent,
                  const std::string& prefix, std::string& data) {
      answer(self, !heard(session) ? reply(xid, false)
                                   : reply(xid, true, self->state.model->create_sequential(
                                                        session, parent, prefix, std::move(data))));
    },
    [self, heard](zkchildren_atom, uint64_t session, uint64_t xid, const std::string& parent) {
      answer(self, !heard(session) ? reply(xid, false)
                                   : reply(xid, true, {}, self->state.model->children(parent)));
    },
    [self, heard](zkexists_atom, uint64_t session, uint64_t xid, const std::string& path) {
      answer(self, !heard(session)
                     ? reply(xid, false)
                     : reply(xid, true, {}, {}, self->state.model->exists_watch(session, path)));
    },
    [self, heard](zkping_atom, uint64_t session, uint64_t xid) {
      answer(self, reply(xid, heard(session)));
    },
    [self](zkclose_atom, uint64_t session) {
      self->state.model->end(session, false);
      self->state.clients.erase(session);
      deliver_watches(self);
    },
    [self](zkexpire_atom, uint64_t session) { arm_expiry(self, session); },
    [self](zkforce_atom, const std::string& client_node) {
      for (auto session : self->state.model->sessions_of(client_node))
        end_session(self, session);
    },
  };
}

/// The registry reached through ZooKeeper: the memory store's contract, refused while cut off.
class zk_store : public runtime::store {
public:
  zk_store(std::shared_ptr<runtime::memory_store> data, runtime::sim_network& net,
           std::string node, std::shared_ptr<std::vector<std::string>> violations)
    : data_(std::move(data)), net_(net), node_(std::move(node)),
      violations_(std::move(violations)) {
  }

  caf::expected<std::optional<runtime::entry>> get(std::string_view key) override {
    if (auto err = reach())
      return err;
    return data_->get(key);
  }
  caf::expected<uint64_t> put(std::string_view key, std::string value,
                              std::optional<uint64_t> version) override {
    if (auto err = reach())
      return err;
    bool term_start = key == "epoch";
    auto epoch = term_start ? std::strtoull(value.c_str(), nullptr, 10) : 0;
    auto result = data_->put(key, std::move(value), version);
    if (result && term_start)
      epoch_ = epoch;
    else if (result)
      landed(key);
    return result;
  }
  caf::error erase(std::string_view key, std::optional<uint64_t> version) override {
    if (auto err = reach())
      return err;
    auto err = data_->erase(key, version);
    if (!err)
      landed(key);
    return err;
  }
  caf::expected<std::vector<std::string>> list(std::string_view prefix) override {
    if (auto err = reach())
      return err;
    return data_->list(prefix);
  }
  caf::error sync() override {
    return reach(); // a write ZooKeeper answered is on a quorum's disks already
  }
  caf::error commit(std::string_view guard, uint64_t version,
                    const std::vector<runtime::store_write>& writes) override {
    if (auto err = reach())
      return err;
    auto err = data_->commit(guard, version, writes);
    if (!err && !writes.empty())
      landed(writes.front().key);
    return err;
  }

private:
  // A write of this node's term landed: the registry must still be that term's. (The fencing
  // makes this hold; an unguarded write path of an older term would break it.)
  void landed(std::string_view key) {
    auto current = data_->get("epoch");
    if (!current || !*current)
      return;
    auto now = std::strtoull((*current)->value.c_str(), nullptr, 10);
    if (epoch_ < now)
      violations_->push_back(node_ + " (term epoch " + std::to_string(epoch_) + ") wrote "
                             + std::string{key} + " after epoch " + std::to_string(now)
                             + " began");
  }

  caf::error reach() const {
    if (net_.reachable(node_, sim_zookeeper::node))
      return caf::none;
    return make_error(errc::unavailable, "connection loss: " + node_ + " cannot reach zk");
  }

  std::shared_ptr<runtime::memory_store> data_;
  runtime::sim_network& net_;
  std::string node_;
  std::shared_ptr<std::vector<std::string>> violations_;
  uint64_t epoch_ = 0; ///< the epoch this node's last term start wrote
};

} // namespace

sim_zookeeper::sim_zookeeper(caf::actor_system& sys, runtime::sim_network& net)
  : net_(net),
    model_(std::make_shared<zk_model>()),
    frozen_(std::make_shared<std::set<std::string>>()) {
  server_ = sys.spawn(server_fn, model_);
  auto tp = net.transport_for(node);
  (void) tp->publish(server_, {node, port});
}

sim_zookeeper::~sim_zookeeper() {
  stop();
}

void sim_zookeeper::stop() {
  if (server_)
    caf::anon_send_exit(server_, caf::exit_reason::user_shutdown);
  server_ = nullptr;
}

void sim_zookeeper::expire(const std::string& client_node) {
  if (!server_)
    return;
  // As the real server does: it closes the session's connection, so the client hears of it
  // (connection loss, then "expired" when it reconnects) as soon as a TCP reset would tell it.
  net_.disconnect(node, client_node);
  caf::anon_send(server_, zkforce_atom::value, client_node);
}

void sim_zookeeper::freeze(const std::string& client_node, bool on) {
  if (on)
    frozen_->insert(client_node);
  else
    frozen_->erase(client_node);
}

bool sim_zookeeper::frozen(const std::string& client_node) const {
  return frozen_->count(client_node) > 0;
}

uint64_t sim_zookeeper::sessions_opened() const {
  return model_->opened();
}

uint64_t sim_zookeeper::sessions_expired() const {
  return model_->expired();
}

std::shared_ptr<runtime::store>
make_zk_store(std::shared_ptr<runtime::memory_store> data, runtime::sim_network& net,
              std::string client_node, std::shared_ptr<std::vector<std::string>> violations) {
  return std::make_shared<zk_store>(std::move(data), net, std::move(client_node),
                                    std::move(violations));
}

} // namespace troupe::sim
