// The product version, reported by serverInfo, /health and --version.
#pragma once
#include <string_view>

namespace mcpd::app {
inline constexpr std::string_view kVersion = "0.1.0";
}
