// The mcpd subcommands, wired by main.cpp.
#pragma once
#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

#include "infra/config.hpp"

namespace mcpd::app {

// Flags shared by `serve` and `config check`: they form the top layer of the configuration.
struct ServeFlags {
  std::string config_file;
  bool stdio = false;
  std::string http;
  std::string status;
  std::vector<std::string> enable_packs;
  std::vector<std::string> api_keys;
  std::string log_level;
  std::string data_dir;
  int threads = 0;
  int workers = 0;
  bool allow_unauthenticated_remote = false;
};

void add_serve_flags(CLI::App& command, ServeFlags& flags);
// defaults < file < env < flags; on error prints every problem (naming the key) and returns nullopt.
std::optional<infra::Config> load_config(const ServeFlags& flags);

// Where the audit log is: audit.path, else <data_dir>/audit.db.
std::string audit_path(const infra::Config& config);

int run_serve(const ServeFlags& flags);
int run_config_check(const ServeFlags& flags);

struct CallFlags {
  std::string tool;
  std::vector<std::string> assignments;  // key=value
  std::string json_arguments;
  bool list = false;
  std::string url;                       // overrides MCP_SERVER_URL
  std::string api_key;                   // overrides MCP_API_KEY / API_TOKEN
  std::vector<std::string> enable_packs; // for the spawned stdio server
};
int run_call(const CallFlags& flags, const std::string& self_path);

struct KbFlags {
  ServeFlags serve;            // --config, --data-dir, ...
  std::string command;         // sync | search | list | stats
  std::vector<std::string> sources;
  std::string query;
  std::string mode;
  int limit = 0;
  bool json = false;
};
int run_kb(const KbFlags& flags);

struct AuditFlags {
  ServeFlags serve;  // --config, --data-dir: where the log is
  std::string since, until, tool, principal, outcome;
  int limit = 50;
  bool json = false;
};
int run_audit(const AuditFlags& flags);

}  // namespace mcpd::app
