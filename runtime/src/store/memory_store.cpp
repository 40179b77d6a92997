#include "troupe/runtime/store/memory_store.hpp"

namespace troupe::runtime {

caf::expected<std::optional<entry>> memory_store::get(std::string_view key) {
  if (auto err = validate_key(key))
    return err;
  auto i = entries_.find(key);
  if (i == entries_.end())
    return std::optional<entry>{};
  return std::optional<entry>{i->second};
}

caf::expected<uint64_t> memory_store::put(std::string_view key, std::string value,
                                          std::optional<uint64_t> expected_version) {
  if (auto err = validate_key(key))
    return err;
  if (auto err = validate_value(value))
    return err;
  auto i = entries_.find(key);
  if (auto err = check_version(key, i == entries_.end() ? nullptr : &i->second, expected_version))
    return err;
  std::string k{key};
  remember(k);
  auto& e = entries_[k];
  e.value = std::move(value);
  e.version += 1;
  return e.version;
}

caf::error memory_store::erase(std::string_view key, std::optional<uint64_t> expected_version) {
  if (auto err = validate_key(key))
    return err;
  auto i = entries_.find(key);
  if (auto err = check_version(key, i == entries_.end() ? nullptr : &i->second, expected_version))
    return err;
  if (i == entries_.end())
    return caf::none;
  remember(i->first);
  entries_.erase(i);
  return caf::none;
}

caf::expected<std::vector<std::string>> memory_store::list(std::string_view prefix) {
  if (auto err = validate_prefix(prefix))
    return err;
  std::vector<std::string> out;
  for (auto i = entries_.lower_bound(prefix);
       i != entries_.end() && i->first.compare(0, prefix.size(), prefix) == 0; ++i)
    out.push_back(i->first);
  return out;
}

caf::error memory_store::commit(std::string_view guard_key, uint64_t guard_version,
                                const std::vector<store_write>& writes) {
  auto plan = resolve_commit([this](std::string_view key) { return get(key); }, guard_key,
                             guard_version, writes);
  if (!plan)
    return plan.error();
  for (auto& r : *plan) {
    remember(r.key);
    if (r.after)
      entries_[r.key] = std::move(*r.after);
    else
      entries_.erase(r.key);
  }
  return caf::none;
}

caf::error memory_store::sync() {
  undo_.clear();
  return caf::none;
}

void memory_store::crash() {
  for (auto& [key, before] : undo_) {
    if (before)
      entries_[key] = std::move(*before);
    else
      entries_.erase(key);
  }
  undo_.clear();
}

void memory_store::remember(const std::string& key) {
  // Only the first change after a sync() records: that is the state a crash returns to.
  if (undo_.count(key) != 0)
    return;
  auto i = entries_.find(key);
  undo_.emplace(key, i == entries_.end() ? std::optional<entry>{} : std::optional<entry>{i->second});
}

} // namespace troupe::runtime
