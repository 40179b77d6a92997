#include "troupe/runtime/supervision/restart_plan.hpp"

#include <numeric>

namespace troupe::runtime {

restart_plan::restart_plan(supervisor_config cfg, std::vector<std::string> names)
  : cfg_(std::move(cfg)), names_(std::move(names)), per_child_(names_.size()) {
  // nop
}

void restart_plan::prune(time_point now) {
  auto old = [&](const std::deque<time_point>& q) { return !q.empty() && now - q.front() >= cfg_.window; };
  while (old(all_))
    all_.pop_front();
  for (auto& q : per_child_)
    while (old(q))
      q.pop_front();
}

restart_plan::decision restart_plan::on_exit(size_t index, bool abnormal, time_point now) {
  decision result;
  if (!abnormal || index >= names_.size())
    return result;
  prune(now);
  if (all_.size() >= cfg_.max_restarts) {
    result.what = action::escalate;
    result.why = cfg_.name + ": child '" + names_[index] + "' failed after "
                 + std::to_string(all_.size()) + " restarts within "
                 + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.window).count())
                 + " ms";
    return result;
  }
  auto attempt = per_child_[index].size();
  per_child_[index].push_back(now);
  all_.push_back(now);
  ++total_restarts_;
  result.what = action::restart;
  result.delay = cfg_.backoff.delay(attempt);
  if (cfg_.strategy == restart_strategy::one_for_all) {
    result.children.resize(names_.size());
    std::iota(result.children.begin(), result.children.end(), size_t{0});
  } else {
    result.children.push_back(index);
  }
  return result;
}

} // namespace troupe::runtime
