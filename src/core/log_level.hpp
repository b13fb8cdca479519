// MCP logging levels (RFC 5424 severities) used by logging/setLevel and notifications/message.
#pragma once
#include <array>
#include <optional>
#include <string_view>

namespace mcpd::core {

enum class LogLevel { Debug = 0, Info, Notice, Warning, Error, Critical, Alert, Emergency };

inline constexpr std::array<std::string_view, 8> kLogLevelNames = {
    "debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"};

inline std::string_view to_string(LogLevel level) { return kLogLevelNames[static_cast<int>(level)]; }

inline std::optional<LogLevel> parse_log_level(std::string_view name) {
  for (std::size_t i = 0; i < kLogLevelNames.size(); ++i)
    if (kLogLevelNames[i] == name) return static_cast<LogLevel>(i);
  return std::nullopt;
}

}  // namespace mcpd::core
