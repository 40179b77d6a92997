#include "troupe/master/agent_registry.hpp"

#include "troupe/messages/errc.hpp"

namespace troupe::master {

agent_registry::agent_registry(std::string master_id, uint64_t max_missed_pings)
  : master_id_(std::move(master_id)), max_missed_(max_missed_pings) {
  // nop
}

std::string agent_registry::place_of(const v1::AgentInfo& info) {
  return info.hostname() + ":" + std::to_string(info.actor_port());
}

void agent_registry::index(const std::string& id, const v1::AgentInfo& info) {
  at_place_[place_of(info)].insert(id);
}

void agent_registry::unindex(const std::string& id, const v1::AgentInfo& info) {
  auto p = at_place_.find(place_of(info));
  if (p == at_place_.end())
    return;
  p->second.erase(id);
  if (p->second.empty())
    at_place_.erase(p);
}

// One agent process per host:port: every other ID still at `info`'s place can never come back.
std::vector<v1::AgentID> agent_registry::retire_others_at(const v1::AgentInfo& info,
                                                          const std::string& except) {
  std::vector<v1::AgentID> out;
  auto p = at_place_.find(place_of(info));
  if (p == at_place_.end())
    return out;
  for (const auto& id : std::set<std::string>{p->second}) {
    if (id == except)
      continue;
    auto& rec = agents_.at(id);
    out.push_back(rec.info.id());
    rec.status = agent_status::gone;
    p->second.erase(id);
  }
  if (p->second.empty())
    at_place_.erase(p);
  return out;
}

admission agent_registry::admit(v1::AgentInfo info, resources total) {
  admission result;
  // The same host:port registering without an ID is a restarted agent that lost its work dir.
  if (auto replaced = retire_others_at(info, {}); !replaced.empty())
    result.replaced = replaced.back();
  // IDs of agents readmitted under their own ID (after a failover) are never handed out again.
  do
    result.id.set_value(master_id_ + "-S" + std::to_string(next_agent_++));
  while (agents_.count(result.id.value()) > 0);
  *info.mutable_id() = result.id;
  index(result.id.value(), info);
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
  } else {
    result.was_unknown = i->second.status == agent_status::recovered;
    unindex(key, i->second.info);
  }
  result.was_unreachable = i->second.status == agent_status::unreachable;
  result.replaced = retire_others_at(info, key);
  index(key, info);
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
  if (auto i = agents_.find(key); i != agents_.end())
    unindex(key, i->second.info);
  if (status != agent_status::gone)
    index(key, info);
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
  if (auto i = agents_.find(agent.value()); i != agents_.end()) {
    if (i->second.status != agent_status::gone)
      unindex(i->first, i->second.info);
    i->second.status = agent_status::gone;
  }
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
