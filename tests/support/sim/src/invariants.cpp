// The invariants a simulated run must keep (cluster.hpp says which, and when they are checked).
#include <algorithm>
#include <set>

#include "troupe/actors/common/task_transitions.hpp"
#include "troupe/messages/resources.hpp"
#include "troupe/sim/cluster.hpp"

namespace troupe::sim {

namespace {

std::string joined(const std::vector<v1::TaskState>& states) {
  std::string out;
  for (auto s : states)
    out += " " + v1::TaskState_Name(s);
  return out;
}

// TASK_UNKNOWN is a final answer too: the master never launched the task.
bool final_state(v1::TaskState s) {
  return common::is_terminal(s) || s == v1::TASK_UNKNOWN;
}

} // namespace

std::vector<std::string> cluster::check_state(const v1::MasterState& st) {
  std::vector<std::string> problems;
  std::map<std::string, std::string> status;
  for (const auto& a : st.agents()) {
    status[a.info().id().value()] = a.status();
    auto total = resources::from_proto(a.info().resources());
    auto u = resources::from_proto(a.used());
    auto o = resources::from_proto(a.offered());
    if (total && u && o && !total->contains(*u + *o))
      problems.push_back("agent " + a.info().id().value() + ": used " + u->to_string()
                         + " + offered " + o->to_string() + " exceed " + total->to_string());
  }
  std::set<std::string> frameworks;
  for (const auto& f : st.frameworks())
    frameworks.insert(f.info().id().value());
  for (const auto& offer : st.offers()) {
    auto s = status.find(offer.agent_id().value());
    if (s == status.end() || s->second != "registered")
      problems.push_back("offer " + offer.id().value() + " outlives agent "
                         + offer.agent_id().value()
                         + (s == status.end() ? " (gone)" : " (" + s->second + ")"));
    if (frameworks.count(offer.framework_id().value()) == 0)
      problems.push_back("offer " + offer.id().value() + " outlives framework "
                         + offer.framework_id().value());
  }
  return problems;
}

std::vector<std::string> cluster::check_updates(const v1::MasterState* at_end) const {
  std::vector<std::string> problems;
  // After the framework tore itself down, tasks it last saw unsettled (on an agent that was
  // away) are settled by the master: terminal there, or gone with the framework, once every
  // agent is back. Tasks on agents the plan left down (crashed or stopped, never restarted)
  // stay unreachable, as in Mesos until the agent is removed: they count as settled.
  std::set<std::string> live_at_master, on_down_agents;
  bool agents_back = true;
  if (at_end != nullptr) {
    std::set<std::string> down_ids;
    auto down = down_agent_nodes();
    for (const auto& a : at_end->agents())
      if (down.count(a.info().hostname()) > 0)
        down_ids.insert(a.info().id().value());
    for (const auto& t : at_end->tasks()) {
      if (!common::is_terminal(t.state()))
        live_at_master.insert(t.task_id().value());
      if (down_ids.count(t.agent_id().value()) > 0)
        on_down_agents.insert(t.task_id().value());
    }
    for (const auto& a : at_end->agents())
      agents_back = agents_back
                    && (a.status() == "registered" || a.status() == "gone"
                        || down_ids.count(a.info().id().value()) > 0);
  }
  auto settled_by_master = [&](const std::string& task) {
    if (on_down_agents.count(task) > 0)
      return true;
    return at_end != nullptr && outcome_->done && agents_back
           && live_at_master.count(task) == 0;
  };
  // Every task the framework heard of, and every example-framework task an executor ran even
  // if the framework never heard a word of it.
  std::map<std::string, std::vector<v1::TaskState>> seen = outcome_->updates;
  for (const auto& [task, sent] : outcome_->reported)
    if (task.rfind("copy-", 0) == 0)
      seen[task]; // empty when nothing arrived
  for (const auto& [task, states] : seen) {
    auto rep = outcome_->reported.find(task);
    std::vector<v1::TaskState> sent;
    if (rep != outcome_->reported.end())
      sent = rep->second;
    auto index_list = [&](const std::map<std::string, std::vector<size_t>>& m) {
      auto it = m.find(task);
      return it != m.end() ? it->second : std::vector<size_t>{};
    };
    auto stream_at = index_list(outcome_->stream_at);
    std::vector<v1::TaskState> stream;
    for (auto i : stream_at)
      stream.push_back(states[i]);
    // The stream: the executor's order, repeats allowed, nothing after its terminal state.
    size_t reached = 0; // index in `sent` of the latest state that arrived
    for (size_t i = 0; i < stream.size(); ++i) {
      auto at = std::find(sent.begin(), sent.end(), stream[i]);
      auto index = static_cast<size_t>(at - sent.begin());
      bool after_end = i > 0 && final_state(stream[i - 1]) && stream[i] != stream[i - 1];
      if (after_end || (at != sent.end() && index < reached)) {
        problems.push_back("task " + task + ": the executor reported" + joined(sent)
                           + " but the agent's stream brought" + joined(stream));
        break;
      }
      if (at != sent.end())
        reached = index;
    }
    // Nothing from the stream after a terminal state the master declared on its own (the task
    // is GONE, LOST, DROPPED, UNKNOWN...: the agent must not bring it back).
    for (auto m : index_list(outcome_->master_at)) {
      if (!final_state(states[m]))
        continue;
      for (auto j : stream_at)
        if (j > m && states[j] != states[m]) {
          problems.push_back("task " + task + ": " + v1::TaskState_Name(states[j])
                             + " from the agent after the master declared it "
                             + v1::TaskState_Name(states[m]));
          break;
        }
      break;
    }
    if (at_end == nullptr)
      continue;
    if ((states.empty() || !final_state(states.back())) && !settled_by_master(task))
      problems.push_back("task " + task + " never reached a terminal state:" + joined(states));
    // At least once: every state the executor reported arrived, unless the task was ended by
    // someone else (a terminal state the executor never reported: its agent or machine was
    // lost, the master answered for it), or the framework finished and left once a later
    // state reached it through the master (the agent's retries of the earlier one end there).
    bool ended_elsewhere = std::any_of(states.begin(), states.end(), [&](v1::TaskState s) {
      return final_state(s) && std::find(sent.begin(), sent.end(), s) == sent.end();
    });
    // A task the framework left unsettled when it finished (unreachable, replaced) is the
    // master's to settle; what its executor said later went nowhere.
    ended_elsewhere = ended_elsewhere
                      || ((states.empty() || !final_state(states.back()))
                          && settled_by_master(task));
    auto superseded = [&](size_t k) {
      return outcome_->done && std::any_of(sent.begin() + static_cast<long>(k) + 1, sent.end(),
                                           [&](v1::TaskState later) {
                                             return std::find(states.begin(), states.end(),
                                                              later) != states.end();
                                           });
    };
    for (size_t k = 0; k < sent.size(); ++k)
      if (auto s = sent[k]; !ended_elsewhere && !superseded(k)
                            && std::find(states.begin(), states.end(), s) == states.end()) {
        problems.push_back("task " + task + ": the executor reported " + v1::TaskState_Name(s)
                           + ", the framework never saw it (it saw" + joined(states) + ")");
        break;
      }
  }
  return problems;
}

std::vector<std::string> cluster::check_masters() const {
  std::vector<std::string> problems = outcome_->overlaps;
  for (const auto& v : *registry_violations_)
    problems.push_back("registry: " + v);
  size_t serving = 0; // a frozen one may still believe it leads: that is the fault injected
  std::string who;
  for (const auto& [i, epoch] : outcome_->serving)
    if (outcome_->frozen.count(i) == 0) {
      ++serving;
      who += " " + master_node(i) + " (epoch " + std::to_string(epoch) + ")";
    }
  if (serving > 1)
    problems.push_back("more than one master serves at once:" + who);
  for (const auto& [epoch, who] : outcome_->served) {
    std::set<uint32_t> distinct(who.begin(), who.end());
    if (distinct.size() > 1) {
      std::string names;
      for (auto i : distinct)
        names += " " + master_node(i);
      problems.push_back("epoch " + std::to_string(epoch) + " was served by" + names);
    }
  }
  return problems;
}

bool cluster::expired(const v1::MasterState& st) const {
  for (const auto& f : st.frameworks())
    if (f.info().name() == "sim-batch")
      return false;
  for (const auto& t : st.tasks()) // the example framework's tasks are "copy-<n>-<attempt>"
    if (t.task_id().value().rfind("copy-", 0) == 0 && !common::is_terminal(t.state()))
      return false;
  return true;
}

} // namespace troupe::sim
