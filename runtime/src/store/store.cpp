#include "troupe/runtime/store/store.hpp"

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

} // namespace troupe::runtime
