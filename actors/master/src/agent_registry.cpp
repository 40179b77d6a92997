#include "troupe/master/agent_registry.hpp"

#include "troupe/messages/errc.hpp"

namespace troupe::master {

agent_registry::agent_registry(std::string master_id, uint64_t max_missed_pings)
  : master_id_(std::move(master_id)), max_missed_(max_missed_pings) {
  // nop
}

admission agent_registry::admit(v1::AgentInfo info, resources total) {
  admission result;
  // The same host:port registering without an ID is a restarted agent that lost its work dir.
  for (auto& [id, rec] : agents_)
    if (rec.status != agent_status::gone && rec.info.hostname() == info.hostname()
        && rec.info.actor_port() == info.actor_port()) {
      result.replaced = rec.info.id();
      rec.status = agent_status::gone;
    }
  // IDs of agents readmitted under their own ID (after a failover) are never handed out again.
  do
    result.id.set_value(master_id_ + "-S" + std::to_string(next_agent_++));
  while (agents_.count(result.id.value()) > 0);
  *info.mutable_id() = result.id;
  agents_[result.id.value()] = agent_record{std::move(info), std::move(total),
                                            agent_status::registered, 0, 0, 0};
  return result;
}

caf::expected<readmission> agent_registry::readmit(v1::AgentInfo info, resources total) {
  readmission result;
  auto key = info.id().value();
  auto i = agents_.find(key);
  if (i != agents_.end() && i->second.status == agent_status::gone)
    return make_error(errc::not_found, "agent " + key + " is gone and may not reregister");
  if (i == agents_.end()) {
    result.was_unknown = true;
    i = agents_.emplace(key, agent_record{}).first;
  } else if (i->second.status == agent_status::recovered) {
    result.was_unknown = true;
  }
  result.was_unreachable = i->second.status == agent_status::unreachable;
  // One agent process per host:port: an older ID at this address can never come back.
  for (auto& [other, rec] : agents_)
    if (other != key && rec.status != agent_status::gone
        && rec.info.hostname() == info.hostname() && rec.info.actor_port() == info.actor_port()) {
      result.replaced.push_back(rec.info.id());
      rec.status = agent_status::gone;
    }
  i->second = agent_record{std::move(info), std::move(total), agent_status::registered, 0, 0, 0};
  return result;
}

ping_round agent_registry::next_ping_round() {
  ping_round round;
  for (auto& [id, rec] : agents_) {
    if (rec.status != agent_status::registered)
      continue;
    if (rec.outstanding_ping != 0 && ++rec.missed >= max_missed_) {
      rec.status = agent_status::unreachable;
      rec.outstanding_ping = 0;
      round.unreachable.push_back(rec.info.id());
      continue;
    }
    rec.outstanding_ping = ++next_seq_;
    round.pings.emplace_back(rec.info.id(), rec.outstanding_ping);
  }
  return round;
}

bool agent_registry::on_pong(const v1::AgentID& agent, uint64_t seq) {
  auto i = agents_.find(agent.value());
  if (i == agents_.end() || i->second.status != agent_status::registered)
    return false;
  auto& rec = i->second;
  // Sequence numbers are global and increasing: a ping to this agent newer than the last
  // answered one, and not newer than the last sent.
  if (seq <= rec.answered_ping || rec.outstanding_ping == 0 || seq > rec.outstanding_ping)
    return false;
  rec.answered_ping = seq;
  if (seq == rec.outstanding_ping)
    rec.outstanding_ping = 0;
  rec.missed = 0;
  return true;
}

void agent_registry::recover(v1::AgentInfo info, resources total, agent_status status) {
  auto key = info.id().value();
  agents_[key] = agent_record{std::move(info), std::move(total), status, 0, 0, 0};
}

void agent_registry::mark_unreachable(const v1::AgentID& agent) {
  if (auto i = agents_.find(agent.value()); i != agents_.end()
                                            && (i->second.status == agent_status::registered
                                                || i->second.status == agent_status::recovered)) {
    i->second.status = agent_status::unreachable;
    i->second.outstanding_ping = 0;
  }
}

void agent_registry::mark_gone(const v1::AgentID& agent) {
  if (auto i = agents_.find(agent.value()); i != agents_.end())
    i->second.status = agent_status::gone;
}

const agent_record* agent_registry::find(const v1::AgentID& agent) const {
  auto i = agents_.find(agent.value());
  return i == agents_.end() ? nullptr : &i->second;
}

std::vector<v1::AgentID> agent_registry::with_status(agent_status status) const {
  std::vector<v1::AgentID> result;
  for (const auto& [id, rec] : agents_)
    if (rec.status == status)
      result.push_back(rec.info.id());
  return result;
}

void agent_registry::set_total(const v1::AgentID& agent, resources total) {
  auto i = agents_.find(agent.value());
  if (i == agents_.end())
    return;
  i->second.info.clear_resources();
  total.to_proto(i->second.info.mutable_resources());
  i->second.total = std::move(total);
}

} // namespace troupe::master
