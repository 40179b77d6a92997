// Roles on real processes: the operator verbs `troupe weights` and `troupe quota` set and read
// weights and quota limits through the master (invalid input gets a clear error and changes
// nothing), and a quota limit decides what a framework of that role can launch.
#include <boost/test/unit_test.hpp>

#include "cluster_fixture.hpp"

using namespace std::chrono_literals;
using namespace troupe;
using test::slurp;

namespace {

// The table line starting with `prefix`, with runs of spaces squeezed to one.
std::string line_of(const std::string& text, const std::string& prefix) {
  for (size_t pos = 0; pos < text.size();) {
    auto end = text.find('\n', pos);
    auto line = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    if (line.rfind(prefix, 0) == 0) {
      std::string squeezed;
      for (char c : line)
        if (c != ' ' || squeezed.empty() || squeezed.back() != ' ')
          squeezed += c;
      return squeezed;
    }
    if (end == std::string::npos)
      break;
    pos = end + 1;
  }
  return {};
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(roles_test, test::cluster_fixture)

BOOST_AUTO_TEST_CASE(weights_and_quota_are_set_and_read_through_the_cli) {
  auto log = dir + "/cli.log";
  BOOST_CHECK_EQUAL(troupe({"weights", "--master", master_at}, log), 0);
  BOOST_CHECK(slurp(log).find("every role has weight 1") != std::string::npos);

  BOOST_REQUIRE_EQUAL(troupe({"weights", "--master", master_at, "--set", "eng=2", "--set",
                              "ops=0.5"}, log), 0);
  BOOST_REQUIRE_EQUAL(troupe({"quota", "--master", master_at, "--set",
                              "eng/web=cpus:1;mem:256"}, log), 0);
  // Refused whole, with the reason; nothing changes.
  // Checked before connecting (exit 2): numbers, zero limits, non-scalar limits, repeats.
  BOOST_CHECK_EQUAL(troupe({"weights", "--master", master_at, "--set", "eng=3", "--set",
                            "ops=0"}, log), 2);
  BOOST_CHECK_MESSAGE(slurp(log).find("is not a number > 0") != std::string::npos, slurp(log));
  BOOST_CHECK_EQUAL(troupe({"quota", "--master", master_at, "--set", "ops=ports:[1-2]"}, log), 2);
  BOOST_CHECK_MESSAGE(slurp(log).find("unreserved scalar") != std::string::npos, slurp(log));
  BOOST_CHECK_EQUAL(troupe({"quota", "--master", master_at, "--set", "ops=cpus:0;mem:100"}, log),
                    2);
  BOOST_CHECK_MESSAGE(slurp(log).find("a limit of 0 for cpus") != std::string::npos, slurp(log));
  BOOST_CHECK_EQUAL(troupe({"weights", "--master", master_at, "--set", "eng=1", "--set",
                            "eng=2"}, log), 2);
  BOOST_CHECK_EQUAL(troupe({"weights", "--master", master_at, "--set", "a//b=1"}, log), 2);
  BOOST_CHECK_EQUAL(troupe({"weights", "--master", master_at, "--set", "eng=lots"}, log), 2);

  BOOST_REQUIRE_EQUAL(troupe({"weights", "--master", master_at}, log), 0);
  auto weights = slurp(log);
  BOOST_CHECK_MESSAGE(line_of(weights, "eng ") == "eng 2", weights); // not the refused 3
  BOOST_CHECK_MESSAGE(line_of(weights, "ops ") == "ops 0.5", weights);
  BOOST_REQUIRE_EQUAL(troupe({"quota", "--master", master_at}, log), 0);
  BOOST_CHECK_MESSAGE(slurp(log).find("eng/web") != std::string::npos
                        && slurp(log).find("cpus:1;mem:256") != std::string::npos,
                      slurp(log));
  BOOST_REQUIRE_EQUAL(troupe({"quota", "--master", master_at, "--remove", "eng/web"}, log), 0);
  BOOST_CHECK_MESSAGE(slurp(log).find("no role has a quota") != std::string::npos, slurp(log));
}

BOOST_AUTO_TEST_CASE(a_quota_limit_bounds_what_a_role_can_launch) {
  auto log = dir + "/run.log";
  BOOST_REQUIRE_EQUAL(troupe({"quota", "--master", master_at, "--set", "batch=cpus:0.05"},
                             dir + "/quota.log"), 0);
  // Offers to "batch" are trimmed to 0.05 cpus: a 0.1-cpu task never fits.
  BOOST_CHECK_EQUAL(troupe({"run", "--master", master_at, "--role", "batch", "--cpus", "0.1",
                            "--mem", "16", "--timeout", "4", "--", "true"}, log), 124);
  BOOST_CHECK_MESSAGE(slurp(log).find("TASK_RUNNING") == std::string::npos, slurp(log));
  // Other roles are not limited, and a raised limit lets the role launch.
  BOOST_CHECK_EQUAL(troupe({"run", "--master", master_at, "--role", "other", "--cpus", "0.1",
                            "--mem", "16", "--timeout", "30", "--", "true"}, log), 0);
  BOOST_REQUIRE_EQUAL(troupe({"quota", "--master", master_at, "--set", "batch=cpus:1"},
                             dir + "/quota.log"), 0);
  BOOST_CHECK_EQUAL(troupe({"run", "--master", master_at, "--role", "batch", "--cpus", "0.1",
                            "--mem", "16", "--timeout", "30", "--", "true"}, log), 0);
  BOOST_CHECK_EQUAL(troupe({"run", "--master", master_at, "--role", "bad//role", "--", "true"},
                           log), 2);
}

BOOST_AUTO_TEST_SUITE_END()
