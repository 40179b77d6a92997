// troupe: the command-line tool.
//
//   troupe local --agents N [--example-tasks K]     master + N agents in one process
//   troupe run --master HOST:PORT [--cpus C --mem M] -- CMD ARGS...
//   troupe example --master HOST:PORT --tasks N --command CMD   the example framework
//   troupe agents|frameworks|tasks --master HOST:PORT
//
// --master is the master's HTTP address (default 127.0.0.1:5050); the CLI asks it where the
// master's actors are. The actor endpoint itself is accepted too (tools::resolve_master), and so
// is zk://host:port[,host:port]/path: ZooKeeper names the leader, and `run`/`example` follow
// it across master failovers.
#include <iostream>
#include <optional>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "troupe/tools/master_process.hpp"
#include "troupe/runtime/errors.hpp"

using namespace troupe;

namespace {

// "troupe bogus": name the mistake and the commands, rather than CLI11's "a subcommand is
// required". Exit 2 for an unknown first word; nothing otherwise.
std::optional<int> unknown_command(CLI::App& app, int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-')
    return std::nullopt;
  std::string word = argv[1];
  std::string known;
  bool found = false;
  for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    known += (known.empty() ? "" : ", ") + sub->get_name();
    found = found || sub->get_name() == word;
  }
  if (found)
    return std::nullopt;
  std::cerr << "troupe: '" << word << "' is not a troupe command; the commands are: " << known
            << " (troupe --help)\n";
  return 2;
}

// The listing verbs (agents, frameworks, tasks) and the role verbs (weights, quota).
struct listing_commands {
  cli::table_options table;
  cli::role_options weights;
  cli::role_options quota;
  std::vector<CLI::App*> tables;
  CLI::App* weights_cmd = nullptr;
  CLI::App* quota_cmd = nullptr;
};

void add_listing_commands(CLI::App& app, const std::string& master_help,
                          const std::string& wait_help, listing_commands& out) {
  const std::string output_help = "table (for people, at most 100 columns) or json (for "
                                  "scripts: the master's records as JSON)";
  for (const char* what : {"agents", "frameworks", "tasks"}) {
    auto* cmd = app.add_subcommand(what, std::string{"list the cluster's "} + what);
    cmd->add_option("--output,-o", out.table.output, output_help)
      ->check(CLI::IsMember({"table", "json"}))->capture_default_str();
    if (std::string{what} == "tasks")
      cmd->add_option("--state", out.table.state,
                      "only tasks in this state: staging, starting, running, killing, finished, "
                      "failed, killed, error, dropped, unreachable, gone, gone_by_operator, "
                      "unknown (or TASK_RUNNING, ...)");
    cmd->add_option("--master", out.table.master, master_help)->capture_default_str();
    cmd->add_option("--wait", out.table.wait, wait_help)
      ->check(CLI::Range(0.0, 86400.0))->capture_default_str();
    out.tables.push_back(cmd);
  }
  out.weights.what = "weights";
  out.quota.what = "quota";
  auto* weights_cmd = out.weights_cmd =
    app.add_subcommand("weights", "show role weights, or set them with --set");
  weights_cmd->add_option("--master", out.weights.master, master_help)->capture_default_str();
  weights_cmd->add_option("--output,-o", out.weights.output, output_help)
    ->check(CLI::IsMember({"table", "json"}))->capture_default_str();
  weights_cmd->add_option("--wait", out.weights.wait, wait_help)
    ->check(CLI::Range(0.0, 86400.0))->capture_default_str();
  weights_cmd->add_option("--set", out.weights.set,
                          "ROLE=WEIGHT (> 0; repeat for several roles; stored in the master's "
                          "registry: ZooKeeper or --work-dir, else in memory)");
  auto* quota_cmd = out.quota_cmd =
    app.add_subcommand("quota", "show role quota limits, or set them with --set");
  quota_cmd->add_option("--master", out.quota.master, master_help)->capture_default_str();
  quota_cmd->add_option("--output,-o", out.quota.output, output_help)
    ->check(CLI::IsMember({"table", "json"}))->capture_default_str();
  quota_cmd->add_option("--wait", out.quota.wait, wait_help)
    ->check(CLI::Range(0.0, 86400.0))->capture_default_str();
  quota_cmd->add_option("--set", out.quota.set,
                        "ROLE=LIMITS, e.g. 'eng/web=cpus:8;mem:16384' (upper bounds on what the "
                        "role and its subroles hold, each > 0; repeat for several roles; stored in "
                        "the master's registry)");
  quota_cmd->add_option("--remove", out.quota.remove, "ROLE whose quota goes (repeatable)");
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"troupe: run and inspect a troupe cluster"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string{"troupe "} + TROUPE_VERSION);
  app.footer("Exit codes: 0 ok; 1 the work failed (e.g. a task failed without an exit status);\n"
             "2 usage or bad input; 3 cannot reach, or was refused by, the cluster; 124 a\n"
             "--timeout passed. `troupe run` exits with its task's own status when it has one.\n"
             "Commands that talk to a master wait up to --wait seconds (default 10; 0 = fail at\n"
             "once) while it cannot be reached or is starting.");
  runtime::node_options node;
  node.node_name = "troupe";
  runtime::add_node_options(app, node);

  const std::string master_help = "host:port of the master's HTTP API (its actor endpoint works "
                                  "too)";
  const std::string wait_help = "seconds to wait while the master cannot be reached or is "
                                "starting (0 = fail at once)";
  tools::master_flags master;
  cli::local_options local;
  auto* local_cmd = app.add_subcommand("local", "master + agents in one process until Ctrl-C");
  tools::add_master_flags(*local_cmd, master, false);
  local_cmd->add_option("--agents", local.agents, "number of agents")
    ->check(CLI::Range(1u, 1000u))->capture_default_str();
  local_cmd->add_option("--work-dir", local.work_dir, "agents' work dirs go below")
    ->capture_default_str();
  local_cmd->add_option("--agent-resources", local.agent_resources, "resources of each agent")
    ->capture_default_str();
  local_cmd->add_option("--example-tasks", local.example_tasks,
                        "also run the example framework with this many tasks");
  local_cmd->add_option("--example-command", local.example_command, "its tasks' shell command")
    ->capture_default_str();
  local_cmd->add_option("--isolation", local.isolation, "auto, cgroups or posix")
    ->check(CLI::IsMember({"auto", "cgroups", "posix"}))->capture_default_str();
  local_cmd->add_flag("--exit-when-done", local.exit_when_done,
                      "stop once the example framework is done (exit 0 if every task finished)");

  cli::run_options run;
  auto* run_cmd = app.add_subcommand("run", "run one command as a task; exit with its status");
  run_cmd->add_option("--master", run.master, master_help)->capture_default_str();
  run_cmd->add_option("--cpus", run.cpus, "cpus of the task")->capture_default_str();
  run_cmd->add_option("--mem", run.mem, "memory of the task (MB)")->capture_default_str();
  run_cmd->add_option("--name", run.name, "task name")->capture_default_str();
  run_cmd->add_option("--role", run.role, "the role to get offers for (default \"*\")");
  run_cmd->add_option("--timeout", run.timeout, "give up after this many seconds (0 = never)");
  run_cmd->add_option("--wait", run.wait, wait_help)
    ->check(CLI::Range(0.0, 86400.0))->capture_default_str();
  run_cmd->add_option("--failover-timeout", run.failover_timeout,
                      "seconds the master keeps the task while we are away")
    ->check(CLI::Range(0.0, 31536000.0))->capture_default_str();
  run_cmd->add_option("command", run.command, "the command and its arguments (after --)")
    ->required();

  cli::example_options example;
  auto* ex_cmd = app.add_subcommand("example", "run the example batch framework: N tasks to completion");
  ex_cmd->add_option("--master", example.master, master_help + "; or zk://hosts/path")->capture_default_str();
  ex_cmd->add_option("--tasks", example.tasks, "number of tasks")->check(CLI::Range(1u, 1000000u))
    ->capture_default_str();
  ex_cmd->add_option("--command", example.command, "each task's shell command")->capture_default_str();
  ex_cmd->add_option("--cpus", example.cpus, "cpus per task")->capture_default_str();
  ex_cmd->add_option("--mem", example.mem, "memory per task (MB)")->capture_default_str();
  ex_cmd->add_option("--attempts", example.attempts, "launches per task before giving up")
    ->check(CLI::Range(1u, 100u))->capture_default_str();
  ex_cmd->add_option("--name", example.name, "task ID prefix")->capture_default_str();
  ex_cmd->add_option("--role", example.role, "the role to get offers for (default \"*\")");
  ex_cmd->add_option("--timeout", example.timeout, "give up after this many seconds (0 = never)");
  ex_cmd->add_option("--wait", example.wait, wait_help)
    ->check(CLI::Range(0.0, 86400.0))->capture_default_str();
  ex_cmd->add_option("--failover-timeout", example.failover_timeout,
                     "seconds the master keeps our tasks while we are away (master failover, "
                     "restart of this command)")
    ->check(CLI::Range(0.0, 31536000.0))->capture_default_str();

  listing_commands lists;
  add_listing_commands(app, master_help, wait_help, lists);
  std::string shell;
  auto* completion_cmd = app.add_subcommand(
    "completion", "print a shell completion script: source <(troupe completion bash)");
  completion_cmd->add_option("shell", shell, "the shell (bash)")
    ->check(CLI::IsMember({"bash"}))->required();
  if (auto code = unknown_command(app, argc, argv))
    return *code;
  if (auto code = tools::parse_command_line(app, argc, argv, node))
    return *code;
  if (completion_cmd->parsed()) {
    std::cout << cli::bash_completion(app);
    return 0;
  }
  if (local_cmd->parsed())
    return cli::run_local(node, master, local);
  if (run_cmd->parsed())
    return cli::run_task(node, run);
  if (ex_cmd->parsed())
    return cli::run_example(node, example);
  if (lists.weights_cmd->parsed())
    return cli::run_roles(node, lists.weights);
  if (lists.quota_cmd->parsed())
    return cli::run_roles(node, lists.quota);
  for (auto* cmd : lists.tables)
    if (cmd->parsed()) {
      lists.table.what = cmd->get_name();
      return cli::print_table(node, lists.table);
    }
  return 2;
}
