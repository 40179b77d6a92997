// The flags of troupe-master and troupe-agent (and of `troupe local`, which runs both), parsed
// with CLI11 into the actors' configs, and the pieces every daemon main shares.
#pragma once

#include <csignal>
#include <string>

#include <caf/expected.hpp>

#include "troupe/agent/agent_actor.hpp"
#include "troupe/master/master_actor.hpp"

namespace CLI {
class App;
} // namespace CLI

namespace troupe::tools {

struct master_flags {
  std::string hostname = "127.0.0.1"; ///< advertised to agents and schedulers; also bound
  uint16_t port = 5055;               ///< actor port (0 = any)
  uint16_t http_port = 5050;          ///< HTTP API port (0 = any; the bound one is advertised)
  double ping_interval = 5;           ///< seconds between agent pings
  uint64_t max_missed_pings = 5;      ///< misses before an agent is unreachable
  double heartbeat_interval = 15;     ///< seconds between scheduler heartbeats
  double offer_timeout = 30;          ///< seconds before an unanswered offer is rescinded
  double allocation_interval = 1;     ///< seconds between allocation passes
  std::string port_file;              ///< write the bound actor port here
  std::string http_port_file;         ///< write the bound HTTP port here
  // High availability
  std::string zk;                     ///< zk://host:port[,host:port]/path; empty = standalone
  uint32_t quorum = 1;                ///< masters that must contend for one to lead (--zk)
  double zk_session_timeout = 10;     ///< seconds; a dead leader is noticed after about this
  std::string work_dir;               ///< registry in LevelDB here (without --zk); empty = memory
  double agent_reregister_timeout = 60; ///< seconds for recovered agents to come back
  double recovery_removal_limit = 1.0;  ///< fraction of them that may be marked unreachable
};

struct agent_flags {
  std::string master;                 ///< host:port of the master's actors, or zk://…/path
  std::string hostname = "127.0.0.1"; ///< advertised; executors connect here
  uint16_t port = 5065;               ///< actor port (0 = any)
  uint16_t http_port = 5060;          ///< HTTP API port (0 = any)
  std::string work_dir;               ///< required
  std::string resources;              ///< empty = detect cpus, mem, disk; ports [31000-32000]
  std::string attributes;             ///< e.g. "rack:r1;zone:west;level:3;keys:[1000-1500]"
  std::string executor;               ///< troupe-executor path; empty = next to this binary
  double executor_register_timeout = 60; ///< seconds for an executor to subscribe
  double executor_recovery_timeout = 900; ///< seconds executors wait for a restarted agent
  std::string isolation = "auto";     ///< auto | cgroups | posix
  bool cfs_quota = false;             ///< cgroups: hard CPU cap at the tasks' cpus
  uint64_t pids_max = 0;              ///< cgroups: per-container pids limit (0 = none)
  std::string port_file;              ///< write the bound actor port here
  std::string http_port_file;         ///< write the bound HTTP port here
};

/// Adds the master_flags options to `app` (troupe-master, `troupe local`); `with_ha` adds the
/// high-availability ones (--zk, --quorum, --work-dir, ...), which `troupe local` leaves out.
void add_master_flags(CLI::App& app, master_flags& flags, bool with_ha = true);
/// Adds the agent_flags options to `app`; `with_master` adds the required --master.
void add_agent_flags(CLI::App& app, agent_flags& flags, bool with_master = true);

/// The master's config from its flags; `id` is unique per process start.
caf::expected<master::master_config> to_master_config(const master_flags& flags,
                                                      uint64_t cluster_seed);

/// The agent's config from its flags (detecting resources when none are given).
caf::expected<agent::agent_config> to_agent_config(const agent_flags& flags,
                                                   uint64_t cluster_seed);

/// The agent's containerizer as the flags ask: `cgroups` (the capability check must pass),
/// `posix`, or `auto` (cgroups when the check passes, else posix with a warning saying why).
/// Sets cfg.info.isolation ("cgroups" or "none"). The cgroup root is per agent:
/// "troupe/agent-<hash of the work dir>", stable across restarts.
caf::expected<agent::containerizer_factory> choose_containerizer(const agent_flags& flags,
                                                                 agent::agent_config& cfg);

/// The cgroup root of the agent with this (absolute) work dir: "troupe/agent-<hash>".
std::string agent_cgroup_root(const std::string& work_dir);

/// Parses agent attributes, Mesos style: `name:value` pairs separated by ';'. A value that is a
/// number is SCALAR, `[a-b,c-d]` is RANGES, `{x,y}` is SET, anything else TEXT.
caf::expected<std::vector<v1::Attribute>> parse_attributes(const std::string& text);

/// What the host has: cpus (online CPUs), mem (total - min(1 GiB, half)), disk (of the file
/// system holding `dir`: total - min(5 GiB, half)), ports [31000-32000], in flag syntax.
std::string detect_resources(const std::string& dir);

/// The name of the effective user (what frameworks started from the CLI run their tasks as).
std::string current_user();

/// The directory of the running binary (for troupe-executor beside troupe-agent).
std::string own_directory();

/// Blocks SIGINT and SIGTERM in this thread (call before the actor system starts so its
/// threads inherit the mask) and returns the set to sigwait on.
sigset_t block_shutdown_signals();

/// Writes `port` to `path` atomically (write, then rename). Empty path: nothing.
void write_port_file(const std::string& path, uint16_t port);

} // namespace troupe::tools
