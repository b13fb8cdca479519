// The knowledge pack: keeps an index of git repositories and folders fresh and answers searches
// (MCP tools, document resources, and seed 001's REST endpoints and GitHub webhook).
#pragma once
#include <memory>

#include "core/pack.hpp"

namespace mcpd::packs::knowledge {

std::unique_ptr<core::Pack> make_pack();

}  // namespace mcpd::packs::knowledge
