// runtime/election against its backends: the standalone one, and a real standalone ZooKeeper
// 3.8 server (tests/support zookeeper_server; the ZooKeeper cases skip with a message when Java
// or the jars are missing). Contenders, detectors and listeners all live in this process; every
// wait is bounded and the server is stopped on every exit path by its fixture.
#include <boost/test/unit_test.hpp>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/send.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "troupe/messages/registration.hpp"
#include "troupe/runtime/election/election.hpp"
#include "troupe/runtime/errors.hpp"
#include "troupe/test/zookeeper_server.hpp"

using namespace std::chrono_literals;
using namespace troupe;
using namespace troupe::runtime::election;
using clock_type = std::chrono::steady_clock;

namespace {

struct test_config : caf::actor_system_config {
  test_config() {
    troupe::add_message_types(*this);
    runtime::add_error_category(*this);
    set("scheduler.max-threads", size_t{2});
  }
};

enum class kind { elected, lost, leader };

struct event {
  std::string who;
  kind what;
  uint64_t epoch = 0;
  std::optional<std::string> data;
  clock_type::time_point at;
};

// Everything the listeners heard, in order, for the test thread to wait on.
class event_log {
public:
  void push(event e) {
    std::lock_guard<std::mutex> guard{mtx_};
    e.at = clock_type::now();
    events_.push_back(std::move(e));
    cv_.notify_all();
  }

  size_t size() {
    std::lock_guard<std::mutex> guard{mtx_};
    return events_.size();
  }

  /// The first event at index >= `from` matching `pred`, waiting up to `timeout`.
  std::optional<event> wait_for(const std::function<bool(const event&)>& pred,
                                std::chrono::milliseconds timeout, size_t from = 0) {
    std::unique_lock<std::mutex> guard{mtx_};
    auto deadline = clock_type::now() + timeout;
    for (;;) {
      for (size_t i = from; i < events_.size(); ++i)
        if (pred(events_[i]))
          return events_[i];
      if (cv_.wait_until(guard, deadline) == std::cv_status::timeout) {
        for (size_t i = from; i < events_.size(); ++i)
          if (pred(events_[i]))
            return events_[i];
        return std::nullopt;
      }
    }
  }

  /// Contenders leading right now (by the elected/lost sequence).
  std::map<std::string, uint64_t> leaders() {
    std::lock_guard<std::mutex> guard{mtx_};
    std::map<std::string, uint64_t> out;
    for (auto& e : events_) {
      if (e.what == kind::elected)
        out[e.who] = e.epoch;
      else if (e.what == kind::lost)
        out.erase(e.who);
    }
    return out;
  }

  /// The last leader a detector reported (nullopt inside: it reported none).
  std::optional<std::optional<std::string>> last_seen(const std::string& detector) {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto i = events_.rbegin(); i != events_.rend(); ++i)
      if (i->what == kind::leader && i->who == detector)
        return i->data;
    return std::nullopt;
  }

private:
  std::mutex mtx_;
  std::condition_variable cv_;
  std::vector<event> events_;
};

struct fixture {
  test_config cfg;
  caf::actor_system sys{cfg};
  event_log log;
  std::vector<caf::actor> actors; ///< stopped before the actor system goes

  ~fixture() {
    for (auto& a : actors)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }

  leadership_listener leadership_recorder(const std::string& who) {
    auto* lg = &log;
    auto l = sys.spawn([lg, who](leadership_listener::pointer) -> leadership_listener::behavior_type {
      return {
        [=](elected_atom, uint64_t epoch) { lg->push({who, kind::elected, epoch, {}, {}}); },
        [=](lost_atom) { lg->push({who, kind::lost, 0, {}, {}}); },
      };
    });
    actors.push_back(caf::actor_cast<caf::actor>(l));
    return l;
  }

  leader_listener leader_recorder(const std::string& who) {
    auto* lg = &log;
    auto l = sys.spawn([lg, who](leader_listener::pointer) -> leader_listener::behavior_type {
      return {
        [=](leader_atom, std::optional<std::string>& data) {
          lg->push({who, kind::leader, 0, std::move(data), {}});
        },
      };
    });
    actors.push_back(caf::actor_cast<caf::actor>(l));
    return l;
  }

  template <class Handle>
  Handle keep(Handle h) {
    actors.push_back(caf::actor_cast<caf::actor>(h));
    return h;
  }

  std::function<bool(const event&)> elected_by(const std::string& who) {
    return [who](const event& e) { return e.what == kind::elected && e.who == who; };
  }
};

std::string master_info(int i) {
  return R"({"id":"master-)" + std::to_string(i) + R"(","host":"127.0.0.1","port":)"
         + std::to_string(5050 + i) + "}";
}

// Waits until detector `who` last reported `expected`.
bool detector_sees(event_log& log, const std::string& who,
                   const std::optional<std::string>& expected, std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  for (;;) {
    auto seen = log.last_seen(who);
    if (seen && *seen == expected)
      return true;
    if (clock_type::now() >= deadline)
      return false;
    std::this_thread::sleep_for(10ms);
  }
}

struct zk_fixture : fixture {
  test::zookeeper_server zk; // declared after the actor system: destroyed before it
  int next_path = 0;

  zk_config config(const std::string& path) {
    zk_config c;
    c.hosts = zk.hosts();
    c.path = path;
    c.session_timeout = 2s;
    return c;
  }

  // The actors must be gone before the server: their sessions close cleanly while it runs.
  ~zk_fixture() {
    for (auto& a : actors)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    caf::scoped_actor self{sys};
    for (auto& a : actors)
      self->wait_for(a);
    actors.clear();
  }
};

#define SKIP_WITHOUT_ZOOKEEPER()                                                                   \
  if (!zk.available()) {                                                                           \
    BOOST_TEST_MESSAGE("skipped: " << zk.why());                                                   \
    return;                                                                                        \
  }

} // namespace

BOOST_AUTO_TEST_SUITE(election_test)

BOOST_FIXTURE_TEST_CASE(standalone_contender_leads_at_once, fixture) {
  auto c = keep(spawn_standalone_contender(sys, leadership_recorder("c")));
  caf::anon_send(c, contend_atom::value, master_info(0));
  auto e = log.wait_for(elected_by("c"), 2s);
  BOOST_REQUIRE(e);
  BOOST_CHECK_EQUAL(e->epoch, 1u);
  auto mark = log.size();
  caf::anon_send(c, depose_atom::value);
  BOOST_CHECK(log.wait_for([](const event& e) { return e.what == kind::lost; }, 2s, mark));
  mark = log.size();
  caf::anon_send(c, appoint_atom::value);
  auto again = log.wait_for(elected_by("c"), 2s, mark);
  BOOST_REQUIRE(again);
  BOOST_CHECK_EQUAL(again->epoch, 2u);

  auto d = keep(spawn_standalone_detector(sys, master_info(0), leader_recorder("d")));
  BOOST_CHECK(detector_sees(log, "d", master_info(0), 2s));
  caf::anon_send(d, leader_atom::value, std::optional<std::string>{});
  BOOST_CHECK(detector_sees(log, "d", std::nullopt, 2s));
  caf::scoped_actor self{sys};
  self->request(d, 2s, leader_atom::value)
    .receive([](const std::optional<std::string>& x) { BOOST_CHECK(!x); },
             [](caf::error& err) { BOOST_FAIL("detector query failed: " << to_string(err)); });
}

BOOST_FIXTURE_TEST_CASE(zookeeper_one_leader_and_clean_failover, zk_fixture) {
  SKIP_WITHOUT_ZOOKEEPER();
  auto cfg = config("/troupe/failover");
  // A detector-only node that starts before any contender: no leader yet.
  keep(spawn_zookeeper_detector(sys, cfg, leader_recorder("observer")));
  BOOST_REQUIRE(detector_sees(log, "observer", std::nullopt, 10s));

  std::vector<contender_actor> contenders;
  for (int i = 0; i < 3; ++i) {
    auto name = "c" + std::to_string(i);
    contenders.push_back(keep(spawn_zookeeper_contender(sys, cfg, leadership_recorder(name))));
    keep(spawn_zookeeper_detector(sys, cfg, leader_recorder("d" + std::to_string(i))));
    caf::anon_send(contenders.back(), contend_atom::value, master_info(i));
  }
  auto first = log.wait_for([](const event& e) { return e.what == kind::elected; }, 10s);
  BOOST_REQUIRE_MESSAGE(first, "nobody was elected within 10 s");
  std::this_thread::sleep_for(500ms); // time for a (wrong) second leader to show up
  auto leaders = log.leaders();
  BOOST_REQUIRE_EQUAL(leaders.size(), 1u);
  auto leader = leaders.begin()->first;
  auto epoch = leaders.begin()->second;
  BOOST_CHECK_GE(epoch, 1u);
  int leader_index = leader.back() - '0';
  for (auto who : {"observer", "d0", "d1", "d2"})
    BOOST_CHECK_MESSAGE(detector_sees(log, who, master_info(leader_index), 5s),
                        who << " does not see " << leader);

  // Clean stop of the leader: its session closes, the next contender leads with a larger epoch.
  auto mark = log.size();
  auto stopped = clock_type::now();
  caf::anon_send_exit(contenders[static_cast<size_t>(leader_index)], caf::exit_reason::user_shutdown);
  auto next = log.wait_for([&](const event& e) { return e.what == kind::elected && e.who != leader; },
                           5s, mark);
  BOOST_REQUIRE_MESSAGE(next, "no new leader within 5 s of a clean step-down");
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(next->at - stopped);
  BOOST_TEST_MESSAGE("clean step-down -> new leader (" << next->who << ", epoch " << next->epoch
                                                        << "): " << took.count() << " ms");
  BOOST_CHECK_LE(took.count(), 1000);
  BOOST_CHECK_GT(next->epoch, epoch);
  BOOST_CHECK(log.wait_for([&](const event& e) { return e.what == kind::lost && e.who == leader; },
                           2s, mark));
  int next_index = next->who.back() - '0';
  for (auto who : {"observer", "d0", "d1", "d2"})
    BOOST_CHECK_MESSAGE(detector_sees(log, who, master_info(next_index), 5s),
                        who << " does not see the new leader " << next->who);
  BOOST_CHECK_EQUAL(log.leaders().size(), 1u);
}

namespace {

// Two contenders; ZooKeeper goes away (SIGTERM or SIGKILL) and comes back.
void check_zookeeper_loss(zk_fixture& f, bool crash) {
  auto& zk = f.zk;
  auto& log = f.log;
  auto& sys = f.sys;
  auto cfg = f.config(crash ? "/troupe/crash" : "/troupe/loss");
  for (int i = 0; i < 2; ++i) {
    auto c = f.keep(spawn_zookeeper_contender(sys, cfg, f.leadership_recorder("c" + std::to_string(i))));
    caf::anon_send(c, contend_atom::value, master_info(i));
  }
  auto first = log.wait_for([](const event& e) { return e.what == kind::elected; }, 10s);
  BOOST_REQUIRE_MESSAGE(first, "nobody was elected within 10 s");
  auto leader = first->who;

  // ZooKeeper goes away: the leader steps down on its first disconnect.
  auto mark = log.size();
  auto stopped = clock_type::now();
  if (crash)
    zk.kill();
  else
    zk.stop();
  auto lost = log.wait_for([&](const event& e) { return e.what == kind::lost && e.who == leader; },
                           4s, mark);
  BOOST_REQUIRE_MESSAGE(lost, "the leader kept leading without ZooKeeper");
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(lost->at - stopped);
  BOOST_TEST_MESSAGE("ZooKeeper " << (crash ? "killed" : "stopped")
                     << " -> leader stepped down: " << took.count() << " ms");
  BOOST_CHECK_LE(took.count(), 3000);
  std::this_thread::sleep_for(300ms);
  BOOST_CHECK(log.leaders().empty());

  // ZooKeeper comes back: someone leads again.
  mark = log.size();
  auto restarted = clock_type::now();
  BOOST_REQUIRE_MESSAGE(zk.start(), "ZooKeeper did not restart");
  auto again = log.wait_for([](const event& e) { return e.what == kind::elected; }, 15s, mark);
  BOOST_REQUIRE_MESSAGE(again, "nobody leads within 15 s of ZooKeeper's restart");
  BOOST_TEST_MESSAGE("ZooKeeper restarted -> " << again->who << " leads (epoch " << again->epoch
                     << "): "
                     << std::chrono::duration_cast<std::chrono::milliseconds>(again->at - restarted)
                          .count()
                     << " ms");
  std::this_thread::sleep_for(300ms);
  BOOST_CHECK_EQUAL(log.leaders().size(), 1u);
}

} // namespace

BOOST_FIXTURE_TEST_CASE(zookeeper_stop_steps_down_and_recovers, zk_fixture) {
  SKIP_WITHOUT_ZOOKEEPER();
  check_zookeeper_loss(*this, false);
}

BOOST_FIXTURE_TEST_CASE(zookeeper_crash_steps_down_and_recovers, zk_fixture) {
  SKIP_WITHOUT_ZOOKEEPER();
  check_zookeeper_loss(*this, true);
}

BOOST_FIXTURE_TEST_CASE(zookeeper_a_quorum_of_contenders_is_needed_to_lead, zk_fixture) {
  SKIP_WITHOUT_ZOOKEEPER();
  auto cfg = config("/troupe/quorum");
  cfg.quorum = 2;
  auto a = keep(spawn_zookeeper_contender(sys, cfg, leadership_recorder("a")));
  caf::anon_send(a, contend_atom::value, master_info(0));
  // Alone, the lowest member does not lead.
  BOOST_CHECK(!log.wait_for(elected_by("a"), 1500ms));
  auto b = spawn_zookeeper_contender(sys, cfg, leadership_recorder("b"));
  caf::anon_send(b, contend_atom::value, master_info(1));
  BOOST_REQUIRE_MESSAGE(log.wait_for(elected_by("a"), 5s), "a second contender made no quorum");
  BOOST_CHECK(!log.wait_for(elected_by("b"), 500ms));
  // The peer leaves: below the quorum, the leader steps down (and keeps contending).
  auto mark = log.size();
  caf::anon_send_exit(b, caf::exit_reason::user_shutdown);
  BOOST_CHECK(log.wait_for([](const event& e) { return e.what == kind::lost && e.who == "a"; },
                           5s, mark));
}

BOOST_AUTO_TEST_SUITE_END()
