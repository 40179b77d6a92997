#include "troupe/test/deterministic_fixture.hpp"

#include <cstdlib>
#include <iostream>
#include <random>
#include <string>

#include <boost/test/framework.hpp>
#include <boost/test/results_collector.hpp>
#include <boost/test/tree/test_unit.hpp>

#include <caf/event_based_actor.hpp>

namespace troupe::test {

uint64_t test_seed() {
  static const uint64_t seed = [] {
    if (const char* env = std::getenv("TROUPE_SEED"); env != nullptr && *env != '\0')
      return static_cast<uint64_t>(std::stoull(env));
    std::random_device dev;
    return (static_cast<uint64_t>(dev()) << 32) ^ dev();
  }();
  return seed;
}

namespace {

bool current_test_failed() {
  namespace ut = boost::unit_test;
  if (!ut::framework::test_in_progress())
    return false;
  auto id = ut::framework::current_test_case().p_id;
  return !ut::results_collector.results(id).passed();
}

std::string current_test_name() {
  namespace ut = boost::unit_test;
  if (!ut::framework::test_in_progress())
    return "?";
  return ut::framework::current_test_case().full_name();
}

} // namespace

deterministic_fixture::deterministic_fixture()
  : sys(cfg),
    sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())),
    seed(test_seed()) {
  start_ = sched.clock().now();
}

deterministic_fixture::~deterministic_fixture() {
  if (current_test_failed())
    std::cerr << "*** " << current_test_name() << " failed with seed " << seed
              << "; replay: TROUPE_SEED=" << seed << " <test binary> --run_test="
              << current_test_name() << std::endl;
  // Drain, drop pending timers (they hold actor references), drain again: then the actor
  // system can shut down without waiting for anything.
  for (auto& observer : observers_)
    caf::anon_send_exit(observer, caf::exit_reason::user_shutdown);
  sched.run();
  sched.clock().cancel_all();
  sched.run();
}

size_t deterministic_fixture::run() {
  return sched.run();
}

bool deterministic_fixture::run_once() {
  return sched.try_run_once();
}

size_t deterministic_fixture::advance(caf::timespan d) {
  // Step from timer to timer, delivering messages in between, so a timer re-armed by its own
  // handler fires again within `d` (a 1 s heartbeat fires ten times in advance(10s)).
  auto& clock = sched.clock();
  auto target = clock.now() + d;
  size_t fired = 0;
  sched.run();
  while (clock.has_pending_timeout()) {
    auto next = clock.schedule().begin()->first;
    if (next > target)
      break;
    auto n = sched.advance_time(next - clock.now());
    if (n == 0 && !clock.trigger_timeout())
      break;
    fired += n == 0 ? 1 : n;
    sched.run();
  }
  if (clock.now() < target)
    fired += sched.advance_time(target - clock.now());
  sched.run();
  return fired;
}

size_t deterministic_fixture::trigger_timeouts() {
  auto fired = sched.trigger_timeouts();
  sched.run();
  return fired;
}

bool deterministic_fixture::has_pending_timeout() const {
  return sched.has_pending_timeout();
}

caf::actor_clock::time_point deterministic_fixture::now() const {
  return sched.clock().now();
}

caf::timespan deterministic_fixture::elapsed() const {
  return now() - start_;
}

std::optional<caf::message> deterministic_fixture::next_message(const caf::actor& hdl) const {
  auto* ptr = caf::actor_cast<caf::abstract_actor*>(hdl);
  if (ptr == nullptr)
    return std::nullopt;
  auto* element = ptr->peek_at_next_mailbox_element();
  if (element == nullptr)
    return std::nullopt;
  return element->copy_content_to_message();
}

std::shared_ptr<exit_record> deterministic_fixture::watch(const caf::actor& hdl) {
  auto record = std::make_shared<exit_record>();
  // Keep the handle: CAF terminates actors nobody references.
  observers_.push_back(sys.spawn<caf::hidden>([record, hdl](caf::event_based_actor* self) -> caf::behavior {
    self->monitor(hdl);
    self->set_down_handler([self, record](caf::down_msg& msg) {
      record->down = true;
      record->reason = std::move(msg.reason);
      self->quit();
    });
    return {[](caf::ok_atom) {}}; // never used: an empty behavior would end the actor
  }));
  sched.run();
  return record;
}

} // namespace troupe::test
