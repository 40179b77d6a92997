#include "troupe/isolation/isolator.hpp"

namespace troupe::isolation {

isolator::~isolator() = default;

} // namespace troupe::isolation
