// One leadership term as a supervised unit (DESIGN.md §3 "Supervision trees"): the actors that
// exist only while this node leads, under one runtime::supervisor with the one_for_all
// strategy, so the term starts, fails and ends as a whole.
//
//   leader_term            one_for_all; restart k waits backoff(k); more than `max_restarts`
//   │                      within `window` -> it exits with errc::supervisor_gave_up, and so
//   │                      does a registrar fenced by a newer term (errc::stale_epoch, not
//   │                      restarted: another node leads) -> its owner (the candidate) decides
//   ├── registrar          the registry's one writer; fenced by the term's epoch record
//   ├── offers             a supervisor of temporary children: every offer actor of the term
//   │                      links itself to it; its end ends them all, each returning its
//   │                      resources once (to the allocator, or dropped with a dead one)
//   └── master             recovers the registry through the registrar (a start after a
//       └── allocator      restart begins a new term epoch), then serves; the allocator is
//                          linked to it (they live and die together)
//
// A restart of the term is a new epoch: agents reregister when the new master's pings reach
// them (or their silence check fires), frameworks resubscribe when their driver notices.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "troupe/master/master_actor.hpp"
#include "troupe/runtime/store/store.hpp"
#include "troupe/runtime/supervision/supervisor.hpp"

namespace troupe::master {

struct leader_term_config {
  /// The template of the term's master: info without epoch; registrar, registry and the offers
  /// supervisor are filled in by the term.
  master_config master;
  std::shared_ptr<runtime::store> store; ///< where the registry lives (required)
  bool detached_registrar = true;        ///< false under the deterministic scheduler
  uint64_t elected_epoch = 1;            ///< the election's epoch for this term (≥ 1)
  /// Restart policy of the term (the strategy is always one_for_all).
  runtime::supervisor_config supervision = default_supervision();
  /// Called on the master's thread each time a master of this term serves (after every
  /// restart too, with the new epoch).
  std::function<void(const master_node_actor&, const v1::MasterInfo&)> on_serving;

  /// one_for_all, 0.5 s doubling to 5 s, at most 3 restarts within a minute.
  static runtime::supervisor_config default_supervision();
};

/// Spawns the term's supervisor from `owner` (which monitors it: the term's end by escalation
/// reaches the owner as a down message). Stop it with anon_send_exit(term, user_shutdown).
runtime::supervisor_actor spawn_leader_term(caf::local_actor* owner, leader_term_config cfg);

/// The master node's supervision tree as text (troupe-master --print-supervision).
std::string master_supervision_tree();

} // namespace troupe::master
