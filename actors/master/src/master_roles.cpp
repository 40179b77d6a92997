// Operator calls on roles: weights and quota limits. Updates are validated as a whole, persisted
// (the registrar acknowledges each once durable), then applied to the allocator and answered;
// a term recovers them from the registry at its start.
#include <cmath>
#include <memory>

#include <caf/send.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "master_node.hpp"
#include "troupe/messages/errc.hpp"
#include "troupe/runtime/errors.hpp"

namespace troupe::master {

namespace {

using call_type = v1::OperatorCall;

caf::error invalid(const std::string& what) {
  return make_error(errc::invalid_argument, what);
}

// Quota limits are unreserved scalar amounts (what a subtree may hold of each resource).
caf::expected<resources> parse_limits(const v1::QuotaInfo& q) {
  auto limits = resources::from_proto(q.limits());
  if (!limits)
    return invalid("quota of role " + q.role() + ": " + error_message(limits.error()));
  for (const auto& [key, value] : limits->entries())
    if (value.kind != resource_kind::scalar || !key.reservations.empty())
      return invalid("quota of role " + q.role() + ": limits must be unreserved scalar "
                     "amounts, not " + limits->to_string());
  return limits;
}

} // namespace

caf::error master_node::validate_operator_call(const v1::OperatorCall& call) const {
  std::set<std::string> seen;
  auto check_role = [&](const std::string& role) -> caf::error {
    if (auto err = validate_role(role))
      return err;
    if (!seen.insert(role).second)
      return invalid("role " + role + " appears twice");
    return caf::none;
  };
  bool weights = call.type() == call_type::UPDATE_WEIGHTS;
  bool quotas = call.type() == call_type::UPDATE_QUOTA;
  if (!weights && call.weights_size() > 0)
    return invalid("weights are only set by UPDATE_WEIGHTS");
  if (!quotas && call.quotas_size() > 0)
    return invalid("quotas are only set by UPDATE_QUOTA");
  switch (call.type()) {
    case call_type::GET_WEIGHTS:
    case call_type::GET_QUOTA:
      return caf::none;
    case call_type::UPDATE_WEIGHTS:
      if (call.weights_size() == 0)
        return invalid("UPDATE_WEIGHTS names no role");
      for (const auto& w : call.weights()) {
        if (auto err = check_role(w.role()))
          return err;
        if (!std::isfinite(w.weight()) || !(w.weight() > 0))
          return invalid(fmt::format("the weight of role {} must be a number > 0, not {}",
                                     w.role(), w.weight()));
      }
      return caf::none;
    case call_type::UPDATE_QUOTA:
      if (call.quotas_size() == 0)
        return invalid("UPDATE_QUOTA names no role");
      for (const auto& q : call.quotas()) {
        if (auto err = check_role(q.role()))
          return err;
        if (auto limits = parse_limits(q); !limits)
          return limits.error();
      }
      return caf::none;
    default:
      return invalid("unknown operator call type "
                     + std::to_string(static_cast<int>(call.type())));
  }
}

caf::result<v1::OperatorResponse> master_node::on_operator_call(const v1::OperatorCall& call) {
  if (auto err = validate_operator_call(call))
    return err;
  std::vector<internal::RegistryOperation> ops;
  for (const auto& w : call.weights()) {
    auto& op = ops.emplace_back();
    op.mutable_set_weight()->set_role(w.role());
    op.mutable_set_weight()->set_weight(w.weight());
  }
  for (const auto& q : call.quotas()) {
    auto& op = ops.emplace_back();
    op.mutable_set_quota()->set_role(q.role());
    *op.mutable_set_quota()->mutable_limits() = q.limits();
  }
  if (ops.empty() || !cfg_.registrar) {
    apply_role_operations(ops);
    return role_response(call.type());
  }
  // Durable first: the answer means the next leader has it too.
  auto rp = self_->make_response_promise<v1::OperatorResponse>();
  auto left = std::make_shared<size_t>(ops.size());
  auto failed = std::make_shared<bool>(false);
  auto type = call.type();
  for (const auto& op : ops)
    self_->request(cfg_.registrar, std::chrono::seconds{30}, durable_atom::value, op)
      .then(
        [this, rp, left, failed, ops, type](bool) mutable {
          if (--*left > 0 || *failed)
            return;
          apply_role_operations(ops);
          rp.deliver(role_response(type));
        },
        [this, rp, failed](caf::error& err) mutable {
          if (*failed)
            return;
          *failed = true;
          log_->error("operator update not persisted: {}", runtime::render(err));
          rp.deliver(make_error(errc::unavailable,
                                "the registry did not store the update: " + error_message(err)));
        });
  return rp;
}

void master_node::apply_role_operations(const std::vector<internal::RegistryOperation>& ops) {
  for (const auto& op : ops) {
    if (op.has_set_weight()) {
      const auto& w = op.set_weight();
      weights_[w.role()] = w.weight();
      self_->send(allocator_, allocator::set_weight_atom::value, w.role(), w.weight());
      log_->info("role {}: weight {}", w.role(), w.weight());
    } else if (op.has_set_quota()) {
      const auto& q = op.set_quota();
      auto limits = resources::from_proto(q.limits());
      if (!limits) // validated before; a registry record written by hand could still be bad
        continue;
      if (limits->empty())
        quotas_.erase(q.role());
      else
        quotas_[q.role()] = *limits;
      self_->send(allocator_, allocator::set_quota_atom::value, q.role(), *limits);
      log_->info("role {}: quota {}", q.role(), limits->empty() ? "none" : limits->to_string());
    }
  }
}

v1::OperatorResponse master_node::role_response(v1::OperatorCall::Type type) const {
  v1::OperatorResponse out;
  out.set_type(type);
  if (type == call_type::GET_WEIGHTS || type == call_type::UPDATE_WEIGHTS)
    for (const auto& [role, weight] : weights_) {
      auto* w = out.add_weights();
      w->set_role(role);
      w->set_weight(weight);
    }
  else
    for (const auto& [role, limits] : quotas_) {
      auto* q = out.add_quotas();
      q->set_role(role);
      limits.to_proto(q->mutable_limits());
    }
  return out;
}

// Term start: the registry's weights and quotas go to the allocator before any pass.
void master_node::recover_roles() {
  std::vector<internal::RegistryOperation> ops;
  for (const auto& w : cfg_.registry.weights())
    *ops.emplace_back().mutable_set_weight() = w;
  for (const auto& q : cfg_.registry.quotas())
    *ops.emplace_back().mutable_set_quota() = q;
  apply_role_operations(ops);
}

} // namespace troupe::master
