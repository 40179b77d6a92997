// The containerizer actor: composes the launcher with the isolators (prepare → launch → poll →
// limitation → cleanup), keeps the bookkeeping (which container is which pid, which is being
// destroyed) and runs the reap poll. It runs detached because spawning, waitpid, cgroup file
// I/O and the kill-and-reap at exit are system calls that may block briefly.
#include "troupe/isolation/containerizer.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <cstdint>
#include <map>
#include <memory>

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "troupe/isolation/handshake_launcher.hpp"
#include "troupe/isolation/posix_isolator.hpp"
#include "troupe/isolation/posix_launcher.hpp"
#include "troupe/messages/errc.hpp"
#include "troupe/runtime/errors.hpp"
#include "troupe/runtime/logging.hpp"
#include "troupe/runtime/unix_time.hpp"

namespace troupe::isolation {

namespace {

/// Names the private messages.
using reap_atom = caf::atom_constant<caf::atom("contreap")>;
using escalate_atom = caf::atom_constant<caf::atom("contkill")>;

using containerizer_impl = containerizer_actor::extend<
  /// Containerizer -> itself every reap_interval while containers live: poll them.
  caf::reacts_to<reap_atom>,
  /// Containerizer -> itself `grace` after a destroy: SIGKILL the group of the container
  /// launched with this serial if it still lives. The serial, not the id, names the launch:
  /// an id is free again once its exit is reported and may be relaunched meanwhile.
  caf::reacts_to<escalate_atom, uint64_t>>;

/// A live container: launched, exit not yet reported.
struct container {
  v1::ContainerID id;
  pid_t pid = -1;
  uint64_t serial = 0;
  bool destroying = false;
  bool adopted = false; ///< launched by a previous agent process: not our child
};

/// The live containers, keyed by ContainerID::value. Killed and reaped when the actor ends:
/// first by the state's destructor, which CAF 0.17 runs in stateful_actor::on_exit before any
/// attached functor (so monitors, links and wait_for learn of the exit only once the
/// processes are gone); then by an exit hook (attach_functor) holding its own reference, as
/// the backstop for a path that skips on_exit. kill_all is idempotent.
class container_table {
public:
  container_table(std::shared_ptr<spdlog::logger> log,
                  std::vector<std::shared_ptr<isolator>> isolators)
    : log_(std::move(log)), isolators_(std::move(isolators)) {
  }

  ~container_table() {
    kill_all();
  }

  container_table(const container_table&) = delete;
  container_table& operator=(const container_table&) = delete;

  std::map<std::string, container>& live() {
    return live_;
  }

  const posix_launcher& launcher() const {
    return launcher_;
  }

  const handshake_launcher& handshake() const {
    return handshake_;
  }

  const std::vector<std::shared_ptr<isolator>>& isolators() const {
    return isolators_;
  }

  /// Runs every isolator's cleanup for `key` (kills what is left in it, removes it).
  void cleanup(const std::string& key) {
    for (auto& iso : isolators_)
      if (auto err = iso->cleanup(key))
        log_->error("container {}: {} cleanup failed: {}", key, iso->name(),
                    runtime::render(err));
  }

  container* find(const std::string& key) {
    auto i = live_.find(key);
    return i == live_.end() ? nullptr : &i->second;
  }

  container* find_serial(uint64_t serial) {
    for (auto& [key, c] : live_)
      if (c.serial == serial)
        return &c;
    return nullptr;
  }

  /// SIGKILLs every live container's group and reaps it; no exits are reported. Idempotent.
  void kill_all() {
    for (auto& [key, c] : live_) {
      if (c.adopted) { // not our child: kill, nothing to reap
        launcher_.signal_group(c.pid, SIGKILL);
        cleanup(key);
        continue;
      }
      auto status = launcher_.kill_and_reap(c.pid, std::chrono::seconds{2});
      cleanup(key);
      if (status)
        log_->info("container {} (pid {}) ended with the containerizer: {}", key, c.pid,
                   describe_wait_status(*status));
      else
        log_->error("container {} (pid {}) did not die within 2 s of SIGKILL; left behind",
                    key, c.pid);
    }
    live_.clear();
  }

private:
  std::shared_ptr<spdlog::logger> log_;
  std::map<std::string, container> live_;
  std::vector<std::shared_ptr<isolator>> isolators_;
  posix_launcher launcher_;
  handshake_launcher handshake_;
};

struct containerizer_state {
  std::shared_ptr<container_table> table; // set when the behavior starts
  container_watcher_actor watcher;
  caf::timespan reap_interval{};
  std::shared_ptr<spdlog::logger> log;
  uint64_t next_serial = 1;
  bool reap_pending = false; // a reap_atom is on its way
  bool subreaper = false;    // this process adopts orphans (PR_SET_CHILD_SUBREAPER)
  static inline const char* name = "troupe.containerizer";

  containerizer_state() = default;
  containerizer_state(const containerizer_state&) = delete;
  containerizer_state& operator=(const containerizer_state&) = delete;

  ~containerizer_state() {
    if (table)
      table->kill_all();
  }
};

using containerizer_pointer = containerizer_impl::stateful_pointer<containerizer_state>;

// Polls only while something can exit: an idle containerizer costs no wake-ups.
void schedule_reap(containerizer_pointer self) {
  auto& st = self->state;
  if (st.reap_pending || st.table->live().empty())
    return;
  st.reap_pending = true;
  self->delayed_send(self, st.reap_interval, reap_atom::value);
}

caf::result<container_launched> on_launch(containerizer_pointer self, const launch_request& req) {
  auto& st = self->state;
  const auto& key = req.container_id.value();
  if (key.empty())
    return make_error(errc::invalid_argument, "launch: empty container id");
  if (st.table->find(key) != nullptr)
    return make_error(errc::already_exists, "launch: container " + key + " already exists");
  std::vector<std::string> procs_files;
  for (auto& iso : st.table->isolators()) {
    auto files = iso->prepare(key, req.limits);
    if (!files) {
      st.log->warn("container {}: {} isolation failed: {}", key, iso->name(),
                   runtime::render(files.error()));
      st.table->cleanup(key);
      return std::move(files.error());
    }
    procs_files.insert(procs_files.end(), files->begin(), files->end());
  }
  // Placed in its cgroups before it execs when an isolator asks for it; else posix_spawn.
  auto pid = procs_files.empty() ? st.table->launcher().launch(req)
                                 : st.table->handshake().launch(req, procs_files);
  if (!pid) {
    st.log->warn("container {} failed to launch: {}", key, runtime::render(pid.error()));
    st.table->cleanup(key);
    return std::move(pid.error());
  }
  auto serial = st.next_serial++;
  st.table->live().emplace(key, container{req.container_id, *pid, serial, false});
  st.log->info("container {} launched as pid {} in {}", key, *pid, req.sandbox);
  schedule_reap(self);
  return container_launched{req.container_id, *pid};
}

void on_destroy(containerizer_pointer self, const v1::ContainerID& id, caf::timespan grace) {
  auto& st = self->state;
  auto* c = st.table->find(id.value());
  if (c == nullptr || c->destroying)
    return; // unknown, already gone, or already on its way out: the first deadline stands
  c->destroying = true;
  const auto& launcher = st.table->launcher();
  if (grace <= caf::timespan::zero()) {
    st.log->info("destroying container {} (pid {}): SIGKILL", id.value(), c->pid);
    launcher.signal_group(c->pid, SIGKILL);
    return;
  }
  st.log->info("destroying container {} (pid {}): SIGTERM, SIGKILL in {} ms", id.value(),
               c->pid, std::chrono::duration_cast<std::chrono::milliseconds>(grace).count());
  launcher.signal_group(c->pid, SIGTERM);
  self->delayed_send(self, grace, escalate_atom::value, c->serial);
}

void on_escalate(containerizer_pointer self, uint64_t serial) {
  auto& st = self->state;
  auto* c = st.table->find_serial(serial);
  if (c == nullptr)
    return; // ended within the grace period
  st.log->info("container {} (pid {}) outlived its grace period: SIGKILL", c->id.value(),
               c->pid);
  st.table->launcher().signal_group(c->pid, SIGKILL);
  st.table->cleanup(c->id.value()); // also what left the process group (double forks)
}

// In a child subreaper (troupe-agent), processes that left their container's process group
// and whose parent died (double forks) are reparented to us: reap them, or they stay zombies.
// Only pids that are not a live container's main process: those are try_reap's.
void reap_orphans(containerizer_pointer self) {
  auto& st = self->state;
  if (!st.subreaper)
    return;
  for (;;) {
    siginfo_t info{};
    if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0)
      return;
    for (auto& [key, c] : st.table->live())
      if (c.pid == info.si_pid)
        return; // a container's main process: try_reap reports it on the next poll
    int status = 0;
    ::waitpid(info.si_pid, &status, WNOHANG);
  }
}

void on_reap(containerizer_pointer self) {
  auto& st = self->state;
  st.reap_pending = false;
  auto& live = st.table->live();
  for (auto i = live.begin(); i != live.end();) {
    std::optional<int> status;
    if (!i->second.adopted) {
      status = st.table->launcher().try_reap(i->second.pid);
    } else if (!st.table->launcher().alive(i->second.pid)) {
      st.table->launcher().signal_group(i->second.pid, SIGKILL); // leftovers of its group
      status = unknown_wait_status;
    }
    if (!status) {
      ++i;
      continue;
    }
    container_exited msg{i->second.id, *status, i->second.destroying,
                         describe_wait_status(*status), std::nullopt};
    for (auto& iso : st.table->isolators())
      if (!msg.limit)
        msg.limit = iso->limitation_of(i->first);
    if (msg.limit)
      msg.message += "; " + msg.limit->message;
    st.table->cleanup(i->first);
    st.log->info("container {} (pid {}) {}{}", i->first, i->second.pid, msg.message,
                 msg.destroyed ? " after destroy" : "");
    i = live.erase(i);
    self->send(st.watcher, std::move(msg));
  }
  reap_orphans(self);
  schedule_reap(self);
}

std::vector<v1::ContainerID> live_ids(containerizer_pointer self) {
  std::vector<v1::ContainerID> result;
  for (auto& [key, c] : self->state.table->live())
    result.push_back(c.id);
  return result;
}

std::vector<v1::ContainerID> on_recover(containerizer_pointer self,
                                        const std::vector<container_launched>& known) {
  auto& st = self->state;
  std::vector<v1::ContainerID> adopted;
  for (const auto& k : known) {
    if (auto* c = st.table->find(k.container_id.value())) {
      adopted.push_back(c->id);
      continue;
    }
    if (!st.table->launcher().alive(k.pid))
      continue;
    auto serial = st.next_serial++;
    container c{k.container_id, k.pid, serial, false};
    c.adopted = true;
    st.table->live().emplace(k.container_id.value(), c);
    st.log->info("container {} (pid {}) adopted from a previous agent run",
                 k.container_id.value(), k.pid);
    adopted.push_back(k.container_id);
  }
  std::vector<std::string> keep;
  for (const auto& id : adopted)
    keep.push_back(id.value());
  for (auto& iso : st.table->isolators())
    for (const auto& orphan : iso->orphans(keep)) {
      st.log->warn("container {} is not in the agent's checkpoint: destroying it", orphan);
      if (auto err = iso->cleanup(orphan))
        st.log->error("container {}: {}", orphan, runtime::render(err));
    }
  schedule_reap(self);
  return adopted;
}

caf::result<v1::ResourceStatistics> on_usage(containerizer_pointer self,
                                             const v1::ContainerID& id) {
  auto& st = self->state;
  auto* c = st.table->find(id.value());
  if (c == nullptr)
    return make_error(errc::not_found, "no live container " + id.value());
  v1::ResourceStatistics out;
  out.set_timestamp(runtime::unix_seconds(self->clock()));
  for (auto& iso : st.table->isolators())
    if (auto err = iso->usage(id.value(), c->pid, out))
      return err;
  return out;
}

containerizer_impl::behavior_type containerizer_fn(containerizer_pointer self,
                                                   containerizer_config cfg,
                                                   std::vector<std::shared_ptr<isolator>> isolators,
                                                   container_watcher_actor watcher) {
  auto& st = self->state;
  st.log = runtime::node_logger(cfg.node);
  st.table = std::make_shared<container_table>(st.log, std::move(isolators));
  int subreaper = 0;
  st.subreaper = ::prctl(PR_GET_CHILD_SUBREAPER, &subreaper) == 0 && subreaper != 0;
  st.watcher = std::move(watcher);
  st.reap_interval = cfg.reap_interval;
  self->attach_functor([table = st.table] { table->kill_all(); });
  return {
    [self](launch_atom, const launch_request& req) { return on_launch(self, req); },
    [self](destroy_atom, const v1::ContainerID& id, caf::timespan grace) {
      on_destroy(self, id, grace);
    },
    [self](containers_atom) { return live_ids(self); },
    [self](recover_atom, const std::vector<container_launched>& known) {
      return on_recover(self, known);
    },
    [self](usage_atom, const v1::ContainerID& id) { return on_usage(self, id); },
    [self](update_atom, const v1::ContainerID& id, const container_limits& limits) {
      auto& st = self->state;
      if (st.table->find(id.value()) == nullptr)
        return;
      for (auto& iso : st.table->isolators())
        if (auto err = iso->update(id.value(), limits))
          st.log->error("container {}: {} update failed: {}", id.value(), iso->name(),
                        runtime::render(err));
    },
    [self](limitation_atom, const v1::ContainerID& id) {
      std::vector<limitation> out;
      if (self->state.table->find(id.value()) != nullptr)
        for (auto& iso : self->state.table->isolators())
          if (auto limit = iso->limitation_of(id.value()))
            out.push_back(std::move(*limit));
      return out;
    },
    [self](reap_atom) { on_reap(self); },
    [self](escalate_atom, uint64_t serial) { on_escalate(self, serial); },
  };
}

} // namespace

containerizer_actor spawn_containerizer(caf::actor_system& sys, containerizer_config cfg,
                                        std::vector<std::shared_ptr<isolator>> isolators,
                                        container_watcher_actor watcher) {
  return sys.spawn<caf::detached>(containerizer_fn, std::move(cfg), std::move(isolators),
                                  std::move(watcher));
}

containerizer_actor spawn_posix_containerizer(caf::actor_system& sys, containerizer_config cfg,
                                              container_watcher_actor watcher) {
  return spawn_containerizer(sys, std::move(cfg), {std::make_shared<posix_isolator>()},
                             std::move(watcher));
}

} // namespace troupe::isolation
