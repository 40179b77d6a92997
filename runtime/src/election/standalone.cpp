// The standalone backend: a single node that always leads (unless a test deposes it).
#include "troupe/runtime/election/election.hpp"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace troupe::runtime::election {

namespace {

// Leadership as the tests steer it: leads while contending and appointed.
class standalone_contender {
public:
  explicit standalone_contender(leadership_listener listener) : listener_(std::move(listener)) {
  }

  void contend(std::string data) {
    data_ = std::move(data);
    contending_ = true;
    update();
  }

  void appoint() {
    appointed_ = true;
    update();
  }

  void depose() {
    appointed_ = false;
    update();
  }

private:
  void update() {
    bool should_lead = contending_ && appointed_;
    if (should_lead == leading_)
      return;
    leading_ = should_lead;
    if (leading_)
      caf::anon_send(listener_, elected_atom::value, ++epoch_);
    else
      caf::anon_send(listener_, lost_atom::value);
  }

  leadership_listener listener_;
  std::string data_;
  bool contending_ = false;
  bool appointed_ = true;
  bool leading_ = false;
  uint64_t epoch_ = 0;
};

struct standalone_contender_state {
  std::unique_ptr<standalone_contender> impl;
  static inline const char* name = "standalone_contender";
};

standalone_contender_actor::behavior_type
standalone_contender_impl(standalone_contender_actor::stateful_pointer<standalone_contender_state> self,
                          leadership_listener listener) {
  self->state.impl = std::make_unique<standalone_contender>(std::move(listener));
  return {
    [=](contend_atom, std::string data) { self->state.impl->contend(std::move(data)); },
    [=](appoint_atom) { self->state.impl->appoint(); },
    [=](depose_atom) { self->state.impl->depose(); },
  };
}

struct standalone_detector_state {
  std::optional<std::string> leader;
  leader_listener listener;
  static inline const char* name = "standalone_detector";
};

standalone_detector_actor::behavior_type
standalone_detector_impl(standalone_detector_actor::stateful_pointer<standalone_detector_state> self,
                         std::optional<std::string> leader, leader_listener listener) {
  self->state.leader = leader;
  self->state.listener = listener;
  caf::anon_send(listener, leader_atom::value, std::move(leader));
  return {
    [=](leader_atom) { return self->state.leader; },
    [=](leader_atom, std::optional<std::string>& leader) {
      if (leader == self->state.leader)
        return;
      self->state.leader = leader;
      caf::anon_send(self->state.listener, leader_atom::value, std::move(leader));
    },
  };
}

} // namespace

standalone_contender_actor spawn_standalone_contender(caf::actor_system& sys,
                                                      leadership_listener listener) {
  return sys.spawn(standalone_contender_impl, std::move(listener));
}

standalone_detector_actor spawn_standalone_detector(caf::actor_system& sys,
                                                    std::optional<std::string> leader,
                                                    leader_listener listener) {
  return sys.spawn(standalone_detector_impl, std::move(leader), std::move(listener));
}

} // namespace troupe::runtime::election
