// The flag syntax: parsing with errors that name the offending part, and formatting back.
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "resources/checks.hpp"
#include "troupe/messages/errc.hpp"
#include "troupe/messages/resources.hpp"

namespace troupe {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

caf::error bad(std::string_view part, const std::string& why) {
  return make_error(errc::invalid_resources, "'" + std::string{part} + "': " + why);
}

// Splits on `sep` at nesting depth 0 of [] {} ().
std::vector<std::string_view> split_top(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '[' || c == '{' || c == '(')
      ++depth;
    else if (c == ']' || c == '}' || c == ')')
      --depth;
    else if (c == sep && depth == 0) {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  parts.push_back(s.substr(start));
  return parts;
}

bool valid_name(std::string_view name) {
  if (name.empty() || !std::islower(static_cast<unsigned char>(name.front())))
    return false;
  for (char c : name)
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c))
          || c == '_' || c == '-' || c == '.'))
      return false;
  return true;
}

caf::expected<uint64_t> parse_u64(std::string_view text, std::string_view item) {
  text = trim(text);
  if (text.empty() || !std::isdigit(static_cast<unsigned char>(text.front())))
    return bad(item, "'" + std::string{text} + "' is not a non-negative integer");
  std::string copy{text};
  errno = 0;
  char* end = nullptr;
  auto v = std::strtoull(copy.c_str(), &end, 10);
  if (errno == ERANGE || *end != '\0')
    return bad(item, "'" + copy + "' is not a valid integer");
  return static_cast<uint64_t>(v);
}

caf::expected<resource_value> parse_scalar(std::string_view text, std::string_view item,
                                           std::string_view name) {
  std::string copy{trim(text)};
  if (copy.empty())
    return bad(item, "missing amount");
  char* end = nullptr;
  double v = std::strtod(copy.c_str(), &end);
  if (end == copy.c_str() || *end != '\0')
    return bad(item, "'" + copy + "' is not a number");
  if (auto problem = detail::scalar_problem(name, v))
    return bad(item, *problem);
  resource_value result;
  result.kind = resource_kind::scalar;
  result.millis = std::llround(v * 1000.0);
  return result;
}

caf::expected<resource_value> parse_ranges(std::string_view text, std::string_view item) {
  text = trim(text);
  if (text.size() < 2 || text.front() != '[' || text.back() != ']')
    return bad(item, "ranges must look like [31000-32000,33000-33100]");
  std::vector<value_range> rs;
  auto body = trim(text.substr(1, text.size() - 2));
  if (!body.empty()) {
    for (auto part : split_top(body, ',')) {
      auto dash = part.find('-');
      auto lo = parse_u64(dash == std::string_view::npos ? part : part.substr(0, dash), item);
      if (!lo)
        return lo.error();
      auto hi = dash == std::string_view::npos ? lo : parse_u64(part.substr(dash + 1), item);
      if (!hi)
        return hi.error();
      if (*hi < *lo)
        return bad(item, "range " + std::string{trim(part)} + " ends before it begins");
      for (const auto& r : rs)
        if (*lo <= r.end && r.begin <= *hi)
          return bad(item, "ranges " + std::to_string(r.begin) + "-" + std::to_string(r.end)
                             + " and " + std::string{trim(part)} + " overlap");
      rs.push_back({*lo, *hi});
    }
  }
  resource_value result;
  result.kind = resource_kind::ranges;
  result.ranges = value_ranges::merged(std::move(rs));
  return result;
}

caf::expected<resource_value> parse_set(std::string_view text, std::string_view item) {
  text = trim(text);
  if (text.size() < 2 || text.front() != '{' || text.back() != '}')
    return bad(item, "sets must look like {a,b,c}");
  resource_value result;
  result.kind = resource_kind::set;
  auto body = trim(text.substr(1, text.size() - 2));
  if (!body.empty()) {
    for (auto part : split_top(body, ',')) {
      auto member = trim(part);
      if (member.empty())
        return bad(item, "empty set member");
      if (!result.items.emplace(member).second)
        return bad(item, "set member '" + std::string{member} + "' appears twice");
    }
  }
  return result;
}

std::string format_scalar(int64_t millis) {
  auto text = std::to_string(millis / 1000);
  if (auto frac = millis % 1000; frac != 0) {
    auto digits = std::to_string(frac);
    digits.insert(0, 3 - digits.size(), '0');
    while (digits.back() == '0')
      digits.pop_back();
    text += '.' + digits;
  }
  return text;
}

// Parses one "name(role):value" item.
caf::error parse_item(std::string_view item, const resource_schema& schema, resources& out) {
  auto colon = item.find(':');
  if (colon == std::string_view::npos)
    return bad(item, "expected name:value");
  auto head = trim(item.substr(0, colon));
  std::string role = "*";
  if (auto paren = head.find('('); paren != std::string_view::npos) {
    if (head.back() != ')')
      return bad(item, "expected name(role)");
    role = std::string{trim(head.substr(paren + 1, head.size() - paren - 2))};
    head = trim(head.substr(0, paren));
    if (auto err = validate_role(role))
      return bad(item, error_message(err));
  }
  if (!valid_name(head))
    return bad(item, "'" + std::string{head} + "' is not a valid resource name");
  auto kind = schema.kinds.find(head);
  if (kind == schema.kinds.end()) {
    std::string known;
    for (const auto& [name, k] : schema.kinds)
      known += (known.empty() ? "" : ", ") + name;
    return bad(item, "unknown resource '" + std::string{head} + "' (known: " + known + ")");
  }
  auto text = item.substr(colon + 1);
  auto value = [&]() -> caf::expected<resource_value> {
    switch (kind->second) {
      case resource_kind::scalar: return parse_scalar(text, item, head);
      case resource_kind::ranges: return parse_ranges(text, item);
      case resource_kind::set: return parse_set(text, item);
    }
    return bad(item, "unsupported kind");
  }();
  if (!value)
    return value.error();
  resource_key key{std::string{head}, {}};
  if (role != "*")
    key.reservations.push_back({v1::ReservationInfo::STATIC, role, {}, {}});
  if (out.entries().count(key) > 0)
    return bad(item, "resource '" + std::string{head} + "' for role " + role + " appears twice");
  // Ranges of one name must not overlap across roles: they are the same physical ports.
  if (value->kind == resource_kind::ranges && detail::overlaps_existing(out, head, value->ranges))
    return bad(item, "ranges overlap with another '" + std::string{head} + "' entry");
  out.add(key, *value);
  return caf::none;
}

} // namespace

caf::error validate_role(std::string_view role) {
  if (role == "*")
    return caf::none;
  auto fail = [&](const std::string& why) {
    return make_error(errc::invalid_argument, "role '" + std::string{role} + "': " + why);
  };
  if (role.empty())
    return fail("must not be empty");
  if (role.front() == '-')
    return fail("must not start with '-'");
  for (char c : role)
    if (std::isspace(static_cast<unsigned char>(c)) || std::iscntrl(static_cast<unsigned char>(c))
        || c == '*' || c == '(' || c == ')' || c == ':' || c == ';' || c == ',')
      return fail("contains a forbidden character");
  for (auto part : split_top(role, '/')) {
    if (part.empty())
      return fail("has an empty path component");
    if (part == "." || part == "..")
      return fail("has a '.' or '..' component");
  }
  return caf::none;
}

caf::expected<resources> resources::parse(std::string_view text, const resource_schema& schema) {
  resources result;
  auto items = split_top(text, ';');
  for (size_t i = 0; i < items.size(); ++i) {
    auto item = trim(items[i]);
    if (item.empty()) {
      if (i + 1 == items.size() && i > 0)
        break; // a trailing ';' is fine
      if (items.size() == 1)
        break; // "" is the empty bag
      return make_error(errc::invalid_resources,
                        "empty item at position " + std::to_string(i + 1) + " in '"
                          + std::string{text} + "'");
    }
    if (auto err = parse_item(item, schema, result))
      return err;
  }
  return result;
}

std::string resources::to_string() const {
  std::string out;
  for (const auto& [key, value] : entries_) {
    if (!out.empty())
      out += ';';
    out += key.name;
    if (!key.reservations.empty())
      out += '(' + key.role() + ')';
    out += ':';
    switch (value.kind) {
      case resource_kind::scalar: out += format_scalar(value.millis); break;
      case resource_kind::ranges: out += value.ranges.to_string(); break;
      case resource_kind::set: {
        out += '{';
        bool first = true;
        for (const auto& item : value.items) {
          out += (first ? "" : ",") + item;
          first = false;
        }
        out += '}';
        break;
      }
    }
  }
  return out;
}

} // namespace troupe
