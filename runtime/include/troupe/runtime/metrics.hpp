// Metrics: a Prometheus registry per node (prometheus-cpp core) and the text exposition that
// the HTTP edge serves at /metrics.
#pragma once

#include <memory>
#include <string>

namespace prometheus {
class Registry;
} // namespace prometheus

namespace troupe::runtime {

/// The metrics of one node. Cheap to share: actors hold a reference to the registry and keep
/// the counters/gauges they create (prometheus-cpp metrics are thread-safe).
class node_metrics {
public:
  node_metrics();
  ~node_metrics();

  prometheus::Registry& registry() {
    return *registry_;
  }

  /// The Prometheus text exposition format (version 0.0.4) of every metric.
  std::string render_text() const;

private:
  std::shared_ptr<prometheus::Registry> registry_;
};

/// Text exposition of any registry.
std::string render_text(const prometheus::Registry& registry);

} // namespace troupe::runtime
