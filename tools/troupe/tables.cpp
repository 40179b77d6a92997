// `troupe agents|frameworks|tasks`: tables from the master's state snapshot, read from its HTTP
// API (/api/v1/state) when --master names it, else requested from the master actor.
#include <cctype>
#include <cstdio>
#include <iostream>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include "commands.hpp"
#include "troupe/master/master_actor.hpp"
#include "troupe/messages/json.hpp"
#include "troupe/messages/resources.hpp"
#include "troupe/runtime/errors.hpp"
#include "troupe/runtime/node_config.hpp"
#include "troupe/runtime/transport.hpp"
#include "troupe/runtime/seconds.hpp"
#include "troupe/tools/master_address.hpp"

namespace troupe::cli {

namespace {

// `text` cut to `width` columns ("~" marks a cut), so every row fits 100 columns.
std::string fit(const std::string& text, size_t width) {
  return text.size() <= width ? text : text.substr(0, width - 1) + "~";
}

std::string amount(double x) {
  char out[32];
  std::snprintf(out, sizeof out, "%g", x);
  return out;
}

// "used/offered/total" of one scalar resource of an agent.
std::string usage(const v1::AgentState& a, const char* name) {
  auto get = [name](const auto& list) {
    auto res = resources::from_proto(list);
    return res ? res->scalar(name) : 0.0;
  };
  return amount(get(a.used())) + "/" + amount(get(a.offered())) + "/"
         + amount(get(a.info().resources()));
}

void print_table(const v1::MasterState& st, const std::string& what, const std::string& state) {
  if (what == "agents") {
    std::printf("%-20s %-21s %-12s %-20s %s\n", "ID", "HOST:PORT", "STATUS",
                "CPUS used/offr/total", "MEM MB used/offr/total");
    for (const auto& a : st.agents())
      std::printf("%-20s %-21s %-12s %-20s %s\n", fit(a.info().id().value(), 20).c_str(),
                  fit(a.info().hostname() + ":" + std::to_string(a.info().actor_port()), 21)
                    .c_str(),
                  fit(a.status(), 12).c_str(), fit(usage(a, "cpus"), 20).c_str(),
                  fit(usage(a, "mem"), 22).c_str());
  } else if (what == "frameworks") {
    std::printf("%-20s %-32s %-10s %-7s %s\n", "ID", "NAME", "CONNECTED", "TASKS", "OFFERS");
    for (const auto& f : st.frameworks())
      std::printf("%-20s %-32s %-10s %-7u %u\n", fit(f.info().id().value(), 20).c_str(),
                  fit(f.info().name(), 32).c_str(), f.connected() ? "yes" : "no",
                  f.active_tasks(), f.offers());
  } else {
    std::printf("%-24s %-20s %-20s %-16s %s\n", "ID", "FRAMEWORK", "AGENT", "STATE", "NAME");
    for (const auto& t : st.tasks())
      if (state.empty() || v1::TaskState_Name(t.state()) == state)
        std::printf("%-24s %-20s %-20s %-16s %s\n", fit(t.task_id().value(), 24).c_str(),
                    fit(t.framework_id().value(), 20).c_str(),
                    fit(t.agent_id().value(), 20).c_str(),
                    fit(v1::TaskState_Name(t.state()), 16).c_str(), fit(t.name(), 15).c_str());
  }
}

// The records as a JSON array (protobuf's JSON mapping, one schema with the HTTP API).
template <class List>
void print_json(const List& list) {
  std::cout << '[';
  bool first = true;
  for (const auto& x : list) {
    std::cout << (first ? "" : ",") << to_json(x);
    first = false;
  }
  std::cout << "]\n";
}

void print(const v1::MasterState& st, const table_options& opts) {
  if (opts.output != "json") {
    print_table(st, opts.what, opts.state);
    return;
  }
  if (opts.what == "agents") {
    print_json(st.agents());
  } else if (opts.what == "frameworks") {
    print_json(st.frameworks());
  } else {
    std::vector<v1::Task> tasks;
    for (const auto& t : st.tasks())
      if (opts.state.empty() || v1::TaskState_Name(t.state()) == opts.state)
        tasks.push_back(t);
    print_json(tasks);
  }
}

// "running", "RUNNING" or "TASK_RUNNING" -> "TASK_RUNNING"; empty when not a state.
std::string state_name(const std::string& text) {
  std::string up;
  for (char c : text)
    up += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (up.rfind("TASK_", 0) != 0)
    up = "TASK_" + up;
  v1::TaskState parsed;
  return v1::TaskState_Parse(up, &parsed) && parsed != v1::TASK_UNKNOWN_STATE ? up : "";
}

// The pre-HTTP path: a state request to the master actor.
int print_from_actors(const runtime::node_options& node, const runtime::endpoint& at,
                      const table_options& opts, bool http_answered) {
  runtime::node_config sys_cfg{node};
  caf::actor_system sys{sys_cfg};
  auto tp = runtime::make_middleman_transport(sys, std::chrono::seconds{5});
  auto master = tp->connect(at);
  if (!master) {
    std::cerr << "troupe: cannot reach the master's actors at " << at.host << ":" << at.port
              << " (" << runtime::say(master.error()) << ")"
              << (http_answered ? "" : "; no HTTP API answered there either") << '\n';
    return tools::exit_code::unreachable;
  }
  caf::scoped_actor self{sys};
  int code = tools::exit_code::unreachable;
  self->request(*master, std::chrono::seconds{10}, master::state_atom::value)
    .receive(
      [&](const v1::MasterState& st) {
        print(st, opts);
        code = 0;
      },
      [&](const caf::error& err) {
        std::cerr << "troupe: the master did not answer the state request ("
                  << runtime::say(err) << ")\n";
      });
  return code;
}

} // namespace

int print_table(const runtime::node_options& node, table_options opts) {
  if (!opts.state.empty()) {
    auto name = state_name(opts.state);
    if (name.empty()) {
      std::cerr << "troupe tasks: --state " << opts.state
                << ": not a task state; e.g. running, finished, failed, killed, unreachable "
                   "(troupe tasks --help)\n";
      return tools::exit_code::usage;
    }
    opts.state = name;
  }
  auto at = tools::wait_for_master(opts.master, runtime::from_seconds(opts.wait));
  if (!at) {
    std::cerr << "troupe: " << runtime::say(at.error()) << '\n';
    return tools::exit_code_for(at.error());
  }
  if (at->http) {
    auto st = tools::fetch_master_state(*at->http);
    if (st) {
      print(*st, opts);
      return 0;
    }
    // The HTTP API answered a moment ago: ask the actors instead (e.g. no snapshot yet).
    std::cerr << "troupe: " << runtime::say(st.error()) << "; asking the master's actors\n";
  }
  return print_from_actors(node, at->actors, opts, at->http.has_value());
}

} // namespace troupe::cli
