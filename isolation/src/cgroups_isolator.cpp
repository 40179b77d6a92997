#include "troupe/isolation/cgroups_isolator.hpp"

#include <algorithm>
#include <sstream>

#include "troupe/messages/errc.hpp"

namespace troupe::isolation {

namespace {

std::string mib(uint64_t bytes) {
  std::ostringstream os;
  os << (bytes / (1024 * 1024)) << " MiB";
  return os.str();
}

} // namespace

caf::expected<std::unique_ptr<cgroups_isolator>> cgroups_isolator::make(cgroups_isolator_config cfg) {
  auto cgroups = cgroup_manager::detect(cfg.root);
  if (!cgroups)
    return cgroups.error();
  return std::make_unique<cgroups_isolator>(std::move(*cgroups), std::move(cfg));
}

cgroups_isolator::cgroups_isolator(cgroup_manager cgroups, cgroups_isolator_config cfg)
  : cgroups_(std::move(cgroups)), cfg_(std::move(cfg)) {
}

cgroups_isolator::~cgroups_isolator() {
  if (cgroups_.list().empty())
    cgroups_.cleanup_root();
}

std::string cgroups_isolator::name() const {
  return "cgroups";
}

cgroup_limits cgroups_isolator::to_cgroup(const container_limits& limits) const {
  cgroup_limits out;
  out.cpus = limits.cpus;
  if (cfg_.cfs_quota && limits.cpus > 0)
    out.cfs_quota_cpus = limits.cpus;
  out.memory_bytes = limits.mem_bytes;
  out.pids_max = cfg_.pids_max;
  return out;
}

caf::expected<std::vector<std::string>> cgroups_isolator::prepare(const std::string& container,
                                                                  const container_limits& limits) {
  if (auto err = cgroups_.create(container, to_cgroup(limits)))
    return err;
  return cgroups_.procs_files(container);
}

caf::error cgroups_isolator::update(const std::string& container, const container_limits& limits) {
  return cgroups_.update(container, to_cgroup(limits));
}

caf::error cgroups_isolator::usage(const std::string& container, pid_t,
                                   v1::ResourceStatistics& out) const {
  auto u = cgroups_.usage(container);
  if (!u)
    return u.error();
  out.set_cpus_user_time_secs(u->cpu_user_seconds);
  out.set_cpus_system_time_secs(u->cpu_system_seconds);
  out.set_cpus_nr_throttled(u->cpu_nr_throttled);
  out.set_cpus_throttled_time_secs(u->cpu_throttled_seconds);
  out.set_mem_current_bytes(u->memory_current_bytes);
  out.set_mem_max_bytes(u->memory_peak_bytes.value_or(u->memory_current_bytes));
  out.set_mem_limit_bytes(u->memory_limit_bytes.value_or(0));
  out.set_pids_current(u->pids_current);
  out.set_pids_limit(cfg_.pids_max.value_or(0));
  return {};
}

// Read before cleanup: the OOM counter lives in the container's memory cgroup.
std::optional<limitation> cgroups_isolator::limitation_of(const std::string& container) const {
  auto oom = cgroups_.oom_killed(container);
  if (!oom || !*oom)
    return std::nullopt;
  limitation out;
  out.reason = v1::TaskStatus::REASON_CONTAINER_LIMITATION_MEMORY;
  auto u = cgroups_.usage(container);
  std::string limit = u && u->memory_limit_bytes ? mib(*u->memory_limit_bytes) : "its limit";
  std::string peak = u && u->memory_peak_bytes ? mib(*u->memory_peak_bytes) : "unknown";
  out.message = "memory limit of " + limit + " exceeded: killed by the kernel (peak usage "
                + peak + ")";
  return out;
}

caf::error cgroups_isolator::cleanup(const std::string& container) {
  return cgroups_.destroy(container, cfg_.destroy_timeout);
}

std::vector<std::string> cgroups_isolator::orphans(const std::vector<std::string>& keep) const {
  std::vector<std::string> out;
  for (auto& name : cgroups_.list())
    if (std::find(keep.begin(), keep.end(), name) == keep.end())
      out.push_back(name);
  return out;
}

} // namespace troupe::isolation
