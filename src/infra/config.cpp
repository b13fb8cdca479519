// Configuration layers and validation.
#include "infra/config.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>
#include <sstream>
#include <type_traits>

#include "infra/audit_log.hpp"
#include "infra/logging.hpp"
#include "infra/masking.hpp"

namespace mcpd::infra {

namespace json = boost::json;

std::string ListenAddress::to_string() const {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

bool ListenAddress::is_loopback() const {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::optional<ListenAddress> parse_listen_address(std::string_view text, std::string& error) {
  ListenAddress a;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      error = "expected [IPv6]:PORT, got '" + std::string(text) + "'";
      return std::nullopt;
    }
    a.host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      error = "expected HOST:PORT, got '" + std::string(text) + "'";
      return std::nullopt;
    }
    a.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  if (a.host.empty()) a.host = "127.0.0.1";
  unsigned port = 0;
  auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || p != port_text.data() + port_text.size() || port > 65535) {
    error = "the port must be a number from 0 to 65535, got '" + std::string(port_text) + "'";
    return std::nullopt;
  }
  a.port = static_cast<std::uint16_t>(port);
  return a;
}

namespace {

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  std::string item;
  std::stringstream ss{std::string(text)};
  while (std::getline(ss, item, ',')) {
    auto b = item.find_first_not_of(" \t");
    auto e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}

json::value toml_to_json(const toml::node& node) {
  if (auto t = node.as_table()) {
    json::object o;
    for (auto& [k, v] : *t) o[std::string(k.str())] = toml_to_json(v);
    return o;
  }
  if (auto a = node.as_array()) {
    json::array arr;
    for (auto& v : *a) arr.push_back(toml_to_json(v));
    return arr;
  }
  if (auto s = node.as_string()) return json::string(s->get());
  if (auto i = node.as_integer()) return i->get();
  if (auto f = node.as_floating_point()) return f->get();
  if (auto b = node.as_boolean()) return b->get();
  if (auto d = node.as_date()) return json::string(std::to_string(d->get().year) + "-" + std::to_string(d->get().month) + "-" + std::to_string(d->get().day));
  return nullptr;  // times and date-times are not used by any setting
}

struct TomlReader {
  Config& config;
  std::vector<ConfigError>& errors;

  template <typename T>
  std::optional<T> get(const toml::table& table, std::string_view section, std::string_view key, const char* type) {
    auto node = table.get(key);
    if (!node) return std::nullopt;
    if (auto v = node->value<T>()) {
      config.origin[std::string(section) + "." + std::string(key)] = "file";
      return v;
    }
    errors.push_back({std::string(section) + "." + std::string(key), std::string("must be ") + type});
    return std::nullopt;
  }

  std::optional<std::vector<std::string>> strings(const toml::table& table, std::string_view section, std::string_view key) {
    auto node = table.get(key);
    if (!node) return std::nullopt;
    std::string full = std::string(section) + "." + std::string(key);
    auto arr = node->as_array();
    if (!arr) {
      errors.push_back({full, "must be an array of strings"});
      return std::nullopt;
    }
    std::vector<std::string> out;
    for (auto& item : *arr) {
      auto s = item.value<std::string>();
      if (!s) {
        errors.push_back({full, "must be an array of strings"});
        return std::nullopt;
      }
      out.push_back(*s);
    }
    config.origin[full] = "file";
    return out;
  }

  void listen(const toml::table& table, std::string_view key, std::optional<ListenAddress>& target) {
    if (auto v = get<std::string>(table, "server", key, "a \"HOST:PORT\" string")) {
      std::string problem;
      if (auto a = parse_listen_address(*v, problem)) target = a;
      else errors.push_back({"server." + std::string(key), problem});
    }
  }

  template <typename T>
  void positive(const toml::table& table, std::string_view key, T& target) {
    if (auto v = get<std::int64_t>(table, "server", key, "an integer")) {
      if (*v <= 0) errors.push_back({"server." + std::string(key), "must be greater than 0"});
      else target = static_cast<T>(*v);
    }
  }

  void unknown_keys(const toml::table& table, std::string_view section, std::set<std::string_view> known) {
    for (auto& [k, v] : table)
      if (!known.count(k.str()))
        errors.push_back({(section.empty() ? "" : std::string(section) + ".") + std::string(k.str()), "unknown setting"});
  }
};

}  // namespace

std::vector<ConfigError> apply_toml_text(Config& config, std::string_view text, const std::string& source) {
  std::vector<ConfigError> errors;
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    std::ostringstream where;
    where << source << ":" << e.source().begin.line << ":" << e.source().begin.column;
    errors.push_back({where.str(), std::string(e.description())});
    return errors;
  }
  TomlReader r{config, errors};
  r.unknown_keys(root, "", {"server", "security", "audit", "packs"});
  if (auto server = root["server"].as_table()) {
    r.unknown_keys(*server, "server",
                   {"http", "status", "stdio", "threads", "workers", "log_level", "max_body_bytes", "max_sessions",
                    "session_idle_seconds", "header_timeout_seconds", "idle_timeout_seconds", "replay_events",
                    "drain_seconds", "data_dir", "max_sessions_per_key", "max_batch", "max_response_bytes",
                    "max_queued_calls"});
    r.listen(*server, "http", config.http);
    r.listen(*server, "status", config.status);
    if (auto v = r.get<bool>(*server, "server", "stdio", "true or false")) config.stdio = *v;
    r.positive(*server, "threads", config.threads);
    r.positive(*server, "workers", config.workers);
    if (auto v = r.get<std::string>(*server, "server", "log_level", "a string")) config.log_level = *v;
    if (auto v = r.get<std::string>(*server, "server", "data_dir", "a string")) config.data_dir = *v;
    r.positive(*server, "max_body_bytes", config.max_body_bytes);
    r.positive(*server, "max_sessions", config.max_sessions);
    r.positive(*server, "max_sessions_per_key", config.max_sessions_per_key);
    r.positive(*server, "max_batch", config.max_batch);
    r.positive(*server, "max_queued_calls", config.max_queued_calls);
    r.positive(*server, "max_response_bytes", config.max_response_bytes);
    r.positive(*server, "session_idle_seconds", config.session_idle_seconds);
    r.positive(*server, "header_timeout_seconds", config.header_timeout_seconds);
    r.positive(*server, "idle_timeout_seconds", config.idle_timeout_seconds);
    r.positive(*server, "replay_events", config.replay_events);
    r.positive(*server, "drain_seconds", config.drain_seconds);
  } else if (root.contains("server")) {
    errors.push_back({"server", "must be a table"});
  }
  if (auto security = root["security"].as_table()) {
    r.unknown_keys(*security, "security",
                   {"api_keys", "allowed_origins", "allowed_hosts", "allow_unauthenticated_remote", "rate_limit_per_second",
                    "rate_limit_burst"});
    if (auto v = r.strings(*security, "security", "api_keys")) config.api_keys = *v;
    if (auto v = r.strings(*security, "security", "allowed_origins")) config.allowed_origins = *v;
    if (auto v = r.strings(*security, "security", "allowed_hosts")) config.allowed_hosts = *v;
    if (auto v = r.get<bool>(*security, "security", "allow_unauthenticated_remote", "true or false"))
      config.allow_unauthenticated_remote = *v;
    if (auto v = r.get<std::int64_t>(*security, "security", "rate_limit_per_second", "an integer")) {
      if (*v < 0 || *v > 1000000) errors.push_back({"security.rate_limit_per_second", "must be from 0 (no limit) to 1000000"});
      else config.rate_limit_per_second = static_cast<int>(*v);
    }
    if (auto v = r.get<std::int64_t>(*security, "security", "rate_limit_burst", "an integer")) {
      if (*v < 1 || *v > 1000000) errors.push_back({"security.rate_limit_burst", "must be from 1 to 1000000"});
      else config.rate_limit_burst = static_cast<int>(*v);
    }
  }
  if (auto audit = root["audit"].as_table()) {
    r.unknown_keys(*audit, "audit", {"enabled", "path", "retention_days", "max_bytes"});
    if (auto v = r.get<bool>(*audit, "audit", "enabled", "true or false")) config.audit_enabled = *v;
    if (auto v = r.get<std::string>(*audit, "audit", "path", "a string")) config.audit_path = *v;
    if (auto v = r.get<std::int64_t>(*audit, "audit", "retention_days", "an integer")) {
      if (*v <= 0 || *v > AuditSettings::kMaxRetentionDays)
        errors.push_back({"audit.retention_days", "must be from 1 to " + std::to_string(AuditSettings::kMaxRetentionDays)});
      else config.audit_retention_days = static_cast<int>(*v);
    }
    if (auto v = r.get<std::int64_t>(*audit, "audit", "max_bytes", "an integer (bytes)")) {
      if (*v < static_cast<std::int64_t>(AuditSettings::kMinBytes) || *v > static_cast<std::int64_t>(AuditSettings::kMaxBytes))
        errors.push_back({"audit.max_bytes", "must be from " + std::to_string(AuditSettings::kMinBytes) + " (1 MiB) to " +
                                                 std::to_string(AuditSettings::kMaxBytes) + " (1 TiB) bytes"});
      else config.audit_max_bytes = static_cast<std::uint64_t>(*v);
    }
  } else if (root.contains("audit")) {
    errors.push_back({"audit", "must be a table"});
  }
  if (auto packs = root["packs"].as_table()) {
    if (auto v = r.strings(*packs, "packs", "enabled")) config.enabled_packs = *v;
    for (auto& [k, v] : *packs) {
      if (k.str() == "enabled") continue;
      if (auto t = v.as_table()) config.pack_settings[std::string(k.str())] = toml_to_json(*t).as_object();
      else errors.push_back({"packs." + std::string(k.str()), "must be a table of that pack's settings"});
    }
  }
  return errors;
}

std::vector<ConfigError> apply_toml_file(Config& config, const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return {{path, "cannot be read: " + std::string(std::strerror(errno))}};
  std::string text;
  char buf[8192];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  std::fclose(f);
  return apply_toml_text(config, text, path);
}

std::vector<ConfigError> apply_environment(Config& config,
                                           const std::function<std::optional<std::string>(const char*)>& getenv) {
  std::vector<ConfigError> errors;
  auto host = getenv("MCP_HOST");
  auto port = getenv("MCP_PORT");
  if (host || port) {
    std::string problem;
    std::string h = host ? *host : (config.http ? config.http->host : "127.0.0.1");
    std::string p = port ? *port : (config.http ? std::to_string(config.http->port) : "8000");
    std::string text = h.find(':') != std::string::npos ? "[" + h + "]:" + p : h + ":" + p;
    if (auto a = parse_listen_address(text, problem)) {
      config.http = a;
      config.origin["server.http"] = "env";
    } else {
      errors.push_back({port ? "MCP_PORT" : "MCP_HOST", problem});
    }
  }
  if (auto sp = getenv("MCP_STATUS_PORT")) {
    std::string problem;
    std::string h = config.status ? config.status->host : (config.http ? config.http->host : "127.0.0.1");
    std::string text = h.find(':') != std::string::npos ? "[" + h + "]:" + *sp : h + ":" + *sp;
    if (auto a = parse_listen_address(text, problem)) {
      config.status = a;
      config.origin["server.status"] = "env";
    } else {
      errors.push_back({"MCP_STATUS_PORT", problem});
    }
  }
  if (auto v = getenv("MCP_DATA_DIR")) {
    config.data_dir = *v;
    config.origin["server.data_dir"] = "env";
  }
  if (auto v = getenv("MCP_LOG_LEVEL")) {
    config.log_level = *v;
    config.origin["server.log_level"] = "env";
  }
  std::vector<std::string> keys;
  for (const char* name : {"API_TOKEN", "MCP_API_KEYS"})
    if (auto v = getenv(name))
      for (auto& k : split_list(*v)) keys.push_back(k);
  if (!keys.empty()) {
    config.api_keys = keys;
    config.origin["security.api_keys"] = "env";
  }
  if (auto v = getenv("MCP_ALLOWED_ORIGINS")) {
    config.allowed_origins = split_list(*v);
    config.origin["security.allowed_origins"] = "env";
  }
  if (auto v = getenv("MCP_ALLOWED_HOSTS")) {
    config.allowed_hosts = split_list(*v);
    config.origin["security.allowed_hosts"] = "env";
  }
  // Whole numbers within [min, max]; a bad value names the variable and the setting it sets.
  auto number = [&](const char* name, const char* key, long long min, long long max, auto& target) {
    auto v = getenv(name);
    if (!v) return;
    long long n = 0;
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc() || p != v->data() + v->size() || n < min || n > max) {
      errors.push_back({name, "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max) +
                                  " (it sets " + key + "), got '" + *v + "'"});
      return;
    }
    target = static_cast<std::remove_reference_t<decltype(target)>>(n);
    config.origin[key] = "env";
  };
  constexpr long long kBig = 1LL << 40;
  number("MCP_MAX_SESSIONS_PER_KEY", "server.max_sessions_per_key", 1, kBig, config.max_sessions_per_key);
  number("MCP_MAX_QUEUED_CALLS", "server.max_queued_calls", 1, kBig, config.max_queued_calls);
  number("MCP_MAX_BATCH", "server.max_batch", 1, kBig, config.max_batch);
  number("MCP_MAX_RESPONSE_BYTES", "server.max_response_bytes", 1, kBig, config.max_response_bytes);
  number("MCP_RATE_LIMIT_PER_SECOND", "security.rate_limit_per_second", 0, 1000000, config.rate_limit_per_second);
  number("MCP_RATE_LIMIT_BURST", "security.rate_limit_burst", 1, 1000000, config.rate_limit_burst);
  if (auto v = getenv("MCP_ENABLE_PACKS")) {
    config.enabled_packs = split_list(*v);
    config.origin["packs.enabled"] = "env";
  }
  return errors;
}

std::vector<ConfigError> validate(const Config& config) {
  std::vector<ConfigError> errors;
  if (!log::parse_level(config.log_level)) errors.push_back({"server.log_level", "must be debug, info, warning or error"});
  auto exposed = [&](const std::optional<ListenAddress>& a) { return a && !a->is_loopback(); };
  if (exposed(config.http) && config.api_keys.empty() && !config.allow_unauthenticated_remote)
    errors.push_back({"security.api_keys",
                      "listening on " + config.http->to_string() +
                          " (beyond loopback) requires an API key: set API_TOKEN or security.api_keys "
                          "(or security.allow_unauthenticated_remote = true to opt out)"});
  if (config.max_sessions_per_key > config.max_sessions)
    errors.push_back({"server.max_sessions_per_key", "must not be larger than server.max_sessions (" +
                                                         std::to_string(config.max_sessions) + ")"});
  for (const auto& k : config.api_keys)
    if (k.size() < 8) {
      errors.push_back({"security.api_keys", "each API key must be at least 8 characters long"});
      break;
    }
  return errors;
}

json::object describe(const Config& config) {
  auto origin = [&](const std::string& key) {
    auto it = config.origin.find(key);
    return it == config.origin.end() ? std::string("default") : it->second;
  };
  auto item = [&](json::value v, const std::string& key) { return json::object{{"value", std::move(v)}, {"from", origin(key)}}; };
  auto strings = [](const std::vector<std::string>& v) {
    json::array a;
    for (auto& s : v) a.push_back(json::string(s));
    return a;
  };
  json::object server;
  server["http"] = item(config.http ? json::value(json::string(config.http->to_string())) : json::value(nullptr), "server.http");
  server["status"] = item(config.status ? json::value(json::string(config.status->to_string())) : json::value(nullptr), "server.status");
  server["stdio"] = item(config.stdio, "server.stdio");
  server["threads"] = item(config.threads, "server.threads");
  server["workers"] = item(config.workers, "server.workers");
  server["log_level"] = item(json::string(config.log_level), "server.log_level");
  server["max_body_bytes"] = item(config.max_body_bytes, "server.max_body_bytes");
  server["max_sessions"] = item(config.max_sessions, "server.max_sessions");
  server["max_sessions_per_key"] = config.max_sessions_per_key
                                       ? item(config.max_sessions_per_key, "server.max_sessions_per_key")
                                       : json::object{{"value", config.sessions_per_key()}, {"from", "derived"}};
  server["max_batch"] = item(config.max_batch, "server.max_batch");
  server["max_queued_calls"] = item(config.max_queued_calls, "server.max_queued_calls");
  server["max_response_bytes"] = item(config.max_response_bytes, "server.max_response_bytes");
  server["session_idle_seconds"] = item(config.session_idle_seconds, "server.session_idle_seconds");
  server["header_timeout_seconds"] = item(config.header_timeout_seconds, "server.header_timeout_seconds");
  server["idle_timeout_seconds"] = item(config.idle_timeout_seconds, "server.idle_timeout_seconds");
  server["replay_events"] = item(config.replay_events, "server.replay_events");
  server["drain_seconds"] = item(config.drain_seconds, "server.drain_seconds");
  server["data_dir"] = item(json::string(config.data_dir), "server.data_dir");
  json::array keys;
  for (auto& k : config.api_keys) keys.push_back(json::string(mask_secret(k)));
  json::object security;
  security["api_keys"] = item(std::move(keys), "security.api_keys");
  security["auth_required"] = json::object{{"value", !config.api_keys.empty()}, {"from", "derived"}};
  security["allowed_origins"] = item(strings(config.allowed_origins), "security.allowed_origins");
  security["allowed_hosts"] = item(strings(config.allowed_hosts), "security.allowed_hosts");
  security["allow_unauthenticated_remote"] = item(config.allow_unauthenticated_remote, "security.allow_unauthenticated_remote");
  security["rate_limit_per_second"] = item(config.rate_limit_per_second, "security.rate_limit_per_second");
  security["rate_limit_burst"] = item(config.rate_limit_burst, "security.rate_limit_burst");
  json::object audit;
  audit["enabled"] = item(config.audit_enabled, "audit.enabled");
  audit["path"] = item(json::string(config.audit_path), "audit.path");
  audit["retention_days"] = item(config.audit_retention_days, "audit.retention_days");
  audit["max_bytes"] = item(config.audit_max_bytes, "audit.max_bytes");
  json::object packs;
  packs["enabled"] = item(strings(config.enabled_packs), "packs.enabled");
  for (auto& [name, settings] : config.pack_settings) {
    json::value masked = settings;
    mask_json(masked);
    packs[name] = masked;
  }
  return json::object{{"server", std::move(server)},
                      {"security", std::move(security)},
                      {"audit", std::move(audit)},
                      {"packs", std::move(packs)}};
}

std::string default_data_dir(const std::function<std::optional<std::string>(const char*)>& getenv) {
  if (auto xdg = getenv("XDG_DATA_HOME")) return *xdg + "/mcpd";
  if (auto home = getenv("HOME")) return *home + "/.local/share/mcpd";
  return "data";
}

std::optional<std::string> real_getenv(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::nullopt;
  return std::string(v);
}

}  // namespace mcpd::infra
