#include "troupe/agent/status_update_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
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

caf::error sync_directory(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return io_error("open directory", dir.string());
  auto rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0)
    return io_error("fsync directory", dir.string());
  return caf::none;
}

} // namespace

std::string checkpoint_name(const std::string& id) {
  // NAME_MAX is 255: leave room for the ".updates" suffix.
  if (id.size() <= 200)
    return id;
  uint64_t h = 0xcbf29ce484222325ULL; // FNV-1a
  for (unsigned char c : id) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "h%016llx", static_cast<unsigned long long>(h));
  return buf;
}

caf::expected<status_update_log> status_update_log::open(const std::string& path) {
  std::error_code ec;
  auto dir = std::filesystem::path{path}.parent_path();
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return make_error(errc::io_error, "create directories for " + path + ": " + ec.message());
  bool existed = std::filesystem::exists(path, ec);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0)
    return io_error("open", path);
  status_update_log log{path, fd};
  if (!existed) {
    // A new file (and a new framework directory) exist durably only once their parents are
    // synced: the file's directory and the one above (<checkpoint_dir>).
    for (const auto& d : {dir, dir.parent_path()})
      if (!d.empty())
        if (auto err = sync_directory(d))
          return err;
  }
  return log;
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
  auto before = ::lseek(fd_, 0, SEEK_END);
  // Cut a failed write off again so no half record sits in front of later whole ones (a crash
  // mid-write leaves a torn tail, which replay() and truncate() handle).
  auto undo = [&](const char* what) {
    auto err = io_error(what, path_);
    if (before >= 0)
      (void) ::ftruncate(fd_, before);
    return err;
  };
  const char* p = bytes.data();
  auto left = bytes.size();
  while (left > 0) {
    auto n = ::write(fd_, p, left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return undo("write");
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fdatasync(fd_) != 0)
    return undo("fdatasync");
  return caf::none;
}

caf::error status_update_log::truncate(const std::string& path, size_t valid_bytes) {
  if (::truncate(path.c_str(), static_cast<off_t>(valid_bytes)) != 0)
    return io_error("truncate", path);
  return caf::none;
}

caf::expected<status_update_log::replayed> status_update_log::replay(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return io_error("read", path);
  std::string bytes{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
  google::protobuf::io::ArrayInputStream raw{bytes.data(), static_cast<int>(bytes.size())};
  google::protobuf::io::CodedInputStream coded{&raw};
  replayed result;
  result.file_bytes = bytes.size();
  for (;;) {
    internal::StatusUpdateRecord record;
    bool clean_eof = false;
    if (!google::protobuf::util::ParseDelimitedFromCodedStream(&record, &coded, &clean_eof))
      break; // end of file, or a torn last record
    result.records.push_back(std::move(record));
    result.valid_bytes = static_cast<size_t>(coded.CurrentPosition());
  }
  return result;
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
