// `troupe agents|frameworks|tasks`: tables from the master's state snapshot.
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

namespace troupe::cli {

namespace {

std::string text(const google::protobuf::RepeatedPtrField<v1::Resource>& list) {
  auto res = resources::from_proto(list);
  return res ? res->to_string() : "?";
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

} // namespace

int print_table(const runtime::node_options& node, const table_options& opts) {
  auto at = runtime::parse_endpoint(opts.master);
  if (!at) {
    std::cerr << "--master: " << runtime::render(at.error()) << '\n';
    return 2;
  }
  runtime::node_config sys_cfg{node};
  caf::actor_system sys{sys_cfg};
  auto tp = runtime::make_middleman_transport(sys, std::chrono::seconds{5});
  auto master = tp->connect(*at);
  if (!master) {
    std::cerr << "cannot reach the master at " << opts.master << ": "
              << runtime::render(master.error()) << '\n';
    return 1;
  }
  caf::scoped_actor self{sys};
  int code = 1;
  self->request(*master, std::chrono::seconds{10}, master::state_atom::value)
    .receive(
      [&](const v1::MasterState& st) {
        print(st, opts.what);
        code = 0;
      },
      [&](const caf::error& err) {
        std::cerr << "state request failed: " << runtime::render(err) << '\n';
      });
  return code;
}

} // namespace troupe::cli
