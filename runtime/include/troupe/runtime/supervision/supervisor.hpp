// The supervisor: spawns children from factories, links to them, and restarts the ones that
// exit abnormally after an exponential backoff. CAF 0.17 has links and monitors but no
// supervisors; this is the one troupe uses everywhere (DESIGN.md §3).
//
// Flow
//   start          every child is started in order and linked to the supervisor
//   child exits    normally         -> it stays stopped (transient semantics)
//                  abnormally       -> one_for_one: restart it after backoff(k)
//                                      one_for_all: kill its running siblings, restart all,
//                                      in order, after backoff(k)
//                  k = restarts of that child within `window`
//   intensity      a restart that would be the (max_restarts+1)-th within `window` makes the
//                  supervisor exit with errc::supervisor_gave_up; the link takes its children
//                  down and its own parent decides (escalation)
//   parent exits   abnormally -> the supervisor exits with the same reason, children follow
//   escalate_now   a child's exit reason the config names (e.g. a fenced registry) is not
//                  restarted: the supervisor exits with that reason at once
//   temporary      with `temporary_children`, actors that link themselves to the supervisor
//                  (an offer actor per offer) are its children too: never restarted, their
//                  exits only forgotten; when the supervisor ends, the links end them all
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "troupe/runtime/backoff.hpp"

namespace troupe::runtime {

/// Names the `which` request of supervisor_actor.
using which_atom = caf::atom_constant<caf::atom("which")>;

/// Names the `restarts` request of supervisor_actor.
using restarts_atom = caf::atom_constant<caf::atom("restarts")>;

/// The supervisor's interface.
using supervisor_actor = caf::typed_actor<
  /// Anyone -> supervisor: the current handle of child `name`; errc::unavailable while it waits
  /// for a restart, errc::not_found for unknown names. Idempotent.
  caf::replies_to<which_atom, std::string>::with<caf::actor>,
  /// Anyone -> supervisor: restarts performed so far (tests, metrics). Idempotent.
  caf::replies_to<restarts_atom>::with<uint64_t>>;

enum class restart_strategy {
  one_for_one, ///< restart only the child that failed
  one_for_all, ///< restart every child when one fails
};

/// How to start one child.
struct child_spec {
  std::string name;
  /// Spawns the child with the supervisor's system (`sup->spawn(...)`). Must not link: the
  /// supervisor links itself. Called on start and on every restart.
  std::function<caf::actor(caf::local_actor* sup)> start;
};

struct supervisor_config {
  restart_strategy strategy = restart_strategy::one_for_one;
  exponential_backoff backoff;          ///< delay before restart k of a child
  size_t max_restarts = 5;              ///< intensity: restarts allowed ...
  caf::timespan window = std::chrono::seconds{30}; ///< ... within this window
  std::string name = "supervisor";      ///< for logs and error texts
  /// Exit reasons of a child that end the supervisor with that reason instead of a restart
  /// (restarting cannot help: e.g. a newer leadership term fenced this one). Optional.
  std::function<bool(const caf::error&)> escalate_now;
  /// Accept temporary children: any actor that links itself to the supervisor (other than its
  /// parent) is one. Their exits never restart anything nor end the supervisor.
  bool temporary_children = false;
};

/// Spawns a supervisor with `children`, started in order. Stop it with
/// `anon_send_exit(sup, exit_reason::user_shutdown)`: its links stop the children.
supervisor_actor spawn_supervisor(caf::actor_system& sys, supervisor_config cfg,
                                  std::vector<child_spec> children);

/// Spawns a supervisor from inside another actor: a child_spec of a parent supervisor (which
/// links it), or an owner that monitors it. An abnormal exit of `parent` reaching it through a
/// link ends it with the same reason.
supervisor_actor spawn_supervisor(caf::local_actor* parent, supervisor_config cfg,
                                  std::vector<child_spec> children);

} // namespace troupe::runtime
