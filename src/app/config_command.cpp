// Configuration loading for serve/config check, and `mcpd config check`.
#include <filesystem>
#include <iostream>

#include "app/commands.hpp"
#include "infra/logging.hpp"

namespace mcpd::app {

void add_serve_flags(CLI::App& command, ServeFlags& f) {
  command.add_option("--config", f.config_file, "TOML configuration file (default: $MCP_CONFIG)");
  command.add_flag("--stdio", f.stdio, "Serve MCP on stdin/stdout");
  command.add_option("--http", f.http, "Serve HTTP on HOST:PORT (default 127.0.0.1:8000; env MCP_HOST/MCP_PORT)");
  command.add_option("--status", f.status, "Separate /health and /metrics listener HOST:PORT (env MCP_STATUS_PORT)");
  command.add_option("--enable-pack", f.enable_packs, "Enable a tool pack (repeatable), e.g. conformance");
  command.add_option("--api-key", f.api_keys, "Accept this API key (repeatable; env API_TOKEN)");
  command.add_option("--log-level", f.log_level, "debug, info, warning or error (env MCP_LOG_LEVEL)");
  command.add_option("--threads", f.threads, "I/O threads (default 1)");
  command.add_option("--data-dir", f.data_dir, "Where packs keep their files (env MCP_DATA_DIR; default ~/.local/share/mcpd)");
  command.add_option("--workers", f.workers, "Worker threads for blocking tools (default 4)");
  command.add_flag("--allow-unauthenticated-remote", f.allow_unauthenticated_remote,
                   "Allow listening beyond loopback without an API key (not recommended)");
}

std::optional<infra::Config> load_config(const ServeFlags& f) {
  infra::Config config;
  std::vector<infra::ConfigError> errors;
  auto append = [&](std::vector<infra::ConfigError> more) { errors.insert(errors.end(), more.begin(), more.end()); };
  std::string file = f.config_file;
  if (file.empty())
    if (auto env = infra::real_getenv("MCP_CONFIG")) file = *env;
  if (!file.empty()) append(infra::apply_toml_file(config, file));
  append(infra::apply_environment(config, infra::real_getenv));

  auto flag = [&](const std::string& key) { config.origin[key] = "flag"; };
  if (f.stdio) { config.stdio = true; flag("server.stdio"); }
  auto listen_flag = [&](const std::string& text, std::optional<infra::ListenAddress>& target, const char* key) {
    if (text.empty()) return;
    std::string problem;
    if (auto a = infra::parse_listen_address(text, problem)) { target = a; flag(key); }
    else errors.push_back({std::string("--") + (std::string(key) == "server.http" ? "http" : "status"), problem});
  };
  listen_flag(f.http, config.http, "server.http");
  listen_flag(f.status, config.status, "server.status");
  if (!f.enable_packs.empty()) {
    // Flags add to packs named by the file or environment; they replace the built-in default.
    if (!config.origin.count("packs.enabled")) config.enabled_packs.clear();
    for (const auto& p : f.enable_packs)
      if (std::find(config.enabled_packs.begin(), config.enabled_packs.end(), p) == config.enabled_packs.end())
        config.enabled_packs.push_back(p);
    flag("packs.enabled");
  }
  if (!f.data_dir.empty()) { config.data_dir = f.data_dir; flag("server.data_dir"); }
  if (config.data_dir.empty()) config.data_dir = infra::default_data_dir(infra::real_getenv);
  if (!f.api_keys.empty()) { config.api_keys = f.api_keys; flag("security.api_keys"); }
  if (!f.log_level.empty()) { config.log_level = f.log_level; flag("server.log_level"); }
  if (f.threads > 0) { config.threads = f.threads; flag("server.threads"); }
  if (f.workers > 0) { config.workers = f.workers; flag("server.workers"); }
  if (f.allow_unauthenticated_remote) { config.allow_unauthenticated_remote = true; flag("security.allow_unauthenticated_remote"); }
  // With no transport chosen, serve HTTP on loopback: the zero-configuration default.
  if (!config.stdio && !config.http) config.http = infra::ListenAddress{"127.0.0.1", 8000};
  append(infra::validate(config));
  if (!errors.empty()) {
    for (const auto& e : errors) std::cerr << "mcpd: configuration error: " << e.to_string() << "\n";
    return std::nullopt;
  }
  return config;
}

std::string audit_path(const infra::Config& config) {
  if (!config.audit_path.empty()) return config.audit_path;
  return (std::filesystem::path(config.data_dir.empty() ? std::string("data") : config.data_dir) / "audit.db").string();
}

int run_config_check(const ServeFlags& flags) {
  auto config = load_config(flags);
  if (!config) return 2;
  std::cout << boost::json::serialize(infra::describe(*config)) << "\n";
  return 0;
}

}  // namespace mcpd::app
