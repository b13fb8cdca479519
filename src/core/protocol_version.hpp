// MCP protocol revisions this server speaks, newest first, and the negotiation rule.
#pragma once
#include <array>
#include <string_view>

namespace mcpd::core {

inline constexpr std::string_view kLatestProtocolVersion = "2025-11-25";
inline constexpr std::array<std::string_view, 4> kSupportedProtocolVersions = {
    "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"};

inline bool is_supported_protocol_version(std::string_view v) {
  for (auto s : kSupportedProtocolVersions)
    if (s == v) return true;
  return false;
}

// The spec's rule: answer with the client's version when we support it, else with our latest.
inline std::string_view negotiate_protocol_version(std::string_view requested) {
  return is_supported_protocol_version(requested) ? requested : kLatestProtocolVersion;
}

}  // namespace mcpd::core
