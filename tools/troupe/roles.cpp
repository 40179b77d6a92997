// `troupe weights` and `troupe quota`: read or set role weights and quota limits through the
// master's actor API (an OperatorCall request). Without --set/--remove they print what is in
// force; with them they update (all or nothing) and print the result.
#include <cmath>
#include <iomanip>
#include <set>
#include <iostream>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include "commands.hpp"
#include "troupe/messages/resources.hpp"
#include "troupe/runtime/errors.hpp"
#include "troupe/runtime/logging.hpp"
#include "troupe/runtime/node_config.hpp"
#include "troupe/runtime/transport.hpp"
#include "troupe/runtime/seconds.hpp"
#include "troupe/messages/json.hpp"
#include "troupe/tools/master_address.hpp"

namespace troupe::cli {

namespace {

// The message alone for troupe errors (what an operator reads), CAF's rendering otherwise.
std::string describe(const caf::error& err) {
  auto message = error_message(err);
  return message.empty() ? runtime::say(err) : message;
}

// "role=value" -> (role, value); the role is checked, the value by the caller.
caf::expected<std::pair<std::string, std::string>> split_setting(const std::string& text) {
  auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    return make_error(errc::invalid_argument, "'" + text + "' is not ROLE=VALUE");
  auto role = text.substr(0, eq);
  if (auto err = validate_role(role))
    return err;
  return std::make_pair(role, text.substr(eq + 1));
}

// Quota limits as the master takes them: unreserved scalar amounts > 0. A zero would vanish in
// parsing (empty entries are dropped) and leave that resource unlimited: refused instead.
caf::error check_limits(const std::string& role, const std::string& text,
                        const resources& limits) {
  for (const auto& [key, value] : limits.entries())
    if (value.kind != resource_kind::scalar || !key.reservations.empty())
      return make_error(errc::invalid_argument, "quota of " + role + ": limits are unreserved "
                                                "scalar amounts, not " + limits.to_string());
  size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find(';', pos);
    auto part = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    auto colon = part.find(':');
    auto name = part.substr(0, colon);
    if (colon != std::string::npos && !name.empty() && limits.scalar(name) == 0)
      return make_error(errc::invalid_argument,
                        "quota of " + role + ": a limit of 0 for " + name
                          + " is not supported (limits are > 0; leave " + name
                          + " out for no limit)");
    if (end == std::string::npos)
      break;
    pos = end + 1;
  }
  return caf::none;
}

caf::expected<v1::OperatorCall> build_call(const role_options& opts) {
  v1::OperatorCall call;
  bool update = !opts.set.empty() || !opts.remove.empty();
  std::set<std::string> roles; // each role once per call
  auto once = [&](const std::string& role) -> caf::error {
    if (!roles.insert(role).second)
      return make_error(errc::invalid_argument, "role " + role + " appears twice");
    return caf::none;
  };
  if (opts.what == "weights") {
    call.set_type(update ? v1::OperatorCall::UPDATE_WEIGHTS : v1::OperatorCall::GET_WEIGHTS);
    for (const auto& s : opts.set) {
      auto kv = split_setting(s);
      if (!kv)
        return kv.error();
      char* end = nullptr;
      double weight = std::strtod(kv->second.c_str(), &end);
      if (kv->second.empty() || *end != '\0')
        return make_error(errc::invalid_argument,
                          "weight of " + kv->first + ": '" + kv->second + "' is not a number");
      if (!std::isfinite(weight) || !(weight > 0))
        return make_error(errc::invalid_argument, "weight of " + kv->first + ": '" + kv->second
                                                    + "' is not a number > 0");
      if (auto err = once(kv->first))
        return err;
      auto* w = call.add_weights();
      w->set_role(kv->first);
      w->set_weight(weight);
    }
    return call;
  }
  call.set_type(update ? v1::OperatorCall::UPDATE_QUOTA : v1::OperatorCall::GET_QUOTA);
  for (const auto& s : opts.set) {
    auto kv = split_setting(s);
    if (!kv)
      return kv.error();
    auto limits = resources::parse(kv->second);
    if (!limits)
      return limits.error();
    if (auto err = check_limits(kv->first, kv->second, *limits))
      return err;
    if (limits->empty())
      return make_error(errc::invalid_argument,
                        "quota of " + kv->first + " is empty (use --remove " + kv->first + ")");
    if (auto err = once(kv->first))
      return err;
    auto* q = call.add_quotas();
    q->set_role(kv->first);
    limits->to_proto(q->mutable_limits());
  }
  for (const auto& role : opts.remove) {
    if (auto err = validate_role(role))
      return err;
    if (auto err = once(role))
      return err;
    call.add_quotas()->set_role(role); // no limits: removes the quota
  }
  return call;
}

void print(const v1::OperatorResponse& r, const std::string& what, const std::string& output) {
  if (output == "json") { // the master's answer as it is (protobuf's JSON mapping)
    std::cout << to_json(r) << '\n';
    return;
  }
  if (what == "weights") {
    std::cout << std::left << std::setw(30) << "ROLE" << "WEIGHT\n";
    for (const auto& w : r.weights())
      std::cout << std::left << std::setw(30) << w.role() << w.weight() << '\n';
    if (r.weights_size() == 0)
      std::cout << "(every role has weight 1)\n";
    return;
  }
  std::cout << std::left << std::setw(30) << "ROLE" << "LIMITS\n";
  for (const auto& q : r.quotas()) {
    auto limits = resources::from_proto(q.limits());
    std::cout << std::left << std::setw(30) << q.role()
              << (limits ? limits->to_string() : std::string{"?"}) << '\n';
  }
  if (r.quotas_size() == 0)
    std::cout << "(no role has a quota)\n";
}

} // namespace

int run_roles(const runtime::node_options& node, const role_options& opts) {
  auto call = build_call(opts);
  if (!call) {
    std::cerr << "troupe " << opts.what << ": " << describe(call.error()) << '\n';
    return 2;
  }
  auto at = tools::wait_for_master(opts.master, runtime::from_seconds(opts.wait));
  if (!at) {
    std::cerr << "troupe: " << runtime::say(at.error()) << '\n';
    return tools::exit_code_for(at.error());
  }
  runtime::make_node_logger(node);
  runtime::node_config sys_cfg{node};
  caf::actor_system sys{sys_cfg};
  auto tp = runtime::make_middleman_transport(sys);
  auto master = tp->connect(at->actors);
  if (!master) {
    std::cerr << "troupe " << opts.what << ": cannot reach the master's actors at "
              << at->actors.host << ":" << at->actors.port << " ("
              << runtime::say(master.error()) << ")\n";
    return tools::exit_code::unreachable;
  }
  int code = tools::exit_code::unreachable;
  {
    caf::scoped_actor self{sys};
    self->request(*master, std::chrono::seconds{30}, *call)
      .receive(
        [&](const v1::OperatorResponse& r) {
          print(r, opts.what, opts.output);
          code = 0;
        },
        [&](const caf::error& err) {
          std::cerr << "troupe " << opts.what << ": " << describe(err) << '\n';
          code = tools::exit_code_for(err) == tools::exit_code::usage ? tools::exit_code::usage
                                                                      : code;
        });
  }
  tp.reset();
  return code;
}

} // namespace troupe::cli
