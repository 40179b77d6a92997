#include "troupe/tools/node_flags.hpp"

#include <sys/statvfs.h>
#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "troupe/isolation/cgroups_isolator.hpp"
#include "troupe/messages/builders.hpp"
#include "troupe/messages/errc.hpp"
#include "troupe/messages/resources.hpp"
#include "troupe/runtime/logging.hpp"
#include "troupe/runtime/random.hpp"
#include "troupe/runtime/seconds.hpp"

namespace troupe::tools {

void add_master_flags(CLI::App& app, master_flags& f, bool with_ha) {
  app.add_option("--hostname", f.hostname, "address to bind and advertise")->capture_default_str();
  app.add_option("--port", f.port, "actor port (0 = any)")->capture_default_str();
  app.add_option("--http-port", f.http_port, "HTTP API port (0 = any; the bound one is advertised)")
    ->capture_default_str();
  app.add_option("--ping-interval", f.ping_interval, "seconds between agent pings")
    ->check(CLI::Range(0.01, 3600.0))->capture_default_str();
  app.add_option("--max-missed-pings", f.max_missed_pings, "missed pings before unreachable")
    ->check(CLI::Range(uint64_t{1}, uint64_t{1000}))->capture_default_str();
  app.add_option("--heartbeat-interval", f.heartbeat_interval, "seconds between scheduler heartbeats")
    ->check(CLI::Range(0.01, 3600.0))->capture_default_str();
  app.add_option("--offer-timeout", f.offer_timeout, "seconds before an offer is rescinded (0 = never)")
    ->check(CLI::Range(0.0, 86400.0))->capture_default_str();
  app.add_option("--allocation-interval", f.allocation_interval, "seconds between allocation passes")
    ->check(CLI::Range(0.001, 3600.0))->capture_default_str();
  app.add_option("--port-file", f.port_file, "write the bound actor port to this file");
  app.add_option("--http-port-file", f.http_port_file, "write the bound HTTP port to this file");
  if (!with_ha)
    return;
  app.add_option("--zk", f.zk,
                 "zk://host:port[,host:port]/path: elect the leader and keep the registry in "
                 "ZooKeeper (default: standalone)");
  app.add_option("--quorum", f.quorum,
                 "with --zk: a master leads only while at least this many masters contend "
                 "(e.g. 2 of 3)")
    ->check(CLI::Range(1u, 99u))->capture_default_str();
  app.add_option("--zk-session-timeout", f.zk_session_timeout,
                 "seconds of ZooKeeper silence before a leader is replaced")
    ->check(CLI::Range(0.5, 600.0))->capture_default_str();
  app.add_option("--work-dir", f.work_dir,
                 "keep the registry in LevelDB here when there is no --zk (default: in memory)");
  app.add_option("--agent-reregister-timeout", f.agent_reregister_timeout,
                 "seconds after a failover for known agents to reregister")
    ->check(CLI::Range(0.1, 86400.0))->capture_default_str();
  app.add_option("--recovery-removal-limit", f.recovery_removal_limit,
                 "largest fraction of recovered agents marked unreachable at once")
    ->check(CLI::Range(0.0, 1.0))->capture_default_str();
}

void add_agent_flags(CLI::App& app, agent_flags& f, bool with_master) {
  if (with_master)
    app.add_option("--master", f.master,
                   "host:port of the master's actors, or zk://host:port[,host:port]/path")
      ->required();
  app.add_option("--hostname", f.hostname, "address to bind and advertise")->capture_default_str();
  app.add_option("--port", f.port, "actor port (0 = any)")->capture_default_str();
  app.add_option("--http-port", f.http_port, "HTTP API port (0 = any)")->capture_default_str();
  app.add_option("--work-dir", f.work_dir, "sandboxes and checkpoints")->required();
  app.add_option("--attributes", f.attributes,
                 "descriptive attributes, e.g. 'rack:r1;zone:west;level:3'");
  app.add_option("--resources", f.resources,
                 "e.g. 'cpus:4;mem:8192;ports:[31000-32000]' (default: detected)");
  app.add_option("--executor", f.executor, "troupe-executor binary (default: beside this one)");
  app.add_option("--executor-register-timeout", f.executor_register_timeout,
                 "seconds for an executor to subscribe")
    ->check(CLI::Range(0.1, 3600.0))->capture_default_str();
  app.add_option("--executor-recovery-timeout", f.executor_recovery_timeout,
                 "seconds executors wait for a restarted agent before ending their tasks")
    ->check(CLI::Range(0.1, 86400.0))->capture_default_str();
  app.add_option("--isolation", f.isolation,
                 "auto (cgroups when possible, else posix), cgroups or posix")
    ->check(CLI::IsMember({"auto", "cgroups", "posix"}))->capture_default_str();
  app.add_flag("--cfs-quota", f.cfs_quota, "cgroups: cap each container's CPU at its cpus");
  app.add_option("--pids-max", f.pids_max, "cgroups: processes per container (0 = no limit)");
  app.add_option("--port-file", f.port_file, "write the bound actor port to this file");
  app.add_option("--http-port-file", f.http_port_file, "write the bound HTTP port to this file");
}

caf::expected<master::master_config> to_master_config(const master_flags& f,
                                                      uint64_t cluster_seed) {
  master::master_config cfg;
  std::random_device rd;
  std::ostringstream id;
  id << std::hex << ((static_cast<uint64_t>(rd()) << 32) | rd());
  cfg.info.set_id(id.str().substr(0, 8));
  cfg.info.set_hostname(f.hostname);
  cfg.info.set_actor_port(f.port);
  cfg.info.set_http_port(f.http_port);
  cfg.info.set_version(TROUPE_VERSION);
  // The epoch is the leadership term's (master_candidate sets it when a term starts).
  cfg.ping_interval = runtime::from_seconds(f.ping_interval);
  cfg.max_missed_pings = f.max_missed_pings;
  cfg.heartbeat_interval = runtime::from_seconds(f.heartbeat_interval);
  cfg.offers.timeout = runtime::from_seconds(f.offer_timeout);
  cfg.allocator.allocation_interval = runtime::from_seconds(f.allocation_interval);
  cfg.allocator.seed = runtime::derive_seed(cluster_seed, "allocator");
  cfg.agent_reregister_timeout = runtime::from_seconds(f.agent_reregister_timeout);
  cfg.recovery_removal_limit = f.recovery_removal_limit;
  return cfg;
}

caf::expected<std::vector<v1::Attribute>> parse_attributes(const std::string& text) {
  std::vector<v1::Attribute> out;
  std::stringstream in{text};
  std::string item;
  auto bad = [](const std::string& what, const std::string& why) {
    return make_error(errc::config_error, "--attributes: '" + what + "' " + why);
  };
  while (std::getline(in, item, ';')) {
    if (item.empty())
      continue;
    auto colon = item.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == item.size())
      return bad(item, "is not name:value");
    v1::Attribute attr;
    attr.set_name(item.substr(0, colon));
    auto value = item.substr(colon + 1);
    for (const auto& other : out)
      if (other.name() == attr.name())
        return bad(item, "repeats the attribute " + attr.name());
    char* end = nullptr;
    double number = std::strtod(value.c_str(), &end);
    if (end != nullptr && *end == '\0' && std::isfinite(number)) {
      attr.set_type(v1::Value::SCALAR);
      attr.mutable_scalar()->set_value(number);
    } else if (value.front() == '[' && value.back() == ']') {
      attr.set_type(v1::Value::RANGES);
      std::stringstream ranges{value.substr(1, value.size() - 2)};
      std::string range;
      while (std::getline(ranges, range, ',')) {
        unsigned long long lo = 0, hi = 0;
        char dash = 0;
        std::stringstream r{range};
        if (!(r >> lo >> dash >> hi) || dash != '-' || lo > hi || !r.eof())
          return bad(item, "has a malformed range '" + range + "'");
        auto* x = attr.mutable_ranges()->add_range();
        x->set_begin(lo);
        x->set_end(hi);
      }
    } else if (value.front() == '{' && value.back() == '}') {
      attr.set_type(v1::Value::SET);
      std::stringstream members{value.substr(1, value.size() - 2)};
      std::string member;
      while (std::getline(members, member, ','))
        attr.mutable_set()->add_item(member);
    } else {
      attr.set_type(v1::Value::TEXT);
      attr.mutable_text()->set_value(value);
    }
    out.push_back(std::move(attr));
  }
  return out;
}

std::string detect_resources(const std::string& dir) {
  auto cpus = std::max(1u, std::thread::hardware_concurrency());
  uint64_t mem_mb = 1024;
  std::ifstream meminfo{"/proc/meminfo"};
  std::string key;
  uint64_t kb = 0;
  while (meminfo >> key >> kb) {
    if (key == "MemTotal:") {
      auto total = kb / 1024;
      mem_mb = total - std::min<uint64_t>(1024, total / 2);
      break;
    }
    meminfo.ignore(256, '\n');
  }
  uint64_t disk_mb = 1024;
  struct statvfs fs {};
  if (statvfs(dir.c_str(), &fs) == 0) {
    auto total = static_cast<uint64_t>(fs.f_blocks) * fs.f_frsize / (1024 * 1024);
    disk_mb = total - std::min<uint64_t>(5 * 1024, total / 2);
  }
  std::ostringstream os;
  os << "cpus:" << cpus << ";mem:" << mem_mb << ";disk:" << disk_mb << ";ports:[31000-32000]";
  return os.str();
}

std::string current_user() {
  // getpwuid_r, not $USER: the environment may name someone else than whom we run as.
  std::vector<char> buf(16384);
  struct passwd pw {};
  struct passwd* found = nullptr;
  if (getpwuid_r(geteuid(), &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr)
    return found->pw_name;
  return std::to_string(geteuid());
}

std::string own_directory() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string{"."} : exe.parent_path().string();
}

caf::expected<agent::agent_config> to_agent_config(const agent_flags& f,
                                                   uint64_t cluster_seed) {
  agent::agent_config cfg;
  std::error_code ec;
  std::filesystem::create_directories(f.work_dir, ec);
  if (ec)
    return make_error(errc::config_error, "--work-dir " + f.work_dir + ": " + ec.message());
  cfg.work_dir = std::filesystem::absolute(f.work_dir).string();
  auto text = f.resources.empty() ? detect_resources(cfg.work_dir) : f.resources;
  auto res = resources::parse(text);
  if (!res)
    return make_error(errc::config_error, "--resources: " + error_message(res.error()));
  auto attrs = parse_attributes(f.attributes);
  if (!attrs)
    return attrs.error();
  cfg.info = make_agent_info(f.hostname, f.port, *res);
  for (auto& a : *attrs)
    *cfg.info.add_attributes() = std::move(a);
  cfg.info.set_isolation("posix");
  cfg.info.set_version(TROUPE_VERSION);
  cfg.executor_path = f.executor.empty() ? own_directory() + "/troupe-executor" : f.executor;
  if (access(cfg.executor_path.c_str(), X_OK) != 0)
    return make_error(errc::config_error,
                      "executor " + cfg.executor_path + " is not an executable file (--executor)");
  // Port 0: known only once published; main then sends executor_endpoint_atom.
  if (f.port != 0)
    cfg.executor_endpoint = f.hostname + ":" + std::to_string(f.port);
  cfg.executor_register_timeout = runtime::from_seconds(f.executor_register_timeout);
  cfg.executor_recovery_timeout = runtime::from_seconds(f.executor_recovery_timeout);
  cfg.seed = cluster_seed;
  cfg.detached_updates = true; // one agent per daemon: fdatasyncs on their own thread
  return cfg;
}

sigset_t block_shutdown_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

void write_port_file(const std::string& path, uint16_t port) {
  if (path.empty())
    return;
  auto tmp = path + ".tmp";
  std::ofstream{tmp} << port << '\n';
  std::rename(tmp.c_str(), path.c_str());
}

// FNV-1a of the work dir: the same agent finds its cgroups again after a restart, and two
// agents on one host never share a root.
std::string agent_cgroup_root(const std::string& work_dir) {
  uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : work_dir)
    hash = (hash ^ c) * 1099511628211ull;
  std::ostringstream root;
  root << "troupe/agent-" << std::hex << (hash & 0xffffffffull);
  return root.str();
}

caf::expected<agent::containerizer_factory> choose_containerizer(const agent_flags& flags,
                                                                 agent::agent_config& cfg) {
  auto node = cfg.node;
  auto posix = [node](caf::actor_system& sys, isolation::container_watcher_actor watcher) {
    isolation::containerizer_config ccfg;
    ccfg.node = node;
    return isolation::spawn_posix_containerizer(sys, ccfg, std::move(watcher));
  };
  auto log = runtime::node_logger(node);
  if (flags.isolation == "posix") {
    cfg.info.set_isolation("none");
    return agent::containerizer_factory{posix};
  }
  isolation::cgroups_isolator_config icfg;
  icfg.root = agent_cgroup_root(cfg.work_dir);
  icfg.cfs_quota = flags.cfs_quota;
  if (flags.pids_max > 0)
    icfg.pids_max = flags.pids_max;
  auto iso = isolation::cgroups_isolator::make(icfg);
  if (!iso) {
    if (flags.isolation == "cgroups")
      return make_error(errc::config_error,
                        "--isolation=cgroups: " + error_message(iso.error()));
    log->warn("cgroups isolation unavailable ({}); tasks run without limits (isolation: none)",
              error_message(iso.error()));
    cfg.info.set_isolation("none");
    return agent::containerizer_factory{posix};
  }
  log->info("cgroups isolation: containers under {}", icfg.root);
  cfg.info.set_isolation("cgroups");
  std::shared_ptr<isolation::isolator> shared{std::move(*iso)};
  return agent::containerizer_factory{
    [node, shared](caf::actor_system& sys, isolation::container_watcher_actor watcher) {
      isolation::containerizer_config ccfg;
      ccfg.node = node;
      return isolation::spawn_containerizer(sys, ccfg, {shared}, std::move(watcher));
    }};
}

} // namespace troupe::tools
