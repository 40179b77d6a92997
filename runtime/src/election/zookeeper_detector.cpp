// The ZooKeeper detector: watches the children of the election path and reports the data of
// the lowest `member_` (the leader's MasterInfo JSON). Detached actor: zoo_* calls block.
//
// Flow
//   spawn        open a session
//   connected    refresh: list members with a child watch; none -> nullopt; else read the
//                lowest one's data (it vanished meanwhile -> list again); report on change
//   path absent  watch its creation, report nullopt
//   watch fires  refresh
//   disconnect   keep the last observation (the leader may well still lead)
//   expiry       new handle; refresh when it connects
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

using zk_detector_actor = detector_actor::extend<
  caf::reacts_to<zk_event_atom, uint64_t, int, int>, // forwarded watcher event
  caf::reacts_to<zk_retry_atom, uint64_t>>;          // retry after a failed step

constexpr auto retry_delay = 250ms;
constexpr int max_refresh_rounds = 8;

class zk_detector {
public:
  zk_detector(caf::actor_control_block* self, zk_config cfg, leader_listener listener)
    : self_(self), session_(self, std::move(cfg)), listener_(std::move(listener)) {
    reopen();
  }

  const std::optional<std::string>& leader() const {
    return leader_data_;
  }

  void on_event(uint64_t generation, int type, int state) {
    if (generation != session_.generation())
      return;
    if (type != ZOO_SESSION_EVENT) {
      refresh();
      return;
    }
    if (state == ZOO_CONNECTED_STATE) {
      connected_ = true;
      refresh();
    } else if (state == ZOO_EXPIRED_SESSION_STATE || state == ZOO_AUTH_FAILED_STATE) {
      reopen();
    } else {
      connected_ = false;
    }
  }

  void on_retry(uint64_t generation) {
    retry_pending_ = false;
    if (generation != session_.generation())
      return;
    if (session_.handle() == nullptr)
      reopen();
    else
      refresh();
  }

private:
  void reopen() {
    connected_ = false;
    if (!session_.open())
      schedule_retry();
  }

  void refresh() {
    if (!connected_)
      return;
    for (int round = 0; round < max_refresh_rounds; ++round) {
      std::vector<zk_member> members;
      auto rc = session_.list_members(members, true);
      if (rc == ZNONODE) { // no election yet: wait for the path
        rc = session_.watch_path();
        if (rc == ZOK)
          continue; // created meanwhile
        if (rc == ZNONODE)
          return report(std::string{}, std::nullopt);
      }
      if (rc != ZOK)
        return on_failure(rc);
      if (members.empty())
        return report(std::string{}, std::nullopt);
      std::string data;
      rc = session_.read_member(members.front().name, data);
      if (rc == ZNONODE)
        continue; // the leader left between listing and reading
      if (rc != ZOK)
        return on_failure(rc);
      return report(members.front().name, std::move(data));
    }
    schedule_retry();
  }

  void report(const std::string& node, std::optional<std::string> data) {
    if (reported_ && node == leader_node_ && data == leader_data_)
      return;
    reported_ = true;
    leader_node_ = node;
    leader_data_ = data;
    caf::anon_send(listener_, leader_atom::value, std::move(data));
  }

  void on_failure(int rc) {
    if (!zk_connection_problem(rc) || connected_)
      schedule_retry();
  }

  void schedule_retry() {
    if (retry_pending_)
      return;
    retry_pending_ = true;
    caf::delayed_anon_send(caf::actor_cast<caf::actor>(self_), retry_delay, zk_retry_atom::value,
                           session_.generation());
  }

  caf::actor_control_block* self_; ///< raw: the state never outlives its actor
  zk_session session_;
  leader_listener listener_;
  bool connected_ = false;
  bool retry_pending_ = false;
  bool reported_ = false;
  std::string leader_node_; ///< the leader's znode name, empty when none
  std::optional<std::string> leader_data_;
};

struct zk_detector_state {
  std::unique_ptr<zk_detector> impl;
  static inline const char* name = "zk_detector";
};

zk_detector_actor::behavior_type
zk_detector_impl(zk_detector_actor::stateful_pointer<zk_detector_state> self, zk_config cfg,
                 leader_listener listener) {
  self->state.impl = std::make_unique<zk_detector>(self->ctrl(), std::move(cfg),
                                                   std::move(listener));
  return {
    [=](leader_atom) { return self->state.impl->leader(); },
    [=](zk_event_atom, uint64_t gen, int type, int state) {
      self->state.impl->on_event(gen, type, state);
    },
    [=](zk_retry_atom, uint64_t gen) { self->state.impl->on_retry(gen); },
  };
}

} // namespace

detector_actor spawn_zookeeper_detector(caf::actor_system& sys, zk_config cfg,
                                        leader_listener listener) {
  return sys.spawn<caf::detached>(zk_detector_impl, std::move(cfg), std::move(listener));
}

} // namespace troupe::runtime::election
