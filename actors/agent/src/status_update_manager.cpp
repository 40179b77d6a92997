#include "troupe/agent/status_update_manager.hpp"

#include <filesystem>
#include <algorithm>
#include <map>
#include <optional>

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "troupe/agent/status_update_log.hpp"
#include "troupe/messages/ids.hpp"
#include "troupe/messages/validation.hpp"
#include "troupe/runtime/errors.hpp"
#include "troupe/runtime/logging.hpp"

namespace troupe::agent {

namespace {

/// Names the private retry message.
using retry_atom = caf::atom_constant<caf::atom("suretry")>;

using manager_impl = status_update_manager_actor::extend<
  /// Manager -> itself after a backoff: resend the head of (framework, task) if it is still
  /// the update with this uuid.
  caf::reacts_to<retry_atom, std::string, std::string, std::string, uint64_t>>;

struct task_stream {
  status_update_stream stream;
  std::optional<status_update_log> log;
  size_t attempts = 0; // sends of the current head (drives the backoff)
  uint64_t sends = 0;  // every send; a retry timer from an earlier send is stale
};

using stream_key = std::pair<std::string, std::string>; // framework, task

struct manager_state {
  status_update_manager_config cfg;
  update_sink_actor sink;
  std::map<stream_key, task_stream> streams;
  std::shared_ptr<spdlog::logger> log;
  static inline const char* name = "troupe.status_update_manager";
};

using manager_pointer = manager_impl::stateful_pointer<manager_state>;

std::string log_path(const manager_state& st, const stream_key& key) {
  return st.cfg.checkpoint_dir + "/" + checkpoint_name(key.first) + "/"
         + checkpoint_name(key.second) + ".updates";
}

// Sends the head of a stream and schedules its retry.
void send_head(manager_pointer self, const stream_key& key, task_stream& ts) {
  const auto* head = ts.stream.head();
  if (head == nullptr)
    return;
  self->state.log->debug("task {}: {} ({}) to the master, send {}", key.second,
                         v1::TaskState_Name(head->status().state()),
                         uuid_hex(head->status().uuid()),
                         ts.sends + 1);
  self->send(self->state.sink, *head);
  auto delay = self->state.cfg.retry.delay(ts.attempts++);
  self->delayed_send(self, delay, retry_atom::value, key.first, key.second,
                     head->status().uuid(), ++ts.sends);
}

void checkpoint(manager_pointer self, task_stream& ts, const internal::StatusUpdateRecord& rec) {
  if (!ts.log)
    return;
  if (auto err = ts.log->append(rec))
    self->state.log->error("checkpoint failed: {}", runtime::render(err));
}

void on_update(manager_pointer self, const v1::StatusUpdate& update) {
  auto& st = self->state;
  if (auto err = validate(update)) {
    st.log->warn("dropping invalid status update: {}", runtime::render(err));
    return;
  }
  stream_key key{update.framework_id().value(), update.status().task_id().value()};
  auto& ts = st.streams[key];
  auto result = ts.stream.push(update);
  if (result == status_update_stream::push_result::duplicate
      || result == status_update_stream::push_result::rejected) {
    if (result == status_update_stream::push_result::rejected)
      st.log->warn("rejecting update {} of task {}: {} not allowed after {}",
                   update.status().uuid(), key.second,
                   v1::TaskState_Name(update.status().state()),
                   v1::TaskState_Name(ts.stream.latest_state()));
    if (ts.stream.pending() == 0 && !ts.log && !ts.stream.terminated())
      st.streams.erase(key); // nothing was ever accepted for this task
    return;
  }
  if (!ts.log) {
    auto opened = status_update_log::open(log_path(st, key));
    if (opened)
      ts.log.emplace(std::move(*opened));
    else
      st.log->error("cannot checkpoint task {}: {}", key.second, runtime::render(opened.error()));
  }
  internal::StatusUpdateRecord rec;
  rec.set_type(internal::StatusUpdateRecord::UPDATE);
  *rec.mutable_update() = update;
  checkpoint(self, ts, rec);
  if (result == status_update_stream::push_result::send) {
    ts.attempts = 0;
    send_head(self, key, ts);
  }
}

void on_ack(manager_pointer self, const v1::StatusUpdateAcknowledgement& ack) {
  auto& st = self->state;
  if (auto err = validate(ack)) {
    st.log->warn("dropping invalid acknowledgement: {}", runtime::render(err));
    return;
  }
  stream_key key{ack.framework_id().value(), ack.task_id().value()};
  auto i = st.streams.find(key);
  if (i == st.streams.end())
    return;
  auto& ts = i->second;
  auto result = ts.stream.acknowledge(ack.uuid());
  if (result == status_update_stream::ack_result::mismatch)
    return;
  st.log->debug("task {}: update {} acknowledged", key.second, uuid_hex(ack.uuid()));
  internal::StatusUpdateRecord rec;
  rec.set_type(internal::StatusUpdateRecord::ACK);
  rec.set_uuid(ack.uuid());
  checkpoint(self, ts, rec);
  ts.attempts = 0;
  // A finished stream stays, as a tombstone: a late duplicate of any of its updates, or an
  // update after its terminal one, must not start a new stream. (Its checkpoint keeps the
  // tombstone across restarts; both go when the framework is shut down on this agent.)
  if (result == status_update_stream::ack_result::next)
    send_head(self, key, ts);
}

void on_retry(manager_pointer self, const std::string& framework, const std::string& task,
              const std::string& uuid, uint64_t sends) {
  auto i = self->state.streams.find({framework, task});
  if (i == self->state.streams.end() || i->second.sends != sends)
    return; // flushed since: a newer timer runs
  const auto* head = i->second.stream.head();
  if (head == nullptr || head->status().uuid() != uuid)
    return; // acknowledged meanwhile
  send_head(self, i->first, i->second);
}

// Rebuilds every stream from the checkpoints of a previous run and resends their heads.
void recover(manager_pointer self) {
  auto& st = self->state;
  std::error_code ec;
  std::filesystem::create_directories(st.cfg.checkpoint_dir, ec);
  for (const auto& fw : std::filesystem::directory_iterator{st.cfg.checkpoint_dir, ec}) {
    if (!fw.is_directory())
      continue;
    for (const auto& file : std::filesystem::directory_iterator{fw.path(), ec}) {
      if (file.path().extension() != ".updates")
        continue;
      auto path = file.path().string();
      auto found = status_update_log::replay(path);
      if (!found) {
        st.log->error("cannot recover {}: {}", path, runtime::render(found.error()));
        continue;
      }
      if (found->valid_bytes < found->file_bytes) {
        st.log->warn("{}: dropping a torn tail of {} bytes", path,
                     found->file_bytes - found->valid_bytes);
        if (auto err = status_update_log::truncate(path, found->valid_bytes)) {
          st.log->error("cannot repair {}: {}", path, runtime::render(err));
          continue;
        }
      }
      // The IDs come from the records: file names may be hashes of long IDs.
      auto first = std::find_if(found->records.begin(), found->records.end(), [](const auto& r) {
        return r.type() == internal::StatusUpdateRecord::UPDATE;
      });
      if (first == found->records.end())
        continue;
      stream_key key{first->update().framework_id().value(),
                     first->update().status().task_id().value()};
      auto& ts = st.streams[key];
      ts.stream = status_update_log::rebuild(found->records);
      if (auto opened = status_update_log::open(path))
        ts.log.emplace(std::move(*opened));
      send_head(self, key, ts); // no-op for finished streams (tombstones)
    }
  }
}

uint64_t pending_total(manager_pointer self) {
  uint64_t n = 0;
  for (const auto& [key, ts] : self->state.streams)
    n += ts.stream.pending();
  return n;
}

manager_impl::behavior_type manager_fn(manager_pointer self, status_update_manager_config cfg,
                                       update_sink_actor sink) {
  self->state.log = runtime::node_logger(cfg.node);
  self->state.cfg = std::move(cfg);
  self->state.sink = std::move(sink);
  recover(self);
  return {
    [self](const v1::StatusUpdate& update) { on_update(self, update); },
    [self](const v1::StatusUpdateAcknowledgement& ack) { on_ack(self, ack); },
    [self](pending_atom) { return pending_total(self); },
    [self](retry_atom, const std::string& fw, const std::string& task, const std::string& uuid,
           uint64_t sends) { on_retry(self, fw, task, uuid, sends); },
    [self](flush_atom) {
      for (auto& [key, ts] : self->state.streams) {
        ts.attempts = 0;
        send_head(self, key, ts);
      }
    },
  };
}

} // namespace

status_update_manager_actor spawn_status_update_manager(caf::actor_system& sys,
                                                        status_update_manager_config cfg,
                                                        update_sink_actor sink) {
  if (cfg.detached) // fdatasync per update: keep it off the shared scheduler threads
    return sys.spawn<caf::detached>(manager_fn, std::move(cfg), std::move(sink));
  return sys.spawn(manager_fn, std::move(cfg), std::move(sink));
}

} // namespace troupe::agent
