// A detached actor that polls: it calls `poll` at once and again `interval` after each poll
// reports that it is done, so a slow peer never sees more than one outstanding request from it.
// Used by the read sides that serve HTTP from snapshots (master state_view, agent state view).
#pragma once

#include <functional>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

namespace troupe::runtime {

/// One poll: send requests with `self`, call `done()` exactly once when they ended (answered
/// or failed).
using poll_function = std::function<void(caf::event_based_actor* self, std::function<void()> done)>;

/// Spawns the poller (detached: whatever `poll` does with the answers runs on its own thread).
/// Stop it with anon_send_exit.
caf::actor spawn_poller(caf::actor_system& sys, caf::timespan interval, poll_function poll);

} // namespace troupe::runtime
