// Whether a cluster spec and a fault plan can run, before anything is spawned.
#include <map>
#include <set>

#include "troupe/messages/errc.hpp"
#include "troupe/messages/resources.hpp"
#include "troupe/sim/cluster.hpp"

namespace troupe::sim {

namespace {

caf::error bad(const std::string& why) {
  return make_error(errc::invalid_argument, why);
}

bool probability(double p) {
  return p >= 0 && p <= 1;
}

} // namespace

caf::error cluster::check(const cluster_spec& spec) {
  if (spec.masters < 1 || spec.agents < 1)
    return bad("a cluster needs at least one master and one agent");
  for (auto [what, text] : {std::pair{"agent resources", &spec.agent_resources},
                            std::pair{"task resources", &spec.task_resources}}) {
    auto parsed = resources::parse(*text);
    if (!parsed)
      return bad(std::string{what} + " \"" + *text + "\": " + error_message(parsed.error()));
    if (parsed->empty())
      return bad(std::string{what} + " are empty");
  }
  const auto& f = spec.faults;
  if (!probability(f.drop) || !probability(f.duplicate) || !probability(f.reorder))
    return bad("drop, duplicate and reorder are probabilities (0 to 1)");
  if (f.min_delay < caf::timespan{0} || f.min_delay > f.max_delay)
    return bad("the link delay wants 0 <= min_delay <= max_delay");
  return caf::none;
}

caf::error cluster::check(const cluster_spec& spec, const fault_plan& plan) {
  if (auto err = check(spec))
    return err;
  std::map<std::string, bool> up; // node -> running
  for (uint32_t i = 1; i <= spec.masters; ++i)
    up[master_node(i)] = true;
  for (uint32_t i = 1; i <= spec.agents; ++i)
    up[agent_node(i)] = true;
  if (spec.tasks > 0)
    up[framework_node] = true;
  for (const auto& fw : spec.frameworks)
    up[fw.node] = true;
  if (spec.zookeeper)
    up["zk"] = true;
  auto nodes = "nodes are master-1.." + std::to_string(spec.masters) + ", agent-1.."
               + std::to_string(spec.agents) + (spec.tasks > 0 ? ", framework" : "")
               + (spec.zookeeper ? ", zk" : "");
  std::set<std::string> frozen;
  for (const auto& f : plan.faults()) {
    auto no = [&](const std::string& why) { return bad("\"" + f.text + "\": " + why); };
    for (const auto* group : {&f.nodes, &f.others})
      for (const auto& n : *group)
        if (up.count(n) == 0)
          return no("no node " + n + " (" + nodes + ")");
    const std::string node = f.nodes.empty() ? "" : f.nodes.front();
    bool agent = node.rfind("agent-", 0) == 0;
    bool master = node.rfind("master-", 0) == 0;
    switch (f.kind) {
      case fault_kind::partition: {
        std::set<std::string> a(f.nodes.begin(), f.nodes.end());
        for (const auto& n : f.others)
          if (a.count(n) > 0)
            return no(n + " is on both sides of the partition");
        break;
      }
      case fault_kind::cut: case fault_kind::clog: case fault_kind::disconnect:
        if (f.nodes[0] == f.nodes[1])
          return no("a link joins two different nodes");
        break;
      case fault_kind::heal:
        break;
      case fault_kind::expire:
      case fault_kind::freeze:
      case fault_kind::thaw:
        if (!spec.zookeeper)
          return no("expire, freeze and thaw need the simulated ZooKeeper (zookeeper = true)");
        if (!master)
          return no("only masters have ZooKeeper sessions here");
        if (f.kind == fault_kind::freeze && !frozen.insert(node).second)
          return no(node + " is frozen already");
        if (f.kind == fault_kind::thaw && frozen.erase(node) == 0)
          return no(node + " is not frozen");
        break;
      case fault_kind::crash:
        if (!master && !agent && node != framework_node)
          return no("only masters, agents and the example framework crash");
        if (!up[node])
          return no(node + " is already down");
        up[node] = false;
        break;
      case fault_kind::stop:
        if (!agent)
          return no("only agents stop (their executors run on); crash a master");
        if (!up[node])
          return no(node + " is already down");
        up[node] = false;
        break;
      case fault_kind::restart:
        if (!master && !agent)
          return no("only masters and agents restart");
        if (up[node])
          return no(node + " is running at " + describe(f).substr(2, describe(f).find(' ') - 2)
                    + ": crash or stop it first");
        up[node] = true;
        break;
      case fault_kind::fail_over:
        if (!master)
          return no("fail-over names the master to appoint");
        if (spec.zookeeper)
          return no("with ZooKeeper the election decides: expire, partition or crash the "
                    "leader instead");
        break;
    }
  }
  return caf::none;
}

} // namespace troupe::sim
