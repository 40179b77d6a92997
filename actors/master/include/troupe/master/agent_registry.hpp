// The master's view of its agents, as a pure class: admission (the master assigns agent IDs),
// reregistration (an unreachable agent comes back; a gone one may not), and application-level
// liveness (pings with sequence numbers; an agent that leaves `max_missed_pings` pings in a row
// unanswered becomes unreachable; a late Pong still counts). The master actor drives it from its
// ping timer.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "troupe/messages/ids.hpp"
#include "troupe/messages/resources.hpp"

namespace troupe::master {

enum class agent_status {
  registered,  ///< answering pings, receives offers
  unreachable, ///< missed too many pings; may come back by reregistering
  gone,        ///< removed for good; must not come back
  recovered,   ///< admitted in an earlier leadership term, not yet reregistered in this one
};

/// What the master knows about one agent.
struct agent_record {
  v1::AgentInfo info;                     ///< as (re)registered, id set
  resources total;                        ///< parsed total resources
  agent_status status = agent_status::registered;
  uint64_t outstanding_ping = 0;          ///< newest ping not yet answered (0 = none)
  uint64_t answered_ping = 0;             ///< newest ping answered
  uint64_t missed = 0;                    ///< consecutive unanswered pings
};

/// Result of a first registration.
struct admission {
  v1::AgentID id;                         ///< the new agent's ID
  std::optional<v1::AgentID> replaced;    ///< same host:port was registered under this ID: the
                                          ///< old incarnation lost its state (master: mark gone)
};

/// Result of a reregistration.
struct readmission {
  bool was_unreachable = false;           ///< it came back from unreachable
  bool was_unknown = false;               ///< not yet known to the allocator (new to this
                                          ///< master, or recovered from the registry)
  std::vector<v1::AgentID> replaced;      ///< other IDs at the same host:port (recovered or
                                          ///< unreachable): that agent lost its state and
                                          ///< registered anew, a registration this term may not
                                          ///< have heard of (master: mark them gone)
};

/// One liveness round: pings to send and agents that just became unreachable.
struct ping_round {
  std::vector<std::pair<v1::AgentID, uint64_t>> pings;
  std::vector<v1::AgentID> unreachable;
};

class agent_registry {
public:
  /// `master_id` prefixes assigned agent IDs ("<master_id>-S<n>"; the master passes its ID and
  /// the term's epoch, "m1-e3", so no two terms assign the same ID).
  agent_registry(std::string master_id, uint64_t max_missed_pings);

  /// First registration (info.id unset). The caller validated `info`.
  admission admit(v1::AgentInfo info, resources total);

  /// Reregistration (info.id set): registered or unreachable -> registered; unknown ->
  /// admitted under its ID; gone -> errc::not_found (the master tells it to shut down). Other
  /// IDs at the same host:port are marked gone and listed in `replaced`.
  caf::expected<readmission> readmit(v1::AgentInfo info, resources total);

  /// One ping interval: every registered agent whose previous ping is unanswered counts a miss;
  /// at `max_missed_pings` misses it becomes unreachable; every other registered agent gets a
  /// new ping.
  ping_round next_ping_round();

  /// A Pong arrived. Any answer to a ping newer than the last answered one proves the agent
  /// alive (a slow link answers late) and resets the miss count; duplicates, answers to pings
  /// never sent and pongs from agents that are not registered are ignored. Returns whether it
  /// counted.
  bool on_pong(const v1::AgentID& agent, uint64_t seq);

  /// A record from the registry at the start of a term: `status` is recovered, unreachable or
  /// gone. Recovered agents get no pings until they reregister.
  void recover(v1::AgentInfo info, resources total, agent_status status);

  /// Marks a registered or recovered agent unreachable (a recovered agent that did not
  /// reregister in time).
  void mark_unreachable(const v1::AgentID& agent);

  /// A new total for a known agent (dynamic reservations); info.resources follows. No-op for
  /// unknown agents.
  void set_total(const v1::AgentID& agent, resources total);

  /// Marks an agent gone (operator, or a replaced incarnation).
  void mark_gone(const v1::AgentID& agent);

  /// The record of an agent, or nullptr.
  const agent_record* find(const v1::AgentID& agent) const;

  /// IDs of agents with `status`, in ID order.
  std::vector<v1::AgentID> with_status(agent_status status) const;

private:
  static std::string place_of(const v1::AgentInfo& info); ///< "host:port"
  void index(const std::string& id, const v1::AgentInfo& info);
  void unindex(const std::string& id, const v1::AgentInfo& info);
  std::vector<v1::AgentID> retire_others_at(const v1::AgentInfo& info, const std::string& except);

  std::string master_id_;
  uint64_t max_missed_;
  uint64_t next_agent_ = 0;
  uint64_t next_seq_ = 0;
  std::map<std::string, agent_record> agents_;
  /// "host:port" -> IDs recorded there that are not gone (a (re)registration retires the
  /// others without scanning every agent).
  std::map<std::string, std::set<std::string>> at_place_;
};

} // namespace troupe::master
