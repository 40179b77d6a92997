#include "troupe/master/registry_store.hpp"

#include <charconv>
#include <string>

#include "troupe/messages/errc.hpp"

namespace troupe::master {

namespace {

constexpr std::string_view epoch_key = "epoch";

// One flat key per role: hierarchical roles ("eng/web") would otherwise nest under their
// parent (ZooKeeper paths) and hide from a listing of the prefix. '%' and '/' are escaped;
// records carry the role itself, so keys are never decoded.
std::string role_key(const std::string& role) {
  std::string out;
  for (char c : role) {
    if (c == '%')
      out += "%25";
    else if (c == '/')
      out += "%2F";
    else
      out += c;
  }
  return out;
}

caf::expected<uint64_t> parse_epoch(const std::string& text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size())
    return make_error(errc::invalid_message, "registry record epoch is not a number: " + text);
  return value;
}

// Reads `key` into a new element made by `add` — only when the key still exists (it may have
// been erased between list and get) and parses.
template <class Add>
caf::error read_into(runtime::store& st, const std::string& key, Add add) {
  auto got = st.get(key);
  if (!got)
    return got.error();
  if (!*got)
    return caf::none;
  auto* out = add();
  if (!out->ParseFromString((*got)->value))
    return make_error(errc::invalid_message, "registry record " + key + " does not parse");
  return caf::none;
}

template <class Add>
caf::error load_prefix(runtime::store& st, const std::string& prefix, Add add) {
  auto keys = st.list(prefix);
  if (!keys)
    return keys.error();
  for (const auto& key : *keys)
    if (auto err = add(key))
      return err;
  return caf::none;
}

} // namespace

caf::expected<internal::Registry> load_registry(runtime::store& st) {
  internal::Registry out;
  if (auto got = st.get(epoch_key); !got)
    return got.error();
  else if (*got) {
    auto epoch = parse_epoch((*got)->value);
    if (!epoch)
      return epoch.error();
    out.set_epoch(*epoch);
  }
  auto each = [&](const std::string& prefix, auto add_one) {
    return load_prefix(st, prefix, [&](const std::string& key) {
      return read_into(st, key, add_one);
    });
  };
  if (auto err = each("agents/", [&] { return out.add_admitted(); }))
    return err;
  if (auto err = each("unreachable/", [&] { return out.add_unreachable(); }))
    return err;
  if (auto err = each("gone/", [&] { return out.add_gone(); }))
    return err;
  if (auto err = each("weights/", [&] { return out.add_weights(); }))
    return err;
  if (auto err = each("quotas/", [&] { return out.add_quotas(); }))
    return err;
  if (auto err = each("frameworks/", [&] { return out.add_frameworks(); }))
    return err;
  return out;
}

caf::expected<term_token> begin_term(runtime::store& st, uint64_t at_least, uint64_t held) {
  auto got = st.get(epoch_key);
  if (!got)
    return got.error();
  uint64_t stored = 0;
  if (*got) {
    auto epoch = parse_epoch((*got)->value);
    if (!epoch)
      return epoch.error();
    stored = *epoch;
  }
  if (held != 0 && stored != held)
    return make_error(errc::stale_epoch, "the registry is at epoch " + std::to_string(stored)
                                           + ", not this node's " + std::to_string(held)
                                           + ": a newer term began elsewhere");
  uint64_t epoch = std::max(at_least, stored + 1);
  auto written = st.put(epoch_key, std::to_string(epoch),
                        *got ? (*got)->version : uint64_t{0});
  if (!written)
    return written.error();
  if (auto err = st.sync())
    return err;
  return term_token{epoch, *written};
}

caf::error registry_writes(const internal::RegistryOperation& op,
                           std::vector<runtime::store_write>& out) {
  using O = internal::RegistryOperation;
  auto put = [&](std::string key, const google::protobuf::Message& msg) {
    out.push_back({std::move(key), msg.SerializeAsString(), std::nullopt});
  };
  auto erase = [&](std::string key) { out.push_back({std::move(key), std::nullopt, std::nullopt}); };
  switch (op.operation_case()) {
    case O::kAdmitAgent:
      put("agents/" + op.admit_agent().info().id().value(), op.admit_agent());
      break;
    case O::kMarkUnreachable:
      put("unreachable/" + op.mark_unreachable().agent_id().value(), op.mark_unreachable());
      break;
    case O::kMarkReachable:
      erase("unreachable/" + op.mark_reachable().value());
      break;
    case O::kMarkGone: {
      const auto& id = op.mark_gone().agent_id().value();
      put("gone/" + id, op.mark_gone());
      erase("unreachable/" + id);
      erase("agents/" + id);
      break;
    }
    case O::kSetWeight:
      put("weights/" + role_key(op.set_weight().role()), op.set_weight());
      break;
    case O::kSetQuota:
      if (op.set_quota().limits_size() == 0)
        erase("quotas/" + role_key(op.set_quota().role()));
      else
        put("quotas/" + role_key(op.set_quota().role()), op.set_quota());
      break;
    case O::kRecordLease:
      put("frameworks/" + op.record_lease().info().id().value(), op.record_lease());
      break;
    case O::kRemoveLease:
      erase("frameworks/" + op.remove_lease().value());
      break;
    default:
      return make_error(errc::invalid_argument, "registry operation without a case");
  }
  return caf::none;
}

caf::error commit_writes(runtime::store& st, const term_token& term,
                         const std::vector<runtime::store_write>& writes) {
  return st.commit(epoch_key, term.version, writes);
}

caf::error commit_operations(runtime::store& st, const term_token& term,
                             const std::vector<internal::RegistryOperation>& ops) {
  std::vector<runtime::store_write> writes;
  for (const auto& op : ops)
    if (auto err = registry_writes(op, writes))
      return err;
  return commit_writes(st, term, writes);
}

caf::error apply_operation(runtime::store& st, const internal::RegistryOperation& op) {
  std::vector<runtime::store_write> writes;
  if (auto err = registry_writes(op, writes))
    return err;
  for (auto& w : writes) {
    if (w.value) {
      if (auto written = st.put(w.key, std::move(*w.value), w.expected_version); !written)
        return written.error();
    } else if (auto err = st.erase(w.key, w.expected_version)) {
      return err;
    }
  }
  return caf::none;
}

} // namespace troupe::master
