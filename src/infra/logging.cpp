// JSON log lines through spdlog's stderr sink (thread-safe, unbuffered per line).
#include "infra/logging.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>

#include "infra/masking.hpp"
#include "infra/time.hpp"

namespace mcpd::infra::log {

namespace {
std::atomic<int> g_level{static_cast<int>(Level::Info)};

spdlog::logger& logger() {
  static std::shared_ptr<spdlog::logger> instance = [] {
    auto l = std::make_shared<spdlog::logger>("mcpd", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_pattern("%v");
    l->set_level(spdlog::level::trace);
    l->flush_on(spdlog::level::trace);
    return l;
  }();
  return *instance;
}

std::string timestamp() { return iso8601_utc(std::chrono::system_clock::now()); }

constexpr std::string_view kNames[] = {"debug", "info", "warning", "error"};
}  // namespace

std::optional<Level> parse_level(std::string_view name) {
  std::string n(name);
  for (auto& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (n == "warn") n = "warning";
  if (n == "critical") n = "error";
  for (int i = 0; i < 4; ++i)
    if (kNames[i] == n) return static_cast<Level>(i);
  return std::nullopt;
}

bool set_level(std::string_view name) {
  auto level = parse_level(name);
  if (level) g_level.store(static_cast<int>(*level));
  return level.has_value();
}

bool enabled(Level level) { return static_cast<int>(level) >= g_level.load(); }

void write(Level level, std::string_view event, boost::json::object fields) {
  if (!enabled(level)) return;
  boost::json::value masked(std::move(fields));
  mask_json(masked);
  boost::json::object line;
  line["ts"] = timestamp();
  line["level"] = kNames[static_cast<int>(level)];
  line["event"] = mask_text(event);
  for (auto& [k, v] : masked.get_object()) line[k] = std::move(v);
  logger().info(boost::json::serialize(line));
}

}  // namespace mcpd::infra::log
