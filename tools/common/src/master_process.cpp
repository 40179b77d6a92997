#include "troupe/tools/master_process.hpp"

#include <chrono>
#include <thread>

#include <iostream>
#include <vector>

#include <caf/scoped_actor.hpp>

#include <CLI/CLI.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "troupe/messages/errc.hpp"
#include "troupe/runtime/errors.hpp"
#include "troupe/runtime/logging.hpp"
#include "troupe/runtime/options.hpp"
#include "troupe/master/master_candidate.hpp"
#include "troupe/runtime/election/election.hpp"
#include "troupe/runtime/store/leveldb_store.hpp"
#include "troupe/runtime/store/memory_store.hpp"
#include "troupe/runtime/store/zookeeper_store.hpp"
#include "troupe/runtime/seconds.hpp"
#include "troupe/tools/http_routes.hpp"

namespace troupe::tools {

namespace election = runtime::election;

namespace {

// The registry's store as the flags ask: ZooKeeper (--zk), LevelDB (--work-dir) or memory.
caf::expected<std::shared_ptr<runtime::store>> open_registry(const master_flags& flags) {
  if (!flags.zk.empty()) {
    auto zk = election::parse_zk_url(flags.zk);
    if (!zk)
      return zk.error();
    auto st = runtime::zookeeper_store::open(
      zk->hosts, election::registry_root(*zk),
      std::chrono::milliseconds{static_cast<int64_t>(flags.zk_session_timeout * 1000)});
    if (!st)
      return st.error();
    return std::shared_ptr<runtime::store>{std::move(*st)};
  }
  if (!flags.work_dir.empty()) {
    auto st = runtime::leveldb_store::open(flags.work_dir + "/registry");
    if (!st)
      return st.error();
    return std::shared_ptr<runtime::store>{std::move(*st)};
  }
  runtime::node_logger("master")->warn(
    "registry in memory (no --zk, no --work-dir): a restart forgets agents and frameworks");
  return std::shared_ptr<runtime::store>{std::make_shared<runtime::memory_store>()};
}

} // namespace

master_process::master_process() : view_(&metrics_) {
  add_master_routes(http_, view_, metrics_, &leadership_);
}

// The candidate (its exit handler reports the term's end to leadership_) and the listener
// (which writes leadership_) refer to members: wait until they are gone.
master_process::~master_process() {
  http_.stop();
  view_.stop();
  std::vector<caf::actor> stopping;
  for (auto a : {detector_, listener_, caf::actor_cast<caf::actor>(master_)})
    if (a) {
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
      stopping.push_back(a);
    }
  if (sys_ != nullptr && !stopping.empty()) {
    caf::scoped_actor self{*sys_};
    for (const auto& a : stopping)
      self->wait_for(a);
  }
}

caf::error master_process::start(caf::actor_system& sys, runtime::transport& tp,
                                 const master_flags& flags, master::master_config cfg,
                                 bool announce) {
  sys_ = &sys;
  auto http_port = http_.start(flags.hostname, flags.http_port);
  if (!http_port)
    return make_error(errc::unavailable, "cannot serve HTTP on " + flags.hostname + ":"
                                           + std::to_string(flags.http_port) + ": "
                                           + runtime::say(http_port.error()));
  cfg.info.set_http_port(*http_port);
  auto store = open_registry(flags);
  if (!store) {
    http_.stop();
    return make_error(errc::unavailable, "cannot open the registry: "
                                           + runtime::say(store.error()));
  }
  store_ = *store;
  std::optional<election::zk_config> zk;
  if (!flags.zk.empty()) {
    zk = *election::parse_zk_url(flags.zk); // open_registry checked it
    zk->session_timeout = std::chrono::milliseconds{
      static_cast<int64_t>(flags.zk_session_timeout * 1000)};
    zk->quorum = flags.quorum;
  }
  master::candidate_config ccfg;
  ccfg.master = cfg;
  ccfg.store = store_;
  ccfg.make_contender = [zk](caf::actor_system& s, election::leadership_listener l) {
    return zk ? election::spawn_zookeeper_contender(s, *zk, std::move(l))
              : caf::actor_cast<election::contender_actor>(
                  election::spawn_standalone_contender(s, std::move(l)));
  };
  // A ZooKeeper reconnect within the session re-elects us with the same epoch: keep the term
  // that long. A third of the session: the server expires it a whole session after the last
  // contact, and the client notices a silent server after two thirds of one.
  if (zk)
    ccfg.suspend_grace = zk->session_timeout / 3;
  auto* view = &leadership_;
  ccfg.on_term = [view](const v1::MasterInfo* serving) { view->set_term(serving); };
  leadership_.set_self(cfg.info.id());
  auto candidate = master::spawn_master_candidate(sys, std::move(ccfg));
  master_ = candidate;
  auto port = tp.publish(caf::actor_cast<caf::actor>(candidate), {flags.hostname, flags.port});
  if (!port) {
    caf::anon_send_exit(candidate, caf::exit_reason::user_shutdown);
    master_ = nullptr;
    http_.stop();
    return make_error(errc::unavailable, "cannot publish the master on " + flags.hostname + ":"
                                           + std::to_string(flags.port) + ": "
                                           + runtime::say(port.error()));
  }
  cfg.info.set_actor_port(*port); // advertise the bound port, not 0
  if (zk) {
    listener_ = caf::actor_cast<caf::actor>(spawn_leadership_listener(sys, leadership_));
    detector_ = caf::actor_cast<caf::actor>(election::spawn_zookeeper_detector(
      sys, *zk, caf::actor_cast<election::leader_listener>(listener_)));
  }
  caf::anon_send(candidate, election::contend_atom::value, cfg.info);
  info_ = cfg.info;
  view_.start(sys, master_, info_);
  if (!zk) // a standalone master leads at once: its first snapshot is milliseconds away
    for (int i = 0; i < 3000 && view_.master_json().empty(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
  if (announce)
    write_port_files(flags);
  return {};
}

void master_process::write_port_files(const master_flags& flags) const {
  write_port_file(flags.port_file, static_cast<uint16_t>(info_.actor_port()));
  write_port_file(flags.http_port_file, static_cast<uint16_t>(info_.http_port()));
}

std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv,
                                      runtime::node_options& node) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage mistake exits 2 (CLI11's own codes vary).
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (auto err = runtime::validate(node)) {
    std::cerr << runtime::say(err) << '\n';
    return 2;
  }
  if (auto log = runtime::make_node_logger(node); !log) {
    std::cerr << runtime::say(log.error()) << '\n';
    return 2;
  }
  return std::nullopt;
}

} // namespace troupe::tools
