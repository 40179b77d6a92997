// troupe's error codes: one CAF error category ("troupe") shared by every layer. The category
// renderer is registered by runtime/ (troupe::runtime::add_error_category); the codes live here
// because messages/ validation is the first code that produces them.
#pragma once

#include <cstdint>
#include <string>

#include <caf/error.hpp>

namespace troupe {

/// Error codes carried in `caf::error` with category `errc_category()`. Append only: codes
/// cross the wire.
enum class errc : uint8_t {
  none = 0,              ///< no error (CAF requires 0 to mean success)
  invalid_argument,      ///< a caller passed something malformed
  invalid_resources,     ///< a resource expression or message is malformed
  invalid_message,       ///< a wire message failed validation
  not_found,             ///< the named thing does not exist
  already_exists,        ///< the named thing exists already
  timeout,               ///< an operation did not finish in time
  unavailable,           ///< a peer or backend cannot be reached
  supervisor_gave_up,    ///< a supervisor exceeded its restart intensity
  not_leader,            ///< this master does not lead
  stale_epoch,           ///< a message from an older leadership epoch
  io_error,              ///< a file or socket operation failed
  config_error,          ///< a flag or config file is invalid
  version_conflict,      ///< a compare-and-set found another version (runtime/store)
};

/// The name of a code, e.g. "invalid_resources".
const char* to_string(errc code);

/// The CAF error category of troupe errors.
caf::atom_value errc_category();

/// An error of category troupe with a human-readable message as its context.
caf::error make_error(errc code, std::string message);

/// True when `err` is a troupe error with code `code`.
bool is(const caf::error& err, errc code);

/// The human-readable message of a troupe error ("" if it has none).
std::string error_message(const caf::error& err);

} // namespace troupe
