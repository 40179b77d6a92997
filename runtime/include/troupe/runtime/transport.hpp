// The transport seam: the single place that publishes local actors and obtains handles to
// actors on other nodes (DESIGN.md §5). Actors never call remote_actor() or publish() directly;
// they get a transport (production: CAF's middleman; simulation: the seeded sim_network) and
// use its connector actor, so the same actor code runs on both.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

namespace troupe::runtime {

/// Where a node's actors are published.
struct endpoint {
  std::string host;  ///< host name or address
  uint16_t port = 0; ///< TCP port (0 when publishing = any)
};

/// Connector protocol, for use inside actors (never blocks):
///   (connect_atom, std::string host, uint16_t port) -> caf::actor
/// The reply is the remote actor published at host:port; errors are errc::unavailable with
/// the reason. Always request with a finite timeout.
using connect_atom = caf::connect_atom;

class transport {
public:
  virtual ~transport();

  /// Makes `whom` reachable by other nodes at host:port (port 0 = any). Returns the bound
  /// port. Rebinding a port right after a restart works (SO_REUSEADDR).
  virtual caf::expected<uint16_t> publish(const caf::actor& whom, const endpoint& at) = 0;

  /// Obtains the actor published at `at`, blocking. For main() and tools only: inside an
  /// actor use connector().
  virtual caf::expected<caf::actor> connect(const endpoint& at) = 0;

  /// The connector actor (see above).
  virtual caf::actor connector() = 0;
};

/// The production backend over CAF's middleman (BASP over TCP). The connector gives up on a
/// connection attempt after `connect_timeout`. The transport refers to `sys`: destroy it first.
std::unique_ptr<transport> make_middleman_transport(caf::actor_system& sys,
                                                    caf::timespan connect_timeout
                                                    = std::chrono::seconds{10});

/// Parses "host:port" (port 1..65535). Errors name the problem (errc::invalid_argument).
caf::expected<endpoint> parse_endpoint(const std::string& text);

} // namespace troupe::runtime
