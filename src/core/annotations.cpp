// Tool annotations; see annotations.hpp.
#include "core/annotations.hpp"

namespace mcpd::core {

namespace {

boost::json::object make(bool read_only, bool destructive, Effects e) {
  return boost::json::object{{"readOnlyHint", read_only},
                             {"destructiveHint", destructive},
                             {"idempotentHint", read_only || e.idempotent},
                             {"openWorldHint", e.open_world}};
}

}  // namespace

boost::json::object read_only(Effects effects) { return make(true, false, effects); }
boost::json::object writes(Effects effects) { return make(false, false, effects); }
boost::json::object destructive(Effects effects) { return make(false, true, effects); }

}  // namespace mcpd::core
