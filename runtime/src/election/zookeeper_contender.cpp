// The ZooKeeper contender: ephemeral+sequential `member_` znode, lowest sequence leads, each
// member watches its predecessor. Detached actor: zoo_* calls block (briefly, on loopback).
//
// Flow
//   spawn          open a session (events arrive as zk_event_atom)
//   contend        remember data; when connected: check()
//   check          ensure path, create our znode if we have none, list members:
//                  we are lowest (and at least `quorum` members contend)
//                                -> elected(epoch = our sequence + 1), watch our own znode
//                                   (and, with a quorum, the membership)
//                  otherwise     -> stop leading if we did, watch the predecessor
//                  a watch fires -> check again
//   disconnect     stop leading at once (lost); the session may still come back
//   reconnect      check again (our znode survived: same term, same epoch)
//   expiry         stop leading, new handle, new znode (larger epoch)
//   exit           close the session (znode deleted by the server), lost if leading
#include "troupe/runtime/election/election.hpp"

#include <chrono>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "zk_session.hpp"

namespace troupe::runtime::election {

namespace {

using namespace std::chrono_literals;

using zk_contender_actor = contender_actor::extend<
  caf::reacts_to<zk_event_atom, uint64_t, int, int>, // forwarded watcher event
  caf::reacts_to<zk_retry_atom, uint64_t>>;          // retry after a failed step

constexpr auto retry_delay = 250ms;
constexpr int max_check_rounds = 8;

class zk_contender {
public:
  zk_contender(caf::actor_control_block* self, zk_config cfg, leadership_listener listener)
    : self_(self), session_(self, std::move(cfg)),
      listener_(std::move(listener)) {
    reopen();
  }

  ~zk_contender() {
    session_.close();
    step_down();
  }

  void contend(std::string data) {
    bool changed = data != data_;
    data_ = std::move(data);
    contending_ = true;
    if (changed && !my_node_.empty() && connected_)
      zoo_set(session_.handle(), session_.child_path(my_node_).c_str(), data_.data(),
              static_cast<int>(data_.size()), -1);
    check();
  }

  void on_event(uint64_t generation, int type, int state) {
    if (generation != session_.generation())
      return; // a closed handle's leftovers
    if (type != ZOO_SESSION_EVENT) {
      check();
      return;
    }
    if (state == ZOO_CONNECTED_STATE) {
      connected_ = true;
      check();
    } else if (state == ZOO_EXPIRED_SESSION_STATE || state == ZOO_AUTH_FAILED_STATE) {
      step_down();
      reopen();
    } else { // connecting / associating: the first disconnect already ends the term
      connected_ = false;
      step_down();
    }
  }

  void on_retry(uint64_t generation) {
    retry_pending_ = false;
    if (generation != session_.generation())
      return;
    if (session_.handle() == nullptr)
      reopen();
    else
      check();
  }

private:
  void reopen() {
    connected_ = false;
    my_node_.clear();
    create_uncertain_ = false;
    if (!session_.open())
      schedule_retry();
  }

  void check() {
    if (!contending_ || !connected_)
      return;
    for (int round = 0; round < max_check_rounds; ++round) {
      std::vector<zk_member> members;
      int rc = my_node_.empty() ? claim_node() : ZOK;
      // With a quorum, every membership change matters to the lowest member: watch them all.
      if (rc == ZOK)
        rc = session_.list_members(members, session_.config().quorum > 1);
      if (rc != ZOK)
        return on_failure(rc);
      auto mine = std::find_if(members.begin(), members.end(),
                               [&](const zk_member& m) { return m.name == my_node_; });
      if (mine == members.end()) { // deleted under us (operator): a new znode, a new term
        step_down();
        my_node_.clear();
        continue;
      }
      bool lowest = mine == members.begin();
      auto watched = lowest ? *mine : *(mine - 1);
      rc = session_.watch_member(watched.name);
      if (rc == ZNONODE)
        continue; // it vanished between listing and watching: look again
      if (rc != ZOK)
        return on_failure(rc);
      if (lowest && members.size() >= session_.config().quorum)
        become_leader(mine->sequence + 1); // sequences start at 0; epoch 0 means "none"
      else
        step_down(); // not lowest, or lowest without a quorum of contenders
      return;
    }
    schedule_retry();
  }

  // Creates our znode (after adopting one a lost create may have left behind).
  int claim_node() {
    if (auto rc = session_.ensure_path(); rc != ZOK)
      return rc;
    if (create_uncertain_) {
      if (auto rc = adopt_node(); rc != ZOK || !my_node_.empty())
        return rc;
    }
    auto prefix = session_.config().path + "/member_";
    std::vector<char> created(prefix.size() + 32);
    auto rc = zoo_create(session_.handle(), prefix.c_str(), data_.data(),
                         static_cast<int>(data_.size()), &ZOO_OPEN_ACL_UNSAFE,
                         ZOO_EPHEMERAL_SEQUENTIAL, created.data(),
                         static_cast<int>(created.size()));
    if (rc != ZOK) {
      // The server may have created it before the connection dropped.
      create_uncertain_ = create_uncertain_ || rc == ZCONNECTIONLOSS || rc == ZOPERATIONTIMEOUT;
      return rc;
    }
    std::string full{created.data()};
    my_node_ = full.substr(full.rfind('/') + 1);
    return ZOK;
  }

  // Finds a member znode owned by this session (the result of a create whose answer was lost).
  int adopt_node() {
    std::vector<zk_member> members;
    if (auto rc = session_.list_members(members, false); rc != ZOK)
      return rc;
    auto sid = session_.session_id();
    for (const auto& m : members) {
      struct Stat stat;
      auto rc = zoo_exists(session_.handle(), session_.child_path(m.name).c_str(), 0, &stat);
      if (rc == ZOK && stat.ephemeralOwner == sid && sid != 0) {
        my_node_ = m.name;
        break;
      }
    }
    create_uncertain_ = false;
    return ZOK;
  }

  void on_failure(int rc) {
    // Connection problems end in a session event that calls check() again; anything else is
    // retried after a pause.
    if (!zk_connection_problem(rc) || connected_)
      schedule_retry();
  }

  void become_leader(uint64_t epoch) {
    if (leading_)
      return;
    leading_ = true;
    caf::anon_send(listener_, elected_atom::value, epoch);
  }

  void step_down() {
    if (!leading_)
      return;
    leading_ = false;
    caf::anon_send(listener_, lost_atom::value);
  }

  void schedule_retry() {
    if (retry_pending_)
      return;
    retry_pending_ = true;
    caf::delayed_anon_send(caf::actor_cast<caf::actor>(self_), retry_delay, zk_retry_atom::value, session_.generation());
  }

  caf::actor_control_block* self_; ///< raw: the state never outlives its actor
  zk_session session_;
  leadership_listener listener_;
  std::string data_;
  std::string my_node_; ///< our member znode's name, empty when we have none
  bool contending_ = false;
  bool connected_ = false;
  bool leading_ = false;
  bool create_uncertain_ = false;
  bool retry_pending_ = false;
};

struct zk_contender_state {
  std::unique_ptr<zk_contender> impl;
  static inline const char* name = "zk_contender";
};

zk_contender_actor::behavior_type
zk_contender_impl(zk_contender_actor::stateful_pointer<zk_contender_state> self, zk_config cfg,
                  leadership_listener listener) {
  self->state.impl = std::make_unique<zk_contender>(self->ctrl(), std::move(cfg),
                                                    std::move(listener));
  return {
    [=](contend_atom, std::string& data) { self->state.impl->contend(std::move(data)); },
    [=](zk_event_atom, uint64_t gen, int type, int state) {
      self->state.impl->on_event(gen, type, state);
    },
    [=](zk_retry_atom, uint64_t gen) { self->state.impl->on_retry(gen); },
  };
}

} // namespace

contender_actor spawn_zookeeper_contender(caf::actor_system& sys, zk_config cfg,
                                          leadership_listener listener) {
  return sys.spawn<caf::detached>(zk_contender_impl, std::move(cfg), std::move(listener));
}

} // namespace troupe::runtime::election
