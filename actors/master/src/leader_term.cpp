#include "troupe/master/leader_term.hpp"

#include <atomic>

#include <caf/actor_cast.hpp>
#include <caf/local_actor.hpp>

#include "troupe/master/registrar.hpp"
#include "troupe/messages/errc.hpp"

namespace troupe::master {

namespace {

/// The handles of the term's running children: a child's factory reads its elder siblings'
/// (children start in order, and a one_for_all restart starts them all again in order).
struct term_children {
  registrar_actor registrar;
  caf::actor offers;
  /// The epoch the term's last master served with (0: none yet). Written on that master's
  /// thread, read by the supervisor's: atomic.
  std::shared_ptr<std::atomic<uint64_t>> held = std::make_shared<std::atomic<uint64_t>>(0);
};

} // namespace

runtime::supervisor_config leader_term_config::default_supervision() {
  runtime::supervisor_config cfg;
  cfg.strategy = runtime::restart_strategy::one_for_all;
  cfg.backoff.initial = std::chrono::milliseconds{500};
  cfg.backoff.max = std::chrono::seconds{5};
  cfg.max_restarts = 3;
  cfg.window = std::chrono::minutes{1};
  cfg.name = "leader_term";
  return cfg;
}

runtime::supervisor_actor spawn_leader_term(caf::local_actor* owner, leader_term_config cfg) {
  auto kids = std::make_shared<term_children>();
  auto shared = std::make_shared<leader_term_config>(std::move(cfg));
  std::vector<runtime::child_spec> children;
  children.push_back({"registrar", [kids, shared](caf::local_actor* sup) {
                        registrar_config rcfg;
                        rcfg.store = shared->store;
                        rcfg.detached = shared->detached_registrar;
                        rcfg.node = shared->master.node;
                        kids->registrar = spawn_registrar(sup->system(), std::move(rcfg));
                        return caf::actor_cast<caf::actor>(kids->registrar);
                      }});
  children.push_back({"offers", [kids](caf::local_actor* sup) {
                        runtime::supervisor_config ocfg;
                        ocfg.name = "offers";
                        ocfg.temporary_children = true;
                        kids->offers = caf::actor_cast<caf::actor>(
                          runtime::spawn_supervisor(sup, std::move(ocfg), {}));
                        return kids->offers;
                      }});
  children.push_back({"master", [kids, shared](caf::local_actor* sup) {
                        auto mcfg = shared->master;
                        mcfg.registrar = kids->registrar;
                        mcfg.recover_epoch = shared->elected_epoch;
                        // A restart recovers only if no newer term began meanwhile.
                        mcfg.recover_held_epoch = kids->held->load();
                        mcfg.offers.supervisor = kids->offers;
                        mcfg.on_serving = [held = kids->held, report = shared->on_serving](
                                            const master_node_actor& m,
                                            const v1::MasterInfo& info) {
                          held->store(info.epoch());
                          if (report)
                            report(m, info);
                        };
                        return caf::actor_cast<caf::actor>(spawn_master(sup->system(), mcfg));
                      }});
  auto scfg = shared->supervision;
  scfg.strategy = runtime::restart_strategy::one_for_all;
  // Fenced by a newer term: another node leads, restarting cannot help (besides whatever the
  // configuration adds).
  scfg.escalate_now = [also = std::move(scfg.escalate_now)](const caf::error& reason) {
    return is(reason, errc::stale_epoch) || (also && also(reason));
  };
  return runtime::spawn_supervisor(owner, std::move(scfg), std::move(children));
}

std::string master_supervision_tree() {
  return R"(troupe-master
└── candidate            published on the actor port (typed: the wire protocol + state);
    │                    delegates to the serving term's master, answers 'unavailable' else
    ├── contender        linked; ZooKeeper or standalone election; restarted on a step-down
    └── leader_term      one_for_all supervisor, monitored; 0.5 s..5 s backoff, 3 restarts
        │                a minute, then (or when fenced by a newer term) the candidate steps
        │                down, waits, and contends again
        ├── registrar    the registry's one writer, fenced by the term's epoch record
        ├── offers       supervisor of temporary children: one offer actor per offer
        │   └── offer*   ends with its supervisor; returns its resources exactly once
        └── master       recovers the registry (a new epoch per start), then serves
            └── allocator  linked: lives and dies with its master
)";
}

} // namespace troupe::master
