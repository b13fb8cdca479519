// The fixtures the official MCP conformance suite expects, plus `echo` for benchmarks.
// Off unless enabled (--enable-pack conformance).
#pragma once
#include <memory>

#include "core/pack.hpp"

namespace mcpd::packs::conformance {

std::unique_ptr<core::Pack> make_pack();

}  // namespace mcpd::packs::conformance
