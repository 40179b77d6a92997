// sdk::update_guard: the scheduler driver hands a framework nothing from the agent's stream
// after a task's terminal state, and always hands on the master's own answers.
#include <boost/test/unit_test.hpp>

#include "troupe/messages/task_states.hpp"
#include "troupe/sdk/update_guard.hpp"

using namespace troupe;

namespace {

v1::TaskStatus status(const std::string& task, v1::TaskState state, const std::string& uuid) {
  v1::TaskStatus s;
  s.mutable_task_id()->set_value(task);
  s.set_state(state);
  s.set_uuid(uuid);
  return s;
}

} // namespace

BOOST_AUTO_TEST_SUITE(update_guard_test)

BOOST_AUTO_TEST_CASE(a_stale_stream_update_after_the_end_is_held_back) {
  sdk::update_guard g;
  BOOST_TEST(g.admit(status("t", v1::TASK_RUNNING, "u1")));
  BOOST_TEST(g.admit(status("t", v1::TASK_RUNNING, "u1"))); // a repeat before the end passes
  BOOST_TEST(g.admit(status("t", v1::TASK_FINISHED, "u2")));
  BOOST_TEST(!g.admit(status("t", v1::TASK_RUNNING, "u1")));  // a late duplicate
  BOOST_TEST(g.admit(status("t", v1::TASK_FINISHED, "u2")));  // the end again: a resend
  BOOST_TEST(g.admit(status("other", v1::TASK_RUNNING, "u3"))); // other tasks are unaffected
}

BOOST_AUTO_TEST_CASE(the_masters_answers_always_pass) {
  sdk::update_guard g;
  BOOST_TEST(g.admit(status("t", v1::TASK_FINISHED, ""))); // the master learnt it ended
  BOOST_TEST(!g.admit(status("t", v1::TASK_RUNNING, "u1"))); // the stream ran behind
  BOOST_TEST(g.admit(status("t", v1::TASK_UNKNOWN, "")));  // a reconciliation answer
  BOOST_TEST(!g.admit(status("t", v1::TASK_FAILED, "u9"))); // another end from the stream
}

BOOST_AUTO_TEST_CASE(states_a_task_comes_back_from_are_not_ends) {
  sdk::update_guard g;
  BOOST_TEST(g.admit(status("t", v1::TASK_UNREACHABLE, "")));
  BOOST_TEST(g.admit(status("t", v1::TASK_RUNNING, "u1")));
  BOOST_TEST(g.remembered() == 0u);
  for (auto s : {v1::TASK_FINISHED, v1::TASK_FAILED, v1::TASK_KILLED, v1::TASK_ERROR,
                 v1::TASK_DROPPED, v1::TASK_GONE, v1::TASK_GONE_BY_OPERATOR})
    BOOST_TEST(is_terminal_state(s));
}

BOOST_AUTO_TEST_CASE(memory_is_bounded_oldest_forgotten_first) {
  sdk::update_guard g(2);
  BOOST_TEST(g.admit(status("a", v1::TASK_FINISHED, "1")));
  BOOST_TEST(g.admit(status("b", v1::TASK_FINISHED, "2")));
  BOOST_TEST(g.admit(status("c", v1::TASK_FINISHED, "3")));
  BOOST_TEST(g.remembered() == 2u);
  BOOST_TEST(g.admit(status("a", v1::TASK_RUNNING, "0")));  // forgotten
  BOOST_TEST(!g.admit(status("c", v1::TASK_RUNNING, "0"))); // still remembered
}

BOOST_AUTO_TEST_SUITE_END()
