#include "troupe/runtime/store/leveldb_store.hpp"

#include <filesystem>
#include <mutex>
#include <system_error>

#include <leveldb/db.h>
#include <leveldb/iterator.h>
#include <leveldb/options.h>
#include <leveldb/status.h>
#include <leveldb/write_batch.h>

#include "troupe/messages/errc.hpp"

namespace troupe::runtime {

namespace {

constexpr size_t version_bytes = 8;

std::string encode(uint64_t version, const std::string& value) {
  std::string out;
  out.reserve(version_bytes + value.size());
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((version >> shift) & 0xff));
  out += value;
  return out;
}

caf::expected<entry> decode(std::string_view key, const std::string& raw) {
  if (raw.size() < version_bytes)
    return make_error(errc::io_error, "leveldb store: record of key '" + std::string{key}
                                        + "' is " + std::to_string(raw.size())
                                        + " bytes, shorter than its version prefix");
  uint64_t version = 0;
  for (size_t i = 0; i < version_bytes; ++i)
    version = (version << 8) | static_cast<unsigned char>(raw[i]);
  return entry{raw.substr(version_bytes), version};
}

caf::error failure(const std::string& what, const leveldb::Status& st) {
  return make_error(errc::io_error, "leveldb store: " + what + ": " + st.ToString());
}

leveldb::Slice slice(std::string_view text) {
  return {text.data(), text.size()};
}

} // namespace

struct leveldb_store::impl {
  std::string dir;
  std::unique_ptr<leveldb::DB> db;
  // Serialises the read-check-write of put/erase (LevelDB has no compare-and-set).
  std::mutex mtx;
};

caf::expected<std::unique_ptr<leveldb_store>> leveldb_store::open(std::string dir) {
  if (dir.empty())
    return make_error(errc::invalid_argument, "leveldb store: empty directory");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return make_error(errc::io_error,
                      "leveldb store: cannot create directory " + dir + ": " + ec.message());
  leveldb::Options opts;
  opts.create_if_missing = true;
  leveldb::DB* raw = nullptr;
  auto st = leveldb::DB::Open(opts, dir, &raw);
  if (!st.ok()) {
    // The LOCK message alone ("lock .../LOCK: already held by process") hides the likely cause.
    auto what = "cannot open " + dir;
    if (st.ToString().find("lock") != std::string::npos)
      what += " (another store, in this or another process, has it open)";
    return failure(what, st);
  }
  auto self = std::make_unique<impl>();
  self->dir = std::move(dir);
  self->db.reset(raw);
  return std::unique_ptr<leveldb_store>{new leveldb_store(std::move(self))};
}

leveldb_store::leveldb_store(std::unique_ptr<impl> self) : self_(std::move(self)) {
  // nop
}

leveldb_store::~leveldb_store() = default;

const std::string& leveldb_store::dir() const {
  return self_->dir;
}

caf::expected<std::optional<entry>> leveldb_store::read(std::string_view key) {
  std::string raw;
  auto st = self_->db->Get(leveldb::ReadOptions{}, slice(key), &raw);
  if (st.IsNotFound())
    return std::optional<entry>{};
  if (!st.ok())
    return failure("get '" + std::string{key} + "'", st);
  auto e = decode(key, raw);
  if (!e)
    return e.error();
  return std::optional<entry>{std::move(*e)};
}

caf::expected<std::optional<entry>> leveldb_store::get(std::string_view key) {
  if (auto err = validate_key(key))
    return err;
  std::lock_guard<std::mutex> guard{self_->mtx};
  return read(key);
}

caf::expected<uint64_t> leveldb_store::put(std::string_view key, std::string value,
                                           std::optional<uint64_t> expected_version) {
  if (auto err = validate_key(key))
    return err;
  if (auto err = validate_value(value))
    return err;
  std::lock_guard<std::mutex> guard{self_->mtx};
  auto current = read(key);
  if (!current)
    return current.error();
  const entry* cur = *current ? &**current : nullptr;
  if (auto err = check_version(key, cur, expected_version))
    return err;
  auto version = (cur ? cur->version : 0) + 1;
  leveldb::WriteOptions wo;
  wo.sync = true;
  auto st = self_->db->Put(wo, slice(key), encode(version, value));
  if (!st.ok())
    return failure("put '" + std::string{key} + "'", st);
  return version;
}

caf::error leveldb_store::erase(std::string_view key, std::optional<uint64_t> expected_version) {
  if (auto err = validate_key(key))
    return err;
  std::lock_guard<std::mutex> guard{self_->mtx};
  auto current = read(key);
  if (!current)
    return current.error();
  const entry* cur = *current ? &**current : nullptr;
  if (auto err = check_version(key, cur, expected_version))
    return err;
  if (!cur)
    return caf::none;
  leveldb::WriteOptions wo;
  wo.sync = true;
  auto st = self_->db->Delete(wo, slice(key));
  if (!st.ok())
    return failure("erase '" + std::string{key} + "'", st);
  return caf::none;
}

caf::expected<std::vector<std::string>> leveldb_store::list(std::string_view prefix) {
  if (auto err = validate_prefix(prefix))
    return err;
  std::lock_guard<std::mutex> guard{self_->mtx};
  std::vector<std::string> out;
  std::unique_ptr<leveldb::Iterator> it{self_->db->NewIterator(leveldb::ReadOptions{})};
  // The default comparator is bytewise, the same order as std::string.
  for (it->Seek(slice(prefix)); it->Valid() && it->key().starts_with(slice(prefix)); it->Next())
    out.push_back(it->key().ToString());
  if (!it->status().ok())
    return failure("list '" + std::string{prefix} + "'", it->status());
  return out;
}

caf::error leveldb_store::commit(std::string_view guard_key, uint64_t guard_version,
                                 const std::vector<store_write>& writes) {
  std::lock_guard<std::mutex> guard{self_->mtx};
  auto plan = resolve_commit([this](std::string_view key) { return read(key); }, guard_key,
                             guard_version, writes);
  if (!plan)
    return plan.error();
  leveldb::WriteBatch batch;
  for (const auto& r : *plan) {
    if (r.after)
      batch.Put(slice(r.key), encode(r.after->version, r.after->value));
    else if (r.before)
      batch.Delete(slice(r.key));
  }
  leveldb::WriteOptions wo;
  wo.sync = true;
  auto st = self_->db->Write(wo, &batch);
  if (!st.ok())
    return failure("commit of " + std::to_string(plan->size()) + " keys", st);
  return caf::none;
}

caf::error leveldb_store::sync() {
  return caf::none;
}

} // namespace troupe::runtime
