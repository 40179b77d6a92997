// The leadership term's supervision tree in virtual time (leader_term.hpp, master_candidate.hpp):
// a crash of any term actor restarts the whole term once its backoff passed — registrar, offers
// and master anew, the master with a new epoch — and nothing outside it; too many crashes, or a
// term fenced by a newer one, end the term, and the candidate steps down and contends again.
#include <boost/test/unit_test.hpp>

#include <memory>
#include <string>
#include <vector>

#include <caf/scoped_actor.hpp>

#include "troupe/master/leader_term.hpp"
#include "troupe/master/master_candidate.hpp"
#include "troupe/messages/errc.hpp"
#include "troupe/runtime/errors.hpp"
#include "troupe/runtime/store/memory_store.hpp"
#include "troupe/test/deterministic_fixture.hpp"

using namespace std::chrono_literals;
using namespace troupe;
using namespace troupe::master;
namespace election = troupe::runtime::election;

namespace {

/// A memory store that can be made to fail every call (an unreachable registry).
class breakable_store : public runtime::store {
public:
  bool broken = false;

  caf::expected<std::optional<runtime::entry>> get(std::string_view key) override {
    if (broken)
      return down();
    return inner_.get(key);
  }
  caf::expected<uint64_t> put(std::string_view key, std::string value,
                              std::optional<uint64_t> version) override {
    if (broken)
      return down();
    return inner_.put(key, std::move(value), version);
  }
  caf::error erase(std::string_view key, std::optional<uint64_t> version) override {
    return broken ? down() : inner_.erase(key, version);
  }
  caf::expected<std::vector<std::string>> list(std::string_view prefix) override {
    if (broken)
      return down();
    return inner_.list(prefix);
  }
  caf::error sync() override {
    return broken ? down() : inner_.sync();
  }
  caf::error commit(std::string_view guard, uint64_t version,
                    const std::vector<runtime::store_write>& writes) override {
    return broken ? down() : inner_.commit(guard, version, writes);
  }

private:
  static caf::error down() {
    return make_error(errc::io_error, "the test broke the store");
  }
  runtime::memory_store inner_;
};

/// What the term's masters reported when they started serving.
struct served {
  std::vector<uint64_t> epochs;
  std::vector<master_node_actor> masters;
};

struct term_fixture : test::deterministic_fixture {
  std::shared_ptr<breakable_store> store = std::make_shared<breakable_store>();
  std::shared_ptr<served> out = std::make_shared<served>();
  caf::scoped_actor owner{sys};

  leader_term_config config() {
    leader_term_config cfg;
    cfg.master.info.set_id("m1");
    cfg.master.ping_interval = 1h;
    cfg.master.heartbeat_interval = 1h;
    cfg.master.allocator.allocation_interval = 1h;
    cfg.master.node = "term-test";
    cfg.store = store;
    cfg.detached_registrar = false;
    cfg.elected_epoch = 1;
    auto o = out;
    cfg.on_serving = [o](const master_node_actor& m, const v1::MasterInfo& info) {
      o->epochs.push_back(info.epoch());
      o->masters.push_back(m);
    };
    return cfg;
  }

  /// The term's running child `name` (null while it waits for a restart).
  caf::actor child(const runtime::supervisor_actor& term, const std::string& name) {
    caf::actor found;
    auto pending = owner->request(term, caf::infinite, runtime::which_atom::value, name);
    run();
    pending.receive([&](caf::actor& hdl) { found = std::move(hdl); }, [](caf::error&) {});
    return found;
  }

  /// Ends `hdl` abnormally with `reason` (not exit_reason::kill, which CAF 0.17 makes fatal to
  /// every linked actor, supervisor included).
  static void crash(const caf::actor& hdl, caf::error reason) {
    caf::anon_send(hdl, caf::exit_msg{hdl.address(), std::move(reason)});
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(leader_term_test, term_fixture)

BOOST_AUTO_TEST_CASE(a_crash_restarts_the_whole_term_with_a_new_epoch) {
  auto term = spawn_leader_term(owner.ptr(), config());
  run();
  BOOST_REQUIRE_EQUAL(out->epochs.size(), 1u);
  BOOST_CHECK_EQUAL(out->epochs[0], 1u);
  auto registrar = child(term, "registrar");
  auto offers = child(term, "offers");
  auto master = child(term, "master");
  BOOST_REQUIRE(registrar && offers && master);
  auto registrar_exit = watch(registrar);
  auto offers_exit = watch(offers);
  auto master_exit = watch(master);
  crash(registrar, make_error(errc::io_error, "registrar crashed"));
  run();
  // one_for_all: the siblings end with it; nothing starts before the backoff (0.5 s).
  BOOST_CHECK(registrar_exit->down && offers_exit->down && master_exit->down);
  BOOST_CHECK(!child(term, "master"));
  advance(499ms);
  BOOST_CHECK_EQUAL(out->epochs.size(), 1u);
  advance(1ms);
  BOOST_REQUIRE_EQUAL(out->epochs.size(), 2u);
  BOOST_CHECK_EQUAL(out->epochs[1], 2u); // a restart is a new term epoch, fencing the old one
  auto master2 = child(term, "master");
  BOOST_CHECK(master2 && master2 != master);
  BOOST_CHECK(child(term, "offers") != offers);
  BOOST_CHECK(child(term, "registrar") != registrar);
  caf::anon_send_exit(term, caf::exit_reason::user_shutdown);
  run();
}

BOOST_AUTO_TEST_CASE(too_many_restarts_end_the_term_with_supervisor_gave_up) {
  auto cfg = config();
  auto term = spawn_leader_term(owner.ptr(), cfg);
  run();
  auto term_exit = watch(caf::actor_cast<caf::actor>(term));
  // max_restarts (3) within the window are allowed; the 4th crash escalates.
  for (int i = 0; i < 3; ++i) {
    crash(child(term, "master"), make_error(errc::io_error, "master crashed"));
    run();
    advance(6s); // past any backoff
    BOOST_REQUIRE(!term_exit->down);
  }
  BOOST_CHECK_EQUAL(out->epochs.size(), 4u);
  crash(child(term, "master"), make_error(errc::io_error, "master crashed"));
  run();
  BOOST_REQUIRE(term_exit->down);
  BOOST_CHECK(is(term_exit->reason, errc::supervisor_gave_up));
}

BOOST_AUTO_TEST_CASE(a_fenced_registrar_ends_the_term_at_once) {
  auto term = spawn_leader_term(owner.ptr(), config());
  run();
  auto term_exit = watch(caf::actor_cast<caf::actor>(term));
  crash(child(term, "registrar"), make_error(errc::stale_epoch, "a newer term began"));
  run();
  BOOST_REQUIRE(term_exit->down);
  BOOST_CHECK(is(term_exit->reason, errc::stale_epoch));
  advance(10s);
  BOOST_CHECK_EQUAL(out->epochs.size(), 1u); // never restarted
}

BOOST_AUTO_TEST_CASE(a_registry_that_cannot_be_read_escalates_and_the_candidate_contends_again) {
  std::vector<election::standalone_contender_actor> contenders;
  std::vector<uint64_t> terms; // epochs served, 0 for "stopped serving"
  candidate_config cfg;
  cfg.master = config().master;
  cfg.store = store;
  cfg.detached_registrar = false;
  cfg.retry = 2s;
  cfg.make_contender = [&contenders](caf::actor_system& s, election::leadership_listener l) {
    contenders.push_back(election::spawn_standalone_contender(s, std::move(l)));
    return caf::actor_cast<election::contender_actor>(contenders.back());
  };
  cfg.on_term = [&terms](const v1::MasterInfo* info) { terms.push_back(info ? info->epoch() : 0); };
  // The registry cannot be read: every start of the term's master fails to recover.
  store->broken = true;
  candidate_actor candidate = spawn_master_candidate(sys, std::move(cfg));
  caf::anon_send(candidate, election::contend_atom::value, v1::MasterInfo{});
  run();
  BOOST_REQUIRE_EQUAL(contenders.size(), 1u);
  auto first_exit = watch(caf::actor_cast<caf::actor>(contenders[0]));
  // Restarts after 0.5 + 1 + 2 s, the 4th failure escalates: the candidate steps down (its
  // contender ends, so another node could lead), and nothing ever served.
  advance(3499ms);
  BOOST_CHECK(!first_exit->down);
  advance(2ms);
  BOOST_CHECK(first_exit->down);
  BOOST_CHECK(terms.empty());
  // A request meanwhile is refused, not lost.
  caf::scoped_actor self{sys};
  caf::error refused;
  auto pending = self->request(candidate, caf::infinite, state_atom::value);
  run();
  pending.receive([](v1::MasterState&) {}, [&](caf::error& err) { refused = std::move(err); });
  BOOST_CHECK(is(refused, errc::unavailable));
  // After `retry` a new contender contends and leads; once the registry is back, it serves.
  store->broken = false;
  advance(2s);
  BOOST_REQUIRE_EQUAL(contenders.size(), 2u);
  BOOST_REQUIRE_EQUAL(terms.size(), 1u);
  BOOST_CHECK_GE(terms[0], 1u);
  caf::expected<v1::MasterState> st = make_error(errc::unavailable, "no answer");
  auto answer = self->request(candidate, caf::infinite, state_atom::value);
  run();
  answer.receive([&](v1::MasterState& x) { st = std::move(x); }, [&](caf::error& e) { st = e; });
  BOOST_REQUIRE(st);
  BOOST_CHECK_EQUAL(st->master().epoch(), terms[0]);
  caf::anon_send_exit(candidate, caf::exit_reason::user_shutdown);
  run();
}

BOOST_AUTO_TEST_SUITE_END()
