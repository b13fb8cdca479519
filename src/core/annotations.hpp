// The one set of tool annotations (MCP ToolAnnotations), so that every pack describes what its tools
// do to the world in the same words: read only, writes, or destroys; idempotent or not; closed or open world.
#pragma once
#include <boost/json.hpp>

namespace mcpd::core {

struct Effects {
  bool idempotent = true;   // calling twice with the same arguments does nothing more
  bool open_world = false;  // reaches beyond the server's own configured backends (the internet, any URL)
};

// Reads only: readOnlyHint true (destructiveHint false; idempotentHint true).
boost::json::object read_only(Effects effects = {});
// Adds or changes data without deleting it: readOnlyHint false, destructiveHint false.
boost::json::object writes(Effects effects = {});
// May delete or overwrite data: readOnlyHint false, destructiveHint true.
boost::json::object destructive(Effects effects = {});

}  // namespace mcpd::core
