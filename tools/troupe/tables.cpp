// `troupe agents|frameworks|tasks`: tables from the master's state snapshot, read from its HTTP
// API (/api/v1/state) when --master names it, else requested from the master actor.
#include <cstdio>
#include <iostream>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include "commands.hpp"
#include "troupe/master/master_actor.hpp"
#include "troupe/messages/resources.hpp"
#include "troupe/runtime/errors.hpp"
#include "troupe/runtime/node_config.hpp"
#include "troupe/runtime/transport.hpp"
#include "troupe/runtime/seconds.hpp"
#include "troupe/tools/master_address.hpp"

namespace troupe::cli {

namespace {

std::string text(const google::protobuf::RepeatedPtrField<v1::Resource>& list) {
  auto res = resources::from_proto(list);
  if (!res)
    return "?";
  return res->empty() ? "-" : res->to_string();
}

void print(const v1::MasterState& st, const std::string& what) {
  if (what == "agents") {
    std::printf("%-20s %-22s %-12s %s\n", "ID", "HOST:PORT", "STATUS", "RESOURCES / USED / OFFERED");
    for (const auto& a : st.agents())
      std::printf("%-20s %-22s %-12s %s / %s / %s\n", a.info().id().value().c_str(),
                  (a.info().hostname() + ":" + std::to_string(a.info().actor_port())).c_str(),
                  a.status().c_str(), text(a.info().resources()).c_str(),
                  text(a.used()).c_str(), text(a.offered()).c_str());
  } else if (what == "frameworks") {
    std::printf("%-20s %-24s %-10s %-7s %s\n", "ID", "NAME", "CONNECTED", "TASKS", "OFFERS");
    for (const auto& f : st.frameworks())
      std::printf("%-20s %-24s %-10s %-7u %u\n", f.info().id().value().c_str(),
                  f.info().name().c_str(), f.connected() ? "yes" : "no", f.active_tasks(),
                  f.offers());
  } else {
    std::printf("%-28s %-20s %-20s %-16s %s\n", "ID", "FRAMEWORK", "AGENT", "STATE", "NAME");
    for (const auto& t : st.tasks())
      std::printf("%-28s %-20s %-20s %-16s %s\n", t.task_id().value().c_str(),
                  t.framework_id().value().c_str(), t.agent_id().value().c_str(),
                  v1::TaskState_Name(t.state()).c_str(), t.name().c_str());
  }
}

// The pre-HTTP path: a state request to the master actor.
int print_from_actors(const runtime::node_options& node, const runtime::endpoint& at,
                      const std::string& what, bool http_answered) {
  runtime::node_config sys_cfg{node};
  caf::actor_system sys{sys_cfg};
  auto tp = runtime::make_middleman_transport(sys, std::chrono::seconds{5});
  auto master = tp->connect(at);
  if (!master) {
    std::cerr << "troupe: cannot reach the master's actors at " << at.host << ":" << at.port
              << " (" << error_message(master.error()) << ")"
              << (http_answered ? "" : "; no HTTP API answered there either") << '\n';
    return tools::exit_code::unreachable;
  }
  caf::scoped_actor self{sys};
  int code = tools::exit_code::unreachable;
  self->request(*master, std::chrono::seconds{10}, master::state_atom::value)
    .receive(
      [&](const v1::MasterState& st) {
        print(st, what);
        code = 0;
      },
      [&](const caf::error& err) {
        std::cerr << "troupe: the master did not answer the state request ("
                  << error_message(err) << ")\n";
      });
  return code;
}

} // namespace

int print_table(const runtime::node_options& node, const table_options& opts) {
  auto at = tools::wait_for_master(opts.master, runtime::from_seconds(opts.wait));
  if (!at) {
    std::cerr << "troupe: " << error_message(at.error()) << '\n';
    return tools::exit_code_for(at.error());
  }
  if (at->http) {
    auto st = tools::fetch_master_state(*at->http);
    if (st) {
      print(*st, opts.what);
      return 0;
    }
    // The HTTP API answered a moment ago: ask the actors instead (e.g. no snapshot yet).
    std::cerr << "troupe: " << error_message(st.error()) << "; asking the master's actors\n";
  }
  return print_from_actors(node, at->actors, opts.what, at->http.has_value());
}

} // namespace troupe::cli
