// The `troupe` CLI's subcommands; each returns the process exit code.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "troupe/runtime/options.hpp"
#include "troupe/tools/node_flags.hpp"

namespace troupe::cli {

struct local_options {
  uint32_t agents = 2;
  std::string work_dir = "/tmp/troupe-local";
  std::string agent_resources = "cpus:2;mem:1024;disk:4096;ports:[31000-32000]";
  uint32_t example_tasks = 0;       ///< run the example framework with this many tasks
  std::string example_command = "echo hello from troupe; sleep 1";
  bool exit_when_done = false;      ///< stop after the example framework finished
  std::string isolation = "auto";   ///< auto | cgroups | posix (see troupe-agent --isolation)
};

struct run_options {
  std::string master = "127.0.0.1:5050"; ///< HTTP API (or actors) of the master
  double cpus = 0.1;
  double mem = 32;
  std::string name = "troupe-run";
  double timeout = 0;               ///< seconds; 0 = wait forever
  double failover_timeout = 60;     ///< seconds the master keeps the task without us
  std::string role;                 ///< the framework's role ("" = "*")
  std::vector<std::string> command; ///< argv after --
  double wait = 10;                 ///< seconds to wait for an unreachable or starting master
};

struct example_options {
  std::string master = "127.0.0.1:5050"; ///< HTTP API (or actors) of the master
  uint32_t tasks = 10;
  std::string command = "sleep 1";
  double cpus = 0.1;
  double mem = 16;
  uint32_t attempts = 3;
  std::string name = "batch";
  double timeout = 0;
  double failover_timeout = 60;     ///< seconds the master keeps the tasks without us
  std::string role;                 ///< the framework's role ("" = "*")
  double wait = 10;                 ///< seconds to wait for an unreachable or starting master
};

struct table_options {
  std::string master = "127.0.0.1:5050"; ///< HTTP API (or actors) of the master
  std::string what;                 ///< agents | frameworks | tasks
  double wait = 10;                 ///< seconds to wait for an unreachable or starting master
  std::string output = "table";     ///< table | json
  std::string state;                ///< tasks: only those in this state (e.g. running)
};

struct role_options {
  std::string master = "127.0.0.1:5050"; ///< HTTP API (or actors) of the master
  std::string what;                 ///< weights | quota
  std::vector<std::string> set;     ///< ROLE=WEIGHT or ROLE=LIMITS
  std::vector<std::string> remove;  ///< quota: roles whose limits go
  double wait = 10;                 ///< seconds to wait for an unreachable or starting master
  std::string output = "table";     ///< table | json
};

/// A bash completion script for `app` (its subcommands and every option), generated from the
/// CLI definition so it never falls behind.
std::string bash_completion(const CLI::App& app);

int run_local(const runtime::node_options& node, const tools::master_flags& master,
              const local_options& opts);
int run_task(const runtime::node_options& node, const run_options& opts);
int run_example(const runtime::node_options& node, const example_options& opts);
int print_table(const runtime::node_options& node, table_options opts);
int run_roles(const runtime::node_options& node, const role_options& opts);

} // namespace troupe::cli
