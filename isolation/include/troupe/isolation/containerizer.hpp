// The containerizer: the agent's only way to start and stop the processes of its containers.
// Node-internal protocol (agent <-> containerizer, same process): plain structs, never on the
// wire. This is the POSIX containerizer: every container is one process group, no resource
// limits (isolation "none"); the cgroups issue adds a containerizer with the same interface.
#pragma once

#include <memory>
#include <optional>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_actor.hpp>

#include "troupe/isolation/isolator.hpp"
#include "troupe/messages/proto.hpp"

namespace troupe::isolation {

/// What to run in a new container, and where.
struct launch_request {
  /// Unique on the agent while the container lives; only `value` is the key.
  v1::ContainerID container_id;
  /// shell = true: `/bin/sh -c value`; otherwise exec `value` (searched in the agent's PATH
  /// when it has no '/') with `arguments` as argv (argv[0] included; empty = {value}).
  /// `user` must be empty or the agent's own user: the POSIX launcher does not switch users.
  v1::CommandInfo command;
  /// Working directory of the process, created with its parents when missing. stdout and
  /// stderr are appended to `sandbox`/stdout and `sandbox`/stderr; stdin is /dev/null.
  std::string sandbox;
  /// Added to the agent's environment, overriding it; `command.environment` is applied last
  /// and wins over both (as in Mesos: the user's command has the final word).
  std::vector<std::pair<std::string, std::string>> environment;
  /// What the container may use; the isolators in force apply it (POSIX: nothing).
  container_limits limits;
};

/// The container runs.
struct container_launched {
  v1::ContainerID container_id;
  int pid = 0; ///< the main process; also the id of the container's process group
};

/// The container's main process ended (and the rest of its process group was killed).
struct container_exited {
  v1::ContainerID container_id;
  int wait_status = 0;    ///< raw waitpid status of the main process (use WIFEXITED & co.)
  bool destroyed = false; ///< true when a destroy was requested before it ended
  std::string message;    ///< "exited with status 3", "killed by signal 9 (Killed)"
  std::optional<limitation> limit; ///< set when an isolator's limit ended it (e.g. OOM)
};

using launch_atom = caf::atom_constant<caf::atom("launch")>;
using destroy_atom = caf::atom_constant<caf::atom("destroy")>;
using containers_atom = caf::atom_constant<caf::atom("contlist")>;
using recover_atom = caf::atom_constant<caf::atom("contrecov")>;
using usage_atom = caf::atom_constant<caf::atom("contusage")>;
using limitation_atom = caf::atom_constant<caf::atom("contlimit")>;
using update_atom = caf::atom_constant<caf::atom("contupdate")>;

/// Who hears about exits: the agent (or a test's scoped actor).
using container_watcher_actor = caf::typed_actor<
  /// Containerizer -> agent: a container ended; sent exactly once per launched container,
  /// after which its id is free again.
  caf::reacts_to<container_exited>>;

using containerizer_actor = caf::typed_actor<
  /// Agent -> containerizer: start a container. Replies once the process runs. Errors:
  /// errc::invalid_argument (empty id/command/sandbox, bad variable name, other user),
  /// errc::already_exists (the id is live), errc::not_found (no such program; the text names
  /// it and says why), errc::io_error (sandbox or spawn failure, with the errno text). On
  /// error nothing stays behind: no process, no entry. Not idempotent: a retry with the same
  /// id while it lives fails with already_exists.
  caf::replies_to<launch_atom, launch_request>::with<container_launched>,
  /// Agent -> containerizer: stop a container: SIGTERM to its process group, then SIGKILL to
  /// the group after `grace` if the main process is still alive (at once when grace <= 0).
  /// The end is reported by container_exited with destroyed = true. Idempotent (a second
  /// destroy keeps the first deadline); unknown ids are ignored.
  caf::reacts_to<destroy_atom, v1::ContainerID, caf::timespan>,
  /// Agent -> containerizer: the live containers (launched, exit not yet reported). Read-only.
  caf::replies_to<containers_atom>::with<std::vector<v1::ContainerID>>,
  /// Restarted agent -> containerizer: containers a previous agent process launched (from its
  /// checkpoint). Those whose process still lives are adopted: watched (they are no longer our
  /// children, so their exit status is unknown), destroyable, killed when the containerizer
  /// ends. Replies with the adopted ones; the others are gone. Idempotent.
  caf::replies_to<recover_atom, std::vector<container_launched>>::with<
    std::vector<v1::ContainerID>>,
  /// Agent (or its HTTP edge) -> containerizer: what a live container uses now, as far as the
  /// isolation in force can measure it. errc::not_found for an unknown container. Read-only.
  caf::replies_to<usage_atom, v1::ContainerID>::with<v1::ResourceStatistics>,
  /// Agent -> containerizer: the limits the kernel enforced on a container so far (e.g. an
  /// OOM kill of one of its processes); empty when none or unknown. The agent asks before it
  /// forwards a TASK_FAILED, so the task fails with the limitation as its reason. Read-only.
  caf::replies_to<limitation_atom, v1::ContainerID>::with<std::vector<limitation>>,
  /// Agent -> containerizer: a live container's limits change (another task joined its
  /// executor). Failures are logged; unknown ids are ignored. Idempotent.
  caf::reacts_to<update_atom, v1::ContainerID, container_limits>>;

/// Settings of a containerizer.
struct containerizer_config {
  /// How often live containers are polled with waitpid(WNOHANG); also the worst-case delay
  /// of container_exited. No polling happens while no container lives.
  caf::timespan reap_interval = std::chrono::milliseconds{20};
  /// The node whose logger (runtime::node_logger) it writes to.
  std::string node = "agent";
};

/// The former name, kept for callers of the POSIX containerizer.
using posix_containerizer_config = containerizer_config;

/// Spawns a containerizer composing the launcher with `isolators` (in order), as a detached
/// actor (its own thread: it makes blocking system calls). Containers whose isolators hand
/// out cgroup.procs files start through the handshake launcher (placed before they exec),
/// others through posix_spawn. Exits go to `watcher`. At recovery, containers the isolators
/// hold that the agent did not name are destroyed. When the actor terminates, for whatever
/// reason, it SIGKILLs and cleans up every live container (no exit is reported then).
containerizer_actor spawn_containerizer(caf::actor_system& sys, containerizer_config cfg,
                                        std::vector<std::shared_ptr<isolator>> isolators,
                                        container_watcher_actor watcher);

/// spawn_containerizer with the POSIX isolator only (process groups, no limits).
containerizer_actor spawn_posix_containerizer(caf::actor_system& sys, containerizer_config cfg,
                                              container_watcher_actor watcher);

} // namespace troupe::isolation

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(troupe::isolation::launch_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(troupe::isolation::container_launched)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<troupe::isolation::container_launched>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(troupe::isolation::container_exited)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<troupe::isolation::limitation>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(troupe::isolation::container_limits)
