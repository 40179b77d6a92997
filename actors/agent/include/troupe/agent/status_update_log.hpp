// The checkpoint of one task's status update stream: StatusUpdateRecords (an update, or the
// acknowledgement of one) appended to a file as length-delimited protobuf and fsync'ed, so an
// agent restarted with the same work dir resends exactly what was not acknowledged.
#pragma once

#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "troupe/agent/status_update_stream.hpp"
#include "troupe/messages/internal.hpp"

namespace troupe::agent {

/// The file name for an ID inside a checkpoint directory: the ID itself when short enough for
/// every file system, otherwise a hash of it (recovery takes the IDs from the records).
std::string checkpoint_name(const std::string& id);

class status_update_log {
public:
  /// Opens (creating it and its parent directories) the log at `path` for appending. A new
  /// file's directory is synced too, so the file itself survives a power loss.
  static caf::expected<status_update_log> open(const std::string& path);

  status_update_log(status_update_log&& other) noexcept;
  status_update_log& operator=(status_update_log&& other) noexcept;
  status_update_log(const status_update_log&) = delete;
  status_update_log& operator=(const status_update_log&) = delete;
  ~status_update_log();

  /// Appends one record and syncs it to disk. A failed write is cut off again, so the file
  /// never holds half a record followed by whole ones.
  caf::error append(const internal::StatusUpdateRecord& record);

  /// The path of the log.
  const std::string& path() const {
    return path_;
  }

  /// What replay() found.
  struct replayed {
    std::vector<internal::StatusUpdateRecord> records; ///< every complete record, in order
    size_t valid_bytes = 0;                             ///< where the complete records end
    size_t file_bytes = 0;                              ///< the file's size
  };

  /// Reads every complete record. A torn last record (a crash during append) ends the replay
  /// and shows as valid_bytes < file_bytes; unreadable files are errc::io_error.
  static caf::expected<replayed> replay(const std::string& path);

  /// Cuts a torn tail off (to `valid_bytes`) so later appends follow whole records.
  static caf::error truncate(const std::string& path, size_t valid_bytes);

  /// Rebuilds a stream from replayed records.
  static status_update_stream rebuild(const std::vector<internal::StatusUpdateRecord>& records);

private:
  status_update_log(std::string path, int fd) : path_(std::move(path)), fd_(fd) {
  }

  std::string path_;
  int fd_ = -1;
};

} // namespace troupe::agent
