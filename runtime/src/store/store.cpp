#include "troupe/runtime/store/store.hpp"

#include <map>

#include "troupe/messages/errc.hpp"

namespace troupe::runtime {

namespace {

// Printable ASCII only: keys become ZooKeeper path segments and log lines later.
caf::error validate_chars(std::string_view what, std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c > 0x7e)
      return make_error(errc::invalid_argument, std::string{what} + " has a non-printable byte "
                                                  + std::to_string(c) + " at offset "
                                                  + std::to_string(i));
  }
  return caf::none;
}

caf::error validate_length(std::string_view what, std::string_view text) {
  if (text.size() > max_key_size)
    return make_error(errc::invalid_argument,
                      std::string{what} + " is " + std::to_string(text.size())
                        + " bytes long, more than the limit of " + std::to_string(max_key_size));
  return caf::none;
}

std::string describe(std::optional<uint64_t> version) {
  if (!version)
    return "any version";
  if (*version == 0)
    return "no entry";
  return "version " + std::to_string(*version);
}

} // namespace

store::~store() = default;

caf::error validate_key(std::string_view key) {
  if (key.empty())
    return make_error(errc::invalid_argument, "store key is empty");
  if (auto err = validate_length("store key", key))
    return err;
  return validate_chars("store key", key);
}

caf::error validate_prefix(std::string_view prefix) {
  if (auto err = validate_length("store prefix", prefix))
    return err;
  return validate_chars("store prefix", prefix);
}

caf::error validate_value(std::string_view value) {
  if (value.size() > max_value_size)
    return make_error(errc::invalid_argument,
                      "store value is " + std::to_string(value.size())
                        + " bytes, more than the limit of " + std::to_string(max_value_size));
  return caf::none;
}

caf::error check_version(std::string_view key, const entry* current,
                         std::optional<uint64_t> expected_version) {
  if (!expected_version)
    return caf::none;
  auto found = current ? current->version : uint64_t{0};
  if (found == *expected_version)
    return caf::none;
  return make_error(errc::version_conflict, "store key '" + std::string{key} + "': expected "
                                              + describe(expected_version) + ", found "
                                              + describe(found));
}

caf::expected<std::vector<resolved_write>>
resolve_commit(const std::function<caf::expected<std::optional<entry>>(std::string_view)>& read,
               std::string_view guard_key, uint64_t guard_version,
               const std::vector<store_write>& writes) {
  if (auto err = validate_key(guard_key))
    return err;
  auto guard = read(guard_key);
  if (!guard)
    return guard.error();
  auto at = *guard ? (*guard)->version : uint64_t{0};
  if (at != guard_version)
    return make_error(errc::stale_epoch, "store guard '" + std::string{guard_key}
                                           + "' is at version " + std::to_string(at)
                                           + ", not " + std::to_string(guard_version)
                                           + ": a newer writer holds the store");
  std::vector<resolved_write> out;
  std::map<std::string, size_t, std::less<>> index;
  for (const auto& w : writes) {
    if (auto err = validate_key(w.key))
      return err;
    if (w.value)
      if (auto err = validate_value(*w.value))
        return err;
    auto i = index.find(w.key);
    if (i == index.end()) {
      auto current = read(w.key);
      if (!current)
        return current.error();
      i = index.emplace(w.key, out.size()).first;
      out.push_back({w.key, *current, *current});
    }
    auto& r = out[i->second];
    const entry* cur = r.after ? &*r.after : nullptr;
    if (auto err = check_version(w.key, cur, w.expected_version))
      return err;
    if (w.value)
      r.after = entry{*w.value, (cur ? cur->version : 0) + 1};
    else
      r.after.reset();
  }
  return out;
}

} // namespace troupe::runtime
