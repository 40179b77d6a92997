// Small helpers every integration suite uses: where the built tools are, and a file's text.
#pragma once

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace troupe::test {

/// The directory of the built executables: CTest passes troupe-demo's path after `--`.
inline std::string tools_dir() {
  auto& suite = boost::unit_test::framework::master_test_suite();
  BOOST_REQUIRE_MESSAGE(suite.argc >= 2, "usage: integration_tests -- <path to troupe-demo>");
  return std::filesystem::path{suite.argv[suite.argc - 1]}.parent_path().string();
}

/// The whole text of `path` ("" when it cannot be read).
inline std::string slurp(const std::string& path) {
  std::ifstream in{path};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace troupe::test
