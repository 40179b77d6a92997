// All N×N pairs of task states against an explicit table written out by hand.
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "troupe/actors/common/task_transitions.hpp"

namespace v1 = troupe::v1;

namespace {

// Column/row order of the table below.
const std::vector<v1::TaskState> order = {
  v1::TASK_UNKNOWN_STATE, v1::TASK_STAGING,  v1::TASK_STARTING,    v1::TASK_RUNNING,
  v1::TASK_KILLING,       v1::TASK_FINISHED, v1::TASK_FAILED,      v1::TASK_KILLED,
  v1::TASK_ERROR,         v1::TASK_DROPPED,  v1::TASK_UNREACHABLE, v1::TASK_GONE,
  v1::TASK_GONE_BY_OPERATOR, v1::TASK_UNKNOWN};

// expected[from][to]; 1 = allowed. Columns in `order`:
//                       ?  Sg St Ru Ki Fi Fa Kd Er Dr Un Go GO Uk
const char* expected[] = {
  /* UNKNOWN_STATE */   "0  0  0  0  0  0  0  0  0  0  0  0  0  0",
  /* STAGING       */   "0  1  1  1  1  1  1  1  1  1  1  1  1  0",
  /* STARTING      */   "0  0  1  1  1  1  1  1  0  0  1  1  1  0",
  /* RUNNING       */   "0  0  0  1  1  1  1  1  0  0  1  1  1  0",
  /* KILLING       */   "0  0  0  0  1  1  1  1  0  0  1  1  1  0",
  /* FINISHED      */   "0  0  0  0  0  0  0  0  0  0  0  0  0  0",
  /* FAILED        */   "0  0  0  0  0  0  0  0  0  0  0  0  0  0",
  /* KILLED        */   "0  0  0  0  0  0  0  0  0  0  0  0  0  0",
  /* ERROR         */   "0  0  0  0  0  0  0  0  0  0  0  0  0  0",
  /* DROPPED       */   "0  0  0  0  0  0  0  0  0  0  0  0  0  0",
  /* UNREACHABLE   */   "0  0  1  1  1  1  1  1  0  1  1  1  1  0",
  /* GONE          */   "0  0  0  0  0  0  0  0  0  0  0  0  0  0",
  /* GONE_BY_OP    */   "0  0  0  0  0  0  0  0  0  0  0  0  0  0",
  /* UNKNOWN       */   "0  0  0  0  0  0  0  0  0  0  0  0  0  0",
};

std::vector<bool> row(const char* text) {
  std::vector<bool> result;
  for (const char* c = text; *c; ++c)
    if (*c == '0' || *c == '1')
      result.push_back(*c == '1');
  return result;
}

} // namespace

BOOST_AUTO_TEST_SUITE(task_transitions_test)

BOOST_AUTO_TEST_CASE(every_pair_matches_the_table) {
  // The table covers every value of the enum.
  BOOST_REQUIRE_EQUAL(order.size(), static_cast<size_t>(v1::TaskState_MAX + 1));
  size_t checked = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    auto cells = row(expected[i]);
    BOOST_REQUIRE_EQUAL(cells.size(), order.size());
    for (size_t j = 0; j < order.size(); ++j) {
      BOOST_CHECK_MESSAGE(troupe::common::is_allowed(order[i], order[j]) == cells[j],
                          v1::TaskState_Name(order[i]) << " -> " << v1::TaskState_Name(order[j])
                                                       << " should be "
                                                       << (cells[j] ? "allowed" : "refused"));
      ++checked;
    }
  }
  BOOST_CHECK_EQUAL(checked, 14u * 14u);
}

BOOST_AUTO_TEST_CASE(terminal_states) {
  std::vector<v1::TaskState> terminal = {v1::TASK_FINISHED, v1::TASK_FAILED,  v1::TASK_KILLED,
                                         v1::TASK_ERROR,    v1::TASK_DROPPED, v1::TASK_GONE,
                                         v1::TASK_GONE_BY_OPERATOR};
  for (auto s : order) {
    bool want = std::find(terminal.begin(), terminal.end(), s) != terminal.end();
    BOOST_CHECK_MESSAGE(troupe::common::is_terminal(s) == want, v1::TaskState_Name(s));
  }
}

BOOST_AUTO_TEST_CASE(out_of_range_values_are_refused) {
  auto bogus = static_cast<v1::TaskState>(99);
  BOOST_CHECK(!troupe::common::is_allowed(bogus, v1::TASK_RUNNING));
  BOOST_CHECK(!troupe::common::is_allowed(v1::TASK_RUNNING, bogus));
}

BOOST_AUTO_TEST_SUITE_END()
