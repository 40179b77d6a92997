#include "troupe/runtime/sim_network.hpp"

#include <map>
#include <set>
#include <utility>

#include <boost/core/demangle.hpp>
#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/monitorable_actor.hpp>
#include <fmt/format.h>

#include "troupe/messages/errc.hpp"
#include "troupe/runtime/random.hpp"

namespace troupe::runtime {

namespace {

using link = std::pair<std::string, std::string>; // from, to

/// The network's reaper -> itself: the proxy of (actor, node) dies now.
using sim_reap_atom = caf::atom_constant<caf::atom("simreap")>;

/// The network's reaper -> itself: message `n` in flight arrives now (unless its connection
/// broke meanwhile).
using sim_arrive_atom = caf::atom_constant<caf::atom("simarrive")>;

// The connection between two nodes, whichever direction.
link connection_of(const std::string& a, const std::string& b) {
  return a < b ? link{a, b} : link{b, a};
}

constexpr uint64_t fnv_offset = 1469598103934665603ull;
constexpr uint64_t fnv_prime = 1099511628211ull;

std::string key_of(const endpoint& at) {
  return at.host + ":" + std::to_string(at.port);
}

// Type names only: message contents may hold actor handles whose rendering is not stable.
std::string types_of(const caf::message& content) {
  std::string out;
  for (size_t i = 0; i < content.size(); ++i) {
    auto rtti = content.type(i);
    if (!out.empty())
      out += ',';
    out += rtti.second != nullptr ? boost::core::demangle(rtti.second->name())
                                  : std::to_string(rtti.first);
  }
  return out;
}

} // namespace

struct sim_network::impl {
  impl(caf::actor_system& s, uint64_t seed, sim_faults f)
    : sys(s), rng(seed, "sim-network"), faults(f) {
  }

  caf::actor_system& sys;
  caf::actor reaper; ///< kills proxies whose target died, once the news crossed the link
  std::weak_ptr<impl> weak_self; ///< what proxies hold (the network may go first)
  seeded_random rng;
  sim_faults faults;
  std::map<link, sim_faults> link_faults;
  std::map<std::string, sim_faults> node_faults; ///< every link to or from the node; kept by heal
  std::set<link> cuts;
  std::set<std::string> down;
  std::map<caf::actor_id, std::string> home;
  std::map<std::pair<caf::actor_id, std::string>, caf::actor> proxies;
  std::map<std::string, std::pair<caf::actor, std::string>> endpoints; // "host:port" -> at node
  uint16_t next_port = 10000;
  sim_stats stats;
  uint64_t hash = fnv_offset;
  bool tracing = false;
  std::vector<std::string> lines;

  caf::actor proxy(const caf::strong_actor_ptr& real, const std::string& seen_from);
  void route(caf::mailbox_element_ptr x, const caf::strong_actor_ptr& dest,
             const std::string& src);
  void record(const std::string& line);
  caf::expected<caf::actor> lookup(const endpoint& at, const std::string& from);
  void on_target_exit(caf::actor_id target, const std::string& seen_from, caf::error reason);
  void reap(caf::actor_id target, const std::string& seen_from);
  std::map<std::pair<caf::actor_id, std::string>, caf::error> exits; ///< reaps under way
  /// Per (sender, receiver): when its latest message arrives (FIFO unless it may reorder).
  std::map<std::pair<caf::actor_id, caf::actor_id>, caf::actor_clock::time_point> last_arrival;
  /// Per connection (node pair): how often it broke. A message in flight on a broken
  /// connection is lost, as TCP would lose it.
  std::map<link, uint64_t> breaks;
  struct in_flight {
    caf::strong_actor_ptr dest;
    caf::mailbox_element_ptr element;
    link connection;
    uint64_t breaks_at_send = 0;
  };
  std::map<uint64_t, in_flight> flying; ///< by sequence number
  uint64_t next_flight = 0;
  void arrive(uint64_t n);
};

namespace {

// "target as seen from node `from`": every message to it goes through the network.
class sim_proxy : public caf::monitorable_actor {
public:
  sim_proxy(caf::actor_config& cfg, std::weak_ptr<sim_network::impl> net,
            caf::strong_actor_ptr target, std::string from)
    : caf::monitorable_actor(cfg),
      net_(std::move(net)),
      target_(std::move(target)),
      from_(std::move(from)) {
  }

  void enqueue(caf::mailbox_element_ptr x, caf::execution_unit*) override {
    if (dead_) { // as CAF does for a terminated actor: drop, but answer a request
      if (x->mid.is_request() && x->sender)
        x->sender->enqueue(caf::make_mailbox_element(
                             nullptr, x->mid.response_id(), {},
                             caf::make_error(caf::sec::request_receiver_down)),
                           nullptr);
      return;
    }
    if (auto net = net_.lock())
      net->route(std::move(x), target_, from_);
  }

  /// The target is gone and the receiver's node heard of it: monitors get their down_msg,
  /// links their exit_msg, with the target's own exit reason.
  void die(caf::error reason) {
    dead_ = true;
    target_.reset();
    cleanup(std::move(reason), nullptr);
  }

  const char* name() const override {
    return "sim_proxy";
  }

private:
  std::weak_ptr<sim_network::impl> net_;
  caf::strong_actor_ptr target_;
  std::string from_;
  bool dead_ = false;
};

// One node's view: publishes at simulated endpoints, connects through proxies.
class sim_transport : public transport {
public:
  sim_transport(std::shared_ptr<sim_network::impl> net, std::string node)
    : net_(std::move(net)), node_(std::move(node)) {
    auto net_ptr = net_;
    auto node_name = node_;
    connector_ = net_->sys.spawn([net_ptr, node_name](caf::event_based_actor*) -> caf::behavior {
      return {
        [net_ptr, node_name](caf::connect_atom, const std::string& host,
                             uint16_t port) -> caf::result<caf::actor> {
          auto found = net_ptr->lookup({host, port}, node_name);
          if (!found)
            return found.error();
          return *found;
        },
      };
    });
  }

  ~sim_transport() override {
    caf::anon_send_exit(connector_, caf::exit_reason::user_shutdown);
  }

  caf::expected<uint16_t> publish(const caf::actor& whom, const endpoint& at) override {
    if (net_->down.count(node_) > 0)
      return make_error(errc::unavailable, "node " + node_ + " is down");
    auto port = at.port != 0 ? at.port : net_->next_port++;
    endpoint bound{at.host.empty() ? node_ : at.host, port};
    auto key = key_of(bound);
    if (auto i = net_->endpoints.find(key); i != net_->endpoints.end() && i->second.first != whom)
      return make_error(errc::unavailable, key + " is in use");
    net_->endpoints[key] = {whom, node_};
    net_->home[whom.id()] = node_;
    return port;
  }

  caf::expected<caf::actor> connect(const endpoint& at) override {
    return net_->lookup(at, node_);
  }

  caf::actor connector() override {
    return connector_;
  }

private:
  std::shared_ptr<sim_network::impl> net_;
  std::string node_;
  caf::actor connector_;
};

} // namespace

caf::actor sim_network::impl::proxy(const caf::strong_actor_ptr& real,
                                    const std::string& seen_from) {
  auto& p = proxies[{real->id(), seen_from}];
  if (!p) {
    caf::actor_config cfg;
    p = caf::make_actor<sim_proxy, caf::actor>(sys.next_actor_id(), sys.node(), &sys, cfg,
                                                weak_self, real, seen_from);
    // When the target ends, its proxies die too (so monitors on other nodes see it go), but
    // only after the link's longest delay: messages it sent before arrive before the news.
    auto net = weak_self;
    auto id = real->id();
    real->get()->attach_functor([net, id, seen_from](const caf::error& reason) {
      if (auto n = net.lock())
        n->on_target_exit(id, seen_from, reason);
    });
  }
  return p;
}

void sim_network::impl::on_target_exit(caf::actor_id target, const std::string& seen_from,
                                       caf::error reason) {
  auto key = std::make_pair(target, seen_from);
  if (proxies.count(key) == 0 || exits.count(key) > 0)
    return;
  auto h = home.find(target);
  auto lf = h != home.end() ? link_faults.find({h->second, seen_from}) : link_faults.end();
  auto delay = (lf != link_faults.end() ? lf->second : faults).max_delay;
  exits.emplace(key, std::move(reason));
  auto now = sys.clock().now();
  auto at = now + delay; // and after everything it sent is in (FIFO may push that later)
  for (auto i = last_arrival.lower_bound({target, 0});
       i != last_arrival.end() && i->first.first == target; ++i)
    at = std::max(at, i->second);
  sys.clock().schedule_message(at + std::chrono::microseconds{1},
                               caf::actor_cast<caf::strong_actor_ptr>(reaper),
                               caf::make_mailbox_element(nullptr, caf::make_message_id(), {},
                                                         sim_reap_atom::value, target,
                                                         seen_from));
}

void sim_network::impl::arrive(uint64_t n) {
  auto i = flying.find(n);
  if (i == flying.end())
    return;
  auto flight = std::move(i->second);
  flying.erase(i);
  if (breaks[flight.connection] != flight.breaks_at_send) {
    ++stats.dropped;
    record(fmt::format("t={} {}<->{} DROP(disconnected)",
                       std::chrono::duration_cast<std::chrono::microseconds>(
                         sys.clock().now().time_since_epoch()).count(),
                       flight.connection.first, flight.connection.second));
    return;
  }
  flight.dest->enqueue(std::move(flight.element), nullptr);
}

void sim_network::impl::reap(caf::actor_id target, const std::string& seen_from) {
  auto key = std::make_pair(target, seen_from);
  auto reason = exits.find(key);
  auto p = proxies.find(key);
  if (reason == exits.end() || p == proxies.end())
    return;
  auto at = std::chrono::duration_cast<std::chrono::microseconds>(
              sys.clock().now().time_since_epoch()).count();
  auto h = home.find(target);
  record(fmt::format("t={} {}->{} PROXY-DOWN", at, h != home.end() ? h->second : "?",
                     seen_from));
  auto proxy = std::move(p->second);
  proxies.erase(p);
  auto why = std::move(reason->second);
  exits.erase(reason);
  static_cast<sim_proxy*>(caf::actor_cast<caf::abstract_actor*>(proxy))->die(std::move(why));
}

caf::expected<caf::actor> sim_network::impl::lookup(const endpoint& at, const std::string& from) {
  auto i = endpoints.find(key_of(at));
  if (i == endpoints.end())
    return make_error(errc::unavailable, "nothing is published at " + key_of(at));
  const auto& [whom, node] = i->second;
  if (node == from)
    return whom; // same node: no network in between
  if (down.count(node) > 0 || cuts.count({from, node}) > 0 || cuts.count({node, from}) > 0)
    return make_error(errc::unavailable, "cannot reach " + key_of(at) + " from " + from);
  return proxy(caf::actor_cast<caf::strong_actor_ptr>(whom), from);
}

void sim_network::impl::record(const std::string& line) {
  for (unsigned char c : line)
    hash = (hash ^ c) * fnv_prime;
  hash = (hash ^ '\n') * fnv_prime;
  if (tracing)
    lines.push_back(line);
}

void sim_network::impl::route(caf::mailbox_element_ptr x, const caf::strong_actor_ptr& dest,
                              const std::string& src) {
  auto dst_home = home.find(dest->id());
  const std::string dst = dst_home != home.end() ? dst_home->second : src;
  if (x->sender && home.count(x->sender->id()) == 0)
    home[x->sender->id()] = src; // it sent through a proxy of its node: it lives there
  auto content = x->move_content_to_message();
  auto now = sys.clock().now();
  auto at = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  auto what = types_of(content);
  auto lf = link_faults.find({src, dst});
  auto nf = node_faults.find(dst);
  if (nf == node_faults.end())
    nf = node_faults.find(src);
  const auto& f = lf != link_faults.end()   ? lf->second
                  : nf != node_faults.end() ? nf->second
                                            : faults;
  const char* lost = nullptr;
  if (down.count(dst) > 0 || down.count(src) > 0) // a crashed node neither gets nor sends
    lost = "down";
  else if (cuts.count({src, dst}) > 0)
    lost = "cut";
  else if (rng.chance(f.drop))
    lost = "lost";
  if (lost != nullptr) {
    ++stats.dropped;
    record(fmt::format("t={} {}->{} {} DROP({})", at, src, dst, what, lost));
    return;
  }
  int copies = rng.chance(f.duplicate) ? 2 : 1;
  if (copies == 2)
    ++stats.duplicated;
  caf::strong_actor_ptr from; // the sender as the receiver's node sees it
  if (x->sender)
    from = caf::actor_cast<caf::strong_actor_ptr>(proxy(x->sender, dst));
  auto& last = last_arrival[{x->sender ? x->sender->id() : 0, dest->id()}];
  for (int c = 0; c < copies; ++c) {
    auto delay = rng.between(f.min_delay, f.max_delay);
    if (!rng.chance(f.reorder) && now + delay < last) // never before an earlier message
      delay = last - now;
    last = std::max(last, now + delay);
    ++stats.delivered;
    record(fmt::format("t={} {}->{} {} DELIVER +{}us", at, src, dst, what,
                       std::chrono::duration_cast<std::chrono::microseconds>(delay).count()));
    auto conn = connection_of(src, dst);
    auto n = next_flight++;
    flying.emplace(n, in_flight{dest, caf::make_mailbox_element(from, x->mid, {}, content), conn,
                                breaks[conn]});
    sys.clock().schedule_message(now + delay, caf::actor_cast<caf::strong_actor_ptr>(reaper),
                                 caf::make_mailbox_element(nullptr, caf::make_message_id(), {},
                                                           sim_arrive_atom::value, n));
  }
}

sim_network::sim_network(caf::actor_system& sys, uint64_t seed, sim_faults faults)
  : impl_(std::make_shared<impl>(sys, seed, faults)) {
  impl_->weak_self = impl_;
  std::weak_ptr<impl> net = impl_;
  impl_->reaper = sys.spawn([net](caf::event_based_actor*) -> caf::behavior {
    return {
      [net](sim_reap_atom, caf::actor_id target, const std::string& seen_from) {
        if (auto n = net.lock())
          n->reap(target, seen_from);
      },
      [net](sim_arrive_atom, uint64_t flight) {
        if (auto n = net.lock())
          n->arrive(flight);
      },
    };
  });
}

sim_network::~sim_network() {
  // Proxies hold their targets; dropping them here breaks every cycle through the network.
  impl_->proxies.clear();
  impl_->endpoints.clear();
  impl_->flying.clear();
  caf::anon_send_exit(impl_->reaper, caf::exit_reason::user_shutdown);
}

std::unique_ptr<transport> sim_network::transport_for(const std::string& node) {
  return std::make_unique<sim_transport>(impl_, node);
}

void sim_network::set_faults(sim_faults faults) {
  impl_->faults = faults;
}

void sim_network::set_link_faults(const std::string& from, const std::string& to,
                                  sim_faults faults) {
  impl_->link_faults[{from, to}] = faults;
}

void sim_network::set_node_faults(const std::string& node, sim_faults faults) {
  impl_->node_faults[node] = faults;
}

bool sim_network::reachable(const std::string& from, const std::string& to) const {
  const auto& n = *impl_;
  return n.down.count(from) == 0 && n.down.count(to) == 0 && n.cuts.count({from, to}) == 0
         && n.cuts.count({to, from}) == 0;
}

void sim_network::cut(const std::string& from, const std::string& to) {
  impl_->cuts.insert({from, to});
}

void sim_network::partition(const std::vector<std::string>& a,
                            const std::vector<std::string>& b) {
  for (const auto& x : a)
    for (const auto& y : b) {
      cut(x, y);
      cut(y, x);
    }
}

void sim_network::heal() {
  impl_->cuts.clear();
  impl_->link_faults.clear();
}

void sim_network::disconnect(const std::string& a, const std::string& b) {
  auto& n = *impl_;
  auto now = n.sys.clock().now();
  ++n.breaks[connection_of(a, b)]; // what is in flight between them is lost
  for (const auto& [key, proxy] : n.proxies) {
    auto h = n.home.find(key.first);
    if (h == n.home.end())
      continue;
    bool across = (h->second == a && key.second == b) || (h->second == b && key.second == a);
    if (!across || n.exits.count(key) > 0)
      continue;
    n.exits.emplace(key, caf::make_error(caf::exit_reason::remote_link_unreachable));
    n.sys.clock().schedule_message(now, caf::actor_cast<caf::strong_actor_ptr>(n.reaper),
                                   caf::make_mailbox_element(nullptr, caf::make_message_id(), {},
                                                             sim_reap_atom::value, key.first,
                                                             key.second));
  }
  n.record(fmt::format("t={} {}<->{} DISCONNECT",
                       std::chrono::duration_cast<std::chrono::microseconds>(
                         now.time_since_epoch()).count(), a, b));
}

void sim_network::take_down(const std::string& node) {
  impl_->down.insert(node);
  for (auto i = impl_->endpoints.begin(); i != impl_->endpoints.end();)
    i = i->second.second == node ? impl_->endpoints.erase(i) : std::next(i);
}

void sim_network::bring_up(const std::string& node) {
  impl_->down.erase(node);
}

const sim_stats& sim_network::stats() const {
  return impl_->stats;
}

uint64_t sim_network::trace_hash() const {
  return impl_->hash;
}

void sim_network::set_tracing(bool on) {
  impl_->tracing = on;
}

const std::vector<std::string>& sim_network::trace() const {
  return impl_->lines;
}

} // namespace troupe::runtime
