#include "troupe/messages/min_allocatable.hpp"

#include <string>

#include "troupe/messages/errc.hpp"

namespace troupe {

namespace {

std::vector<std::string_view> split_alternatives(std::string_view text) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t bar = text.find('|'); bar != std::string_view::npos; bar = text.find('|', start)) {
    parts.push_back(text.substr(start, bar - start));
    start = bar + 1;
  }
  parts.push_back(text.substr(start));
  return parts;
}

} // namespace

min_allocatable::min_allocatable() {
  alternatives_.push_back(resources{}.add_scalar("cpus", 0.01));
  alternatives_.push_back(resources{}.add_scalar("mem", 32));
}

bool min_allocatable::allows(const resources& r) const {
  if (r.empty())
    return false;
  auto flat = r.flatten();
  for (const auto& alt : alternatives_)
    if (flat.contains(alt))
      return true;
  return alternatives_.empty();
}

caf::expected<min_allocatable> min_allocatable::parse(std::string_view text) {
  min_allocatable result;
  result.alternatives_.clear();
  for (auto alt : split_alternatives(text)) {
    auto r = resources::parse(alt);
    if (!r)
      return r.error();
    if (r->empty())
      return make_error(errc::invalid_resources,
                        "empty alternative in minimum allocatable resources '"
                          + std::string{text} + "'");
    result.alternatives_.push_back(std::move(*r));
  }
  return result;
}

} // namespace troupe
