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

class status_update_log {
public:
  /// Opens (creating it and its parent directories) the log at `path` for appending.
  static caf::expected<status_update_log> open(const std::string& path);

  status_update_log(status_update_log&& other) noexcept;
  status_update_log& operator=(status_update_log&& other) noexcept;
  status_update_log(const status_update_log&) = delete;
  status_update_log& operator=(const status_update_log&) = delete;
  ~status_update_log();

  /// Appends one record and syncs it to disk.
  caf::error append(const internal::StatusUpdateRecord& record);

  /// The path of the log.
  const std::string& path() const {
    return path_;
  }

  /// Reads every complete record. A torn last record (a crash during append) is dropped, not
  /// an error; unreadable files are errc::io_error.
  static caf::expected<std::vector<internal::StatusUpdateRecord>> replay(const std::string& path);

  /// Rebuilds a stream from replayed records.
  static status_update_stream rebuild(const std::vector<internal::StatusUpdateRecord>& records);

private:
  status_update_log(std::string path, int fd) : path_(std::move(path)), fd_(fd) {
  }

  std::string path_;
  int fd_ = -1;
};

} // namespace troupe::agent
