#include "troupe/isolation/posix_isolator.hpp"

#include <unistd.h>

#include <fstream>
#include <iterator>
#include <sstream>

#include "troupe/messages/errc.hpp"

namespace troupe::isolation {

std::string posix_isolator::name() const {
  return "posix";
}

caf::expected<std::vector<std::string>> posix_isolator::prepare(const std::string&,
                                                                const container_limits&) {
  return std::vector<std::string>{};
}

caf::error posix_isolator::update(const std::string&, const container_limits&) {
  return {}; // nothing is limited
}

caf::error posix_isolator::usage(const std::string& container, pid_t pid,
                                 v1::ResourceStatistics& out) const {
  std::ifstream stat_file{"/proc/" + std::to_string(pid) + "/stat"};
  std::string text((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');
  if (close == std::string::npos)
    return make_error(errc::not_found, "container " + container + ": process " +
                                         std::to_string(pid) + " is gone");
  // Fields after the command name: state is field 3; utime 14, stime 15, cutime 16, cstime 17.
  std::istringstream rest{text.substr(close + 2)};
  std::string field;
  double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  double values[18] = {};
  for (int i = 3; i <= 17 && rest >> field; ++i)
    values[i] = std::strtod(field.c_str(), nullptr);
  out.set_cpus_user_time_secs((values[14] + values[16]) / ticks);
  out.set_cpus_system_time_secs((values[15] + values[17]) / ticks);
  std::ifstream statm{"/proc/" + std::to_string(pid) + "/statm"};
  uint64_t size = 0;
  uint64_t resident = 0;
  if (statm >> size >> resident)
    out.set_mem_current_bytes(resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE)));
  return {};
}

std::optional<limitation> posix_isolator::limitation_of(const std::string&) const {
  return std::nullopt; // nothing is enforced
}

caf::error posix_isolator::cleanup(const std::string&) {
  return {}; // the process group dies with the launcher's kill
}

std::vector<std::string> posix_isolator::orphans(const std::vector<std::string>&) const {
  return {};
}

} // namespace troupe::isolation
