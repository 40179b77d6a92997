// The supervisor on CAF's deterministic scheduler: restarts happen at the right virtual times,
// the intensity limit escalates, one_for_all restarts siblings, normal exits stay down.
#include <boost/test/unit_test.hpp>

#include <memory>
#include <string>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include "troupe/messages/errc.hpp"
#include "troupe/runtime/errors.hpp"
#include "troupe/runtime/supervision/supervisor.hpp"
#include "troupe/test/deterministic_fixture.hpp"

using namespace std::chrono_literals;
using namespace troupe;
using runtime::child_spec;
using runtime::restart_strategy;
using runtime::supervisor_config;

namespace {

using crash_atom = caf::atom_constant<caf::atom("crash")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;

caf::behavior worker(caf::event_based_actor* self) {
  return {
    [self](crash_atom) { self->quit(make_error(errc::unavailable, "worker crashed")); },
    [self](stop_atom) { self->quit(); },
  };
}

// Records every start of one child: how often, the latest handle, and the global start order.
struct starts {
  int count = 0;
  caf::actor last;
};

struct supervisor_fixture : test::deterministic_fixture {
  std::vector<std::string> order;

  child_spec child(const std::string& name, std::shared_ptr<starts> s) {
    return {name, [this, name, s](caf::local_actor* sup) {
              ++s->count;
              order.push_back(name);
              s->last = sup->spawn(worker);
              return s->last;
            }};
  }

  supervisor_config config(restart_strategy strategy, size_t max_restarts) {
    supervisor_config cfg;
    cfg.strategy = strategy;
    cfg.backoff = {100ms, 5s, 2.0};
    cfg.max_restarts = max_restarts;
    cfg.window = 10s;
    return cfg;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(supervisor_test, supervisor_fixture)

BOOST_AUTO_TEST_CASE(restarts_follow_the_backoff_in_virtual_time) {
  auto w = std::make_shared<starts>();
  auto sup = runtime::spawn_supervisor(sys, config(restart_strategy::one_for_one, 5),
                                       {child("w", w)});
  run();
  BOOST_REQUIRE_EQUAL(w->count, 1);
  auto first = w->last;
  caf::anon_send(w->last, crash_atom::value);
  run();
  BOOST_CHECK_EQUAL(advance(99ms), 0u);
  BOOST_CHECK_EQUAL(w->count, 1);
  BOOST_CHECK_EQUAL(advance(1ms), 1u);
  BOOST_CHECK_EQUAL(w->count, 2);
  BOOST_CHECK(w->last != first);
  // The second crash within the window waits twice as long.
  caf::anon_send(w->last, crash_atom::value);
  run();
  advance(199ms);
  BOOST_CHECK_EQUAL(w->count, 2);
  advance(1ms);
  BOOST_CHECK_EQUAL(w->count, 3);
  // ... and the third four times as long.
  caf::anon_send(w->last, crash_atom::value);
  run();
  advance(399ms);
  BOOST_CHECK_EQUAL(w->count, 3);
  advance(1ms);
  BOOST_CHECK_EQUAL(w->count, 4);
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(which_returns_the_current_child) {
  auto w = std::make_shared<starts>();
  auto sup = runtime::spawn_supervisor(sys, config(restart_strategy::one_for_one, 5),
                                       {child("w", w)});
  run();
  caf::scoped_actor self{sys};
  // The answer as (handle, error); a missing answer fails instead of hanging.
  auto ask = [&](const std::string& name) {
    self->send(sup, runtime::which_atom::value, name);
    run();
    std::pair<caf::actor, caf::error> result;
    bool answered = false;
    self->receive([&](const caf::actor& hdl) { result.first = hdl; answered = true; },
                  [&](const caf::error& err) { result.second = err; answered = true; },
                  caf::after(std::chrono::seconds{0}) >> [] {});
    BOOST_REQUIRE_MESSAGE(answered, "the supervisor did not answer 'which " << name << "'");
    return result;
  };
  auto current = ask("w");
  BOOST_REQUIRE(current.first);
  BOOST_CHECK(current.first == w->last);
  BOOST_CHECK(is(ask("nobody").second, errc::not_found));
  caf::anon_send(w->last, crash_atom::value);
  run();
  BOOST_CHECK(is(ask("w").second, errc::unavailable)); // waiting for its restart
  advance(100ms);
  auto restarted = ask("w");
  BOOST_REQUIRE(restarted.first);
  BOOST_CHECK(restarted.first == w->last);
  self->send(sup, runtime::restarts_atom::value);
  run();
  uint64_t restarts = 0;
  self->receive([&](uint64_t n) { restarts = n; }, caf::after(std::chrono::seconds{0}) >> [] {});
  BOOST_CHECK_EQUAL(restarts, 1u);
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(intensity_limit_escalates_to_the_parent) {
  auto a = std::make_shared<starts>();
  auto b = std::make_shared<starts>();
  auto sup = runtime::spawn_supervisor(sys, config(restart_strategy::one_for_one, 2),
                                       {child("a", a), child("b", b)});
  run();
  auto sup_exit = watch(caf::actor_cast<caf::actor>(sup));
  auto b_exit = watch(b->last);
  for (int i = 0; i < 2; ++i) {
    caf::anon_send(a->last, crash_atom::value);
    run();
    trigger_timeouts();
  }
  BOOST_CHECK_EQUAL(a->count, 3);
  BOOST_CHECK(!sup_exit->down);
  caf::anon_send(a->last, crash_atom::value); // the third failure within 10 s
  run();
  BOOST_REQUIRE(sup_exit->down);
  BOOST_CHECK_MESSAGE(is(sup_exit->reason, errc::supervisor_gave_up),
                      runtime::render(sup_exit->reason));
  BOOST_CHECK(error_message(sup_exit->reason).find("'a'") != std::string::npos);
  // The link took the healthy sibling down as well.
  BOOST_CHECK(b_exit->down);
  BOOST_CHECK_EQUAL(a->count, 3);
}

BOOST_AUTO_TEST_CASE(one_for_all_restarts_the_siblings_too) {
  auto a = std::make_shared<starts>();
  auto b = std::make_shared<starts>();
  auto c = std::make_shared<starts>();
  auto sup = runtime::spawn_supervisor(sys, config(restart_strategy::one_for_all, 5),
                                       {child("a", a), child("b", b), child("c", c)});
  run();
  auto old_a = watch(a->last);
  auto old_c = watch(c->last);
  order.clear();
  caf::anon_send(b->last, crash_atom::value);
  run();
  BOOST_CHECK(old_a->down); // siblings are stopped at once ...
  BOOST_CHECK(old_c->down);
  BOOST_CHECK(order.empty()); // ... and restarted only after the backoff
  advance(100ms);
  BOOST_CHECK_EQUAL(a->count, 2);
  BOOST_CHECK_EQUAL(b->count, 2);
  BOOST_CHECK_EQUAL(c->count, 2);
  BOOST_CHECK((order == std::vector<std::string>{"a", "b", "c"}));
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(siblings_failing_together_cause_one_restart_round) {
  auto a = std::make_shared<starts>();
  auto b = std::make_shared<starts>();
  auto sup = runtime::spawn_supervisor(sys, config(restart_strategy::one_for_all, 5),
                                       {child("a", a), child("b", b)});
  run();
  auto sup_exit = watch(caf::actor_cast<caf::actor>(sup));
  // Both crash before the supervisor runs: b's exit is already queued when a's failure makes
  // the supervisor stop b. That late exit must not look like the parent failing.
  caf::anon_send(a->last, crash_atom::value);
  caf::anon_send(b->last, crash_atom::value);
  run();
  BOOST_CHECK(!sup_exit->down);
  advance(100ms);
  BOOST_CHECK_EQUAL(a->count, 2);
  BOOST_CHECK_EQUAL(b->count, 2);
  advance(1min);
  BOOST_CHECK_EQUAL(a->count, 2); // one round, not two
  BOOST_CHECK(!sup_exit->down);
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(an_unrelated_linked_actor_failing_takes_the_supervisor_down) {
  auto w = std::make_shared<starts>();
  auto sup = runtime::spawn_supervisor(sys, config(restart_strategy::one_for_one, 5),
                                       {child("w", w)});
  run();
  auto sup_exit = watch(caf::actor_cast<caf::actor>(sup));
  auto w_exit = watch(w->last);
  // A parent is linked, not supervised: its failure ends the subtree with the same reason.
  auto parent = sys.spawn([sup](caf::event_based_actor* self) -> caf::behavior {
    self->link_to(sup);
    return {[self](crash_atom) { self->quit(make_error(errc::unavailable, "parent failed")); }};
  });
  run();
  caf::anon_send(parent, crash_atom::value);
  run();
  BOOST_REQUIRE(sup_exit->down);
  BOOST_CHECK(is(sup_exit->reason, errc::unavailable));
  BOOST_CHECK(w_exit->down);
}

BOOST_AUTO_TEST_CASE(normal_exit_is_not_restarted) {
  auto w = std::make_shared<starts>();
  auto sup = runtime::spawn_supervisor(sys, config(restart_strategy::one_for_one, 5),
                                       {child("w", w)});
  run();
  caf::anon_send(w->last, stop_atom::value);
  run();
  BOOST_CHECK(!has_pending_timeout());
  advance(1min);
  BOOST_CHECK_EQUAL(w->count, 1);
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(shutting_down_the_supervisor_stops_its_children) {
  auto w = std::make_shared<starts>();
  auto sup = runtime::spawn_supervisor(sys, config(restart_strategy::one_for_one, 5),
                                       {child("w", w)});
  run();
  auto w_exit = watch(w->last);
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
  run();
  BOOST_REQUIRE(w_exit->down);
  BOOST_CHECK(w_exit->reason == caf::exit_reason::user_shutdown);
  advance(1min);
  BOOST_CHECK_EQUAL(w->count, 1);
}

BOOST_AUTO_TEST_CASE(nested_supervisors_escalate_upwards) {
  auto w = std::make_shared<starts>();
  auto inner_cfg = config(restart_strategy::one_for_one, 0); // gives up at the first failure
  auto inner_starts = std::make_shared<starts>();
  auto outer = runtime::spawn_supervisor(
    sys, config(restart_strategy::one_for_one, 5),
    {{"inner", [&, inner_cfg](caf::local_actor* sup) {
        ++inner_starts->count;
        inner_starts->last = caf::actor_cast<caf::actor>(
          runtime::spawn_supervisor(sup, inner_cfg, {child("w", w)}));
        return inner_starts->last;
      }}});
  run();
  BOOST_REQUIRE_EQUAL(w->count, 1);
  caf::anon_send(w->last, crash_atom::value);
  run();
  advance(100ms); // the outer supervisor restarts the inner one, which restarts w
  BOOST_CHECK_EQUAL(inner_starts->count, 2);
  BOOST_CHECK_EQUAL(w->count, 2);
  caf::anon_send_exit(outer, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_SUITE_END()
