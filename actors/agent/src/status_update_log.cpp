#include "troupe/agent/status_update_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/delimited_message_util.h>

#include "troupe/messages/errc.hpp"

namespace troupe::agent {

namespace {

caf::error io_error(const std::string& what, const std::string& path) {
  return make_error(errc::io_error, what + " " + path + ": " + std::strerror(errno));
}

} // namespace

caf::expected<status_update_log> status_update_log::open(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path{path}.parent_path(), ec);
  if (ec)
    return make_error(errc::io_error, "create directories for " + path + ": " + ec.message());
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0)
    return io_error("open", path);
  return status_update_log{path, fd};
}

status_update_log::status_update_log(status_update_log&& other) noexcept
  : path_(std::move(other.path_)), fd_(other.fd_) {
  other.fd_ = -1;
}

status_update_log& status_update_log::operator=(status_update_log&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0)
      ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

status_update_log::~status_update_log() {
  if (fd_ >= 0)
    ::close(fd_);
}

caf::error status_update_log::append(const internal::StatusUpdateRecord& record) {
  std::ostringstream out;
  if (!google::protobuf::util::SerializeDelimitedToOstream(record, &out))
    return make_error(errc::io_error, "serialize a status update record for " + path_);
  auto bytes = out.str();
  // One write per record: O_APPEND keeps records whole unless the machine crashes mid-write,
  // which replay() tolerates.
  const char* p = bytes.data();
  auto left = bytes.size();
  while (left > 0) {
    auto n = ::write(fd_, p, left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return io_error("write", path_);
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fdatasync(fd_) != 0)
    return io_error("fdatasync", path_);
  return caf::none;
}

caf::expected<std::vector<internal::StatusUpdateRecord>>
status_update_log::replay(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return io_error("read", path);
  std::string bytes{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
  google::protobuf::io::ArrayInputStream raw{bytes.data(), static_cast<int>(bytes.size())};
  google::protobuf::io::CodedInputStream coded{&raw};
  std::vector<internal::StatusUpdateRecord> records;
  for (;;) {
    internal::StatusUpdateRecord record;
    bool clean_eof = false;
    if (!google::protobuf::util::ParseDelimitedFromCodedStream(&record, &coded, &clean_eof))
      break; // end of file, or a torn last record
    records.push_back(std::move(record));
  }
  return records;
}

status_update_stream status_update_log::rebuild(
  const std::vector<internal::StatusUpdateRecord>& records) {
  status_update_stream stream;
  for (const auto& record : records) {
    if (record.type() == internal::StatusUpdateRecord::UPDATE)
      (void) stream.push(record.update());
    else if (record.type() == internal::StatusUpdateRecord::ACK)
      (void) stream.acknowledge(record.uuid());
  }
  return stream;
}

} // namespace troupe::agent
