#include "troupe/test/peer_probe.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>

namespace troupe::test {

namespace {

caf::behavior probe_fn(caf::event_based_actor* self,
                       std::shared_ptr<std::vector<caf::message>> log) {
  self->set_default_handler(
    [log](caf::scheduled_actor*, caf::message_view& x) -> caf::result<caf::message> {
      log->push_back(x.copy_content_to_message());
      return caf::message{};
    });
  // An error reply is recorded like any message (CAF's default would end the probe).
  self->set_error_handler([log](caf::error& err) { log->push_back(caf::make_message(err)); });
  return {
    [self](const caf::actor& to, const caf::message& msg) { self->send(to, msg); },
  };
}

} // namespace

void peer_probe::kill() const {
  caf::anon_send_exit(handle, caf::exit_reason::kill);
}

peer_probe spawn_peer_probe(caf::actor_system& sys) {
  auto log = std::make_shared<std::vector<caf::message>>();
  return {sys.spawn(probe_fn, log), log};
}

} // namespace troupe::test
