#include "troupe/runtime/node_config.hpp"

#include <caf/atom.hpp>
#include <caf/io/middleman.hpp>

#include "troupe/messages/registration.hpp"
#include "troupe/runtime/errors.hpp"

namespace troupe::runtime {

node_config::node_config() {
  troupe::add_message_types(*this);
  runtime::add_error_category(*this);
  load<caf::io::middleman>();
  apply(node_options{}, *this);
}

node_config::node_config(const node_options& opts) : node_config() {
  apply(opts, *this);
}

deterministic_config::deterministic_config() {
  troupe::add_message_types(*this);
  runtime::add_error_category(*this);
  set("scheduler.policy", caf::atom("testing"));
}

} // namespace troupe::runtime
