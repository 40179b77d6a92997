// The supervisor's decision logic on its own (no actors).
#include <boost/test/unit_test.hpp>

#include "troupe/runtime/supervision/restart_plan.hpp"

using namespace std::chrono_literals;
using troupe::runtime::restart_plan;
using troupe::runtime::restart_strategy;
using troupe::runtime::supervisor_config;

namespace {

supervisor_config config(restart_strategy s, size_t max_restarts) {
  supervisor_config cfg;
  cfg.strategy = s;
  cfg.backoff = {100ms, 1s, 2.0};
  cfg.max_restarts = max_restarts;
  cfg.window = 10s;
  return cfg;
}

} // namespace

BOOST_AUTO_TEST_SUITE(restart_plan_test)

BOOST_AUTO_TEST_CASE(normal_exits_are_not_restarted) {
  restart_plan plan{config(restart_strategy::one_for_one, 3), {"a"}};
  auto d = plan.on_exit(0, false, restart_plan::time_point{});
  BOOST_CHECK(d.what == restart_plan::action::none);
  BOOST_CHECK_EQUAL(plan.restarts(), 0u);
}

BOOST_AUTO_TEST_CASE(backoff_grows_per_child_and_resets_after_the_window) {
  restart_plan plan{config(restart_strategy::one_for_one, 10), {"a", "b"}};
  restart_plan::time_point t{};
  BOOST_CHECK(plan.on_exit(0, true, t).delay == 100ms);
  BOOST_CHECK(plan.on_exit(0, true, t + 1s).delay == 200ms);
  BOOST_CHECK(plan.on_exit(0, true, t + 2s).delay == 400ms);
  BOOST_CHECK(plan.on_exit(1, true, t + 2s).delay == 100ms); // b has its own count
  BOOST_CHECK(plan.on_exit(0, true, t + 3s).delay == 800ms);
  BOOST_CHECK(plan.on_exit(0, true, t + 4s).delay == 1s); // capped
  // Ten seconds after the first restarts they no longer count.
  BOOST_CHECK(plan.on_exit(0, true, t + 13500ms).delay == 200ms);
}

BOOST_AUTO_TEST_CASE(intensity_limit_escalates) {
  restart_plan plan{config(restart_strategy::one_for_one, 2), {"a", "b"}};
  restart_plan::time_point t{};
  BOOST_CHECK(plan.on_exit(0, true, t).what == restart_plan::action::restart);
  BOOST_CHECK(plan.on_exit(1, true, t + 1s).what == restart_plan::action::restart);
  auto d = plan.on_exit(0, true, t + 2s);
  BOOST_CHECK(d.what == restart_plan::action::escalate);
  BOOST_CHECK(d.why.find("'a'") != std::string::npos);
  // Outside the window the same failure would have been fine.
  restart_plan later{config(restart_strategy::one_for_one, 2), {"a"}};
  later.on_exit(0, true, t);
  later.on_exit(0, true, t + 1s);
  BOOST_CHECK(later.on_exit(0, true, t + 11s).what == restart_plan::action::restart);
}

BOOST_AUTO_TEST_CASE(one_for_all_restarts_every_child_in_order) {
  restart_plan plan{config(restart_strategy::one_for_all, 3), {"a", "b", "c"}};
  auto d = plan.on_exit(1, true, restart_plan::time_point{});
  BOOST_CHECK(d.what == restart_plan::action::restart);
  BOOST_CHECK((d.children == std::vector<size_t>{0, 1, 2}));
}

BOOST_AUTO_TEST_SUITE_END()
