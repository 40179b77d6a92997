#include "echo_actor.hpp"

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "troupe/messages/builders.hpp"
#include "troupe/messages/validation.hpp"
#include "troupe/runtime/errors.hpp"

namespace troupe::demo {

namespace {

using echo_pointer = protocols::echo_actor::stateful_pointer<echo_state>;

v1::Pong on_ping(const v1::Ping& ping) {
  v1::Pong pong;
  pong.set_seq(ping.seq());
  return pong;
}

void on_update(echo_pointer self, const v1::StatusUpdate& update) {
  auto& st = self->state;
  ++st.one_way;
  if (auto err = validate(update)) {
    st.log->warn("dropping invalid status update: {}", runtime::render(err));
    return;
  }
  // One-way protocol: the reply is a message of its own, sent to whoever sent the update.
  self->send(caf::actor_cast<protocols::echo_client_actor>(self->current_sender()),
             make_acknowledgement(update, 0));
}

// Reflects any other message; counts the empty ones CAF delivers for undecodable bytes.
caf::result<caf::message> on_other(echo_pointer self, caf::message_view& view) {
  auto msg = view.move_content_to_message();
  if (msg.empty()) {
    ++self->state.undecodable;
    self->state.log->warn("dropped an undecodable message from {}",
                          caf::to_string(self->current_sender()));
    return caf::message{};
  }
  return msg;
}

protocols::echo_actor::behavior_type echo(echo_pointer self,
                                          std::shared_ptr<spdlog::logger> log) {
  self->state.log = std::move(log);
  self->set_default_handler([self](caf::scheduled_actor*, caf::message_view& view) {
    return on_other(self, view);
  });
  return {
    [](const v1::Ping& ping) { return on_ping(ping); },
    [self](const v1::StatusUpdate& update) { on_update(self, update); },
    [self](protocols::echo_stats_atom) {
      return caf::make_result(self->state.one_way, self->state.undecodable);
    },
  };
}

} // namespace

protocols::echo_actor spawn_echo(caf::actor_system& sys, std::shared_ptr<spdlog::logger> log) {
  return sys.spawn(echo, std::move(log));
}

} // namespace troupe::demo
