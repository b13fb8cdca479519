// Effective configuration: defaults < TOML file < environment (the seeds' names) < command-line flags.
#pragma once
#include <boost/json.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mcpd::infra {

struct ListenAddress {
  std::string host;
  std::uint16_t port = 0;
  std::string to_string() const;
  bool is_loopback() const;
};

// "HOST:PORT", "[::1]:PORT" or ":PORT"; nullopt with a reason in `error`.
std::optional<ListenAddress> parse_listen_address(std::string_view text, std::string& error);

struct Config {
  // [server]
  std::optional<ListenAddress> http;     // Streamable HTTP + legacy SSE + REST on one listener
  std::optional<ListenAddress> status;   // optional separate /health + /metrics listener
  bool stdio = false;
  int threads = 1;                       // I/O threads
  int workers = 4;                       // worker pool for blocking handlers
  std::size_t max_queued_calls = 256;    // blocking calls waiting or running; more get "busy, retry"
  std::string log_level = "info";
  std::size_t max_body_bytes = 4 * 1024 * 1024;
  std::size_t max_sessions = 1024;
  std::size_t max_sessions_per_key = 0;  // 0: derived from max_sessions and the keys (sessions_per_key())
  std::size_t max_batch = 64;            // JSON-RPC batch members (protocols up to 2025-03-26)
  std::size_t max_response_bytes = 32u << 20;  // one answer (or one batch's answers), serialized
  int session_idle_seconds = 1800;
  int header_timeout_seconds = 10;
  int idle_timeout_seconds = 300;
  std::size_t replay_events = 512;       // SSE events kept per session for Last-Event-ID resumption
  int drain_seconds = 10;                // SIGTERM grace period for in-flight requests
  std::string data_dir;                  // packs' files (indexes, mirrors); see default_data_dir()
  // [security]
  std::vector<std::string> api_keys;
  std::vector<std::string> allowed_origins;
  std::vector<std::string> allowed_hosts;
  bool allow_unauthenticated_remote = false;
  int rate_limit_per_second = 200;       // requests per second per API key (0: no limit)
  int rate_limit_burst = 1000;           // requests a key may make at once before the rate applies
  // [audit]: every tool call recorded in a SQLite file (see infra/audit_log.hpp)
  bool audit_enabled = true;
  std::string audit_path;                // default: <data_dir>/audit.db
  int audit_retention_days = 90;
  std::uint64_t audit_max_bytes = 256ull << 20;  // the file is kept within this by deleting the oldest rows
  // [packs]
  std::vector<std::string> enabled_packs = {"knowledge", "sql", "storage"};  // when nothing sets packs.enabled
  std::map<std::string, boost::json::object> pack_settings;

  // The per-key session cap in effect: the setting, else an equal share of max_sessions among the
  // API keys, never less than a quarter (with one key, or none, that key may use them all).
  std::size_t sessions_per_key() const {
    if (max_sessions_per_key) return max_sessions_per_key;
    std::size_t shares = std::clamp<std::size_t>(api_keys.size(), 1, 4);
    return std::max<std::size_t>(1, max_sessions / shares);
  }

  // Where each setting came from ("default", "file", "env", "flag"), for `mcpd config check`.
  std::map<std::string, std::string> origin;
};

struct ConfigError {
  std::string key;
  std::string problem;
  std::string to_string() const { return key + ": " + problem; }
};

// Each step reads one layer over `config`; they return every problem found, each naming the key.
std::vector<ConfigError> apply_toml_file(Config& config, const std::string& path);
std::vector<ConfigError> apply_toml_text(Config& config, std::string_view text, const std::string& source);
std::vector<ConfigError> apply_environment(Config& config,
                                           const std::function<std::optional<std::string>(const char*)>& getenv);
// Cross-field checks (e.g. a non-loopback listener with no API key).
std::vector<ConfigError> validate(const Config& config);

// The effective configuration as JSON with secrets masked.
boost::json::object describe(const Config& config);

std::optional<std::string> real_getenv(const char* name);

// $XDG_DATA_HOME/mcpd, else $HOME/.local/share/mcpd, else ./data.
std::string default_data_dir(const std::function<std::optional<std::string>(const char*)>& getenv);

}  // namespace mcpd::infra
