// Structured JSON logs on stderr, one object per line, with secrets and personal data masked.
#pragma once
#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace mcpd::infra::log {

enum class Level { Debug, Info, Warning, Error };

// Accepts debug/info/warning/warn/error/critical (any case, as in MCP_LOG_LEVEL=INFO).
std::optional<Level> parse_level(std::string_view name);
// False (and no change) for an unknown name.
bool set_level(std::string_view name);
bool enabled(Level level);

void write(Level level, std::string_view event, boost::json::object fields = {});
inline void debug(std::string_view e, boost::json::object f = {}) { write(Level::Debug, e, std::move(f)); }
inline void info(std::string_view e, boost::json::object f = {}) { write(Level::Info, e, std::move(f)); }
inline void warn(std::string_view e, boost::json::object f = {}) { write(Level::Warning, e, std::move(f)); }
inline void error(std::string_view e, boost::json::object f = {}) { write(Level::Error, e, std::move(f)); }

}  // namespace mcpd::infra::log
