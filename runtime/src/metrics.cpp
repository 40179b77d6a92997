#include "troupe/runtime/metrics.hpp"

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace troupe::runtime {

node_metrics::node_metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  // nop
}

node_metrics::~node_metrics() = default;

std::string node_metrics::render_text() const {
  return runtime::render_text(*registry_);
}

std::string render_text(const prometheus::Registry& registry) {
  prometheus::TextSerializer serializer;
  return serializer.Serialize(registry.Collect());
}

} // namespace troupe::runtime
