// [packs.sql] parsing: every key checked, every bad value named in one sentence.
#include "packs/sql/source_settings.hpp"

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <stdexcept>

namespace mcpd::packs::sql {

namespace {

const std::set<std::string, std::less<>> kSourceKeys = {
    "name",       "type",     "path",     "url",      "allow_writes",      "statement_timeout_ms",
    "max_rows",   "pool_min", "pool_max", "pool_idle_seconds", "breaker_failures", "breaker_open_seconds",
    "retries",    "connect_timeout_seconds"};

std::string known(const std::set<std::string, std::less<>>& keys) {
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : ", ") + k;
  return out;
}

[[noreturn]] void fail(const std::string& where, const std::string& problem) {
  throw std::invalid_argument(where + ": " + problem);
}

std::string string_value(const json::object& o, const std::string& where, std::string_view key) {
  auto v = o.if_contains(key);
  if (!v) return {};
  if (!v->is_string()) fail(where + "." + std::string(key), "must be a string");
  return std::string(v->get_string());
}

std::int64_t int_value(const json::object& o, const std::string& where, std::string_view key, std::int64_t fallback,
                       std::int64_t lo, std::int64_t hi) {
  auto v = o.if_contains(key);
  if (!v) return fallback;
  if (!v->is_int64() || v->get_int64() < lo || v->get_int64() > hi)
    fail(where + "." + std::string(key), "must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
  return v->get_int64();
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  return true;
}

// Single quotes for a libpq key=value value: backslash and quote escaped.
std::string conninfo_value(const std::string& v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

SourceSettings parse_source(const json::value& item, std::size_t index, const GetEnv& getenv) {
  std::string where = "sources[" + std::to_string(index) + "]";
  if (!item.is_object()) fail(where, "each source must be a table such as { name = \"main\", type = \"postgres\" }");
  const auto& o = item.get_object();
  SourceSettings s;
  s.name = string_value(o, where, "name");
  if (!valid_name(s.name))
    fail(where + ".name", "is required and must be 1 to 64 letters, digits, '_' or '-' (it appears in sql:// URIs)");
  where = "sources." + s.name;
  for (const auto& [key, value] : o)
    if (!kSourceKeys.count(key)) fail(where, "unknown setting '" + std::string(key) + "' (known: " + known(kSourceKeys) + ")");
  s.type = string_value(o, where, "type");
  if (s.type != "sqlite" && s.type != "postgres") fail(where + ".type", "must be \"sqlite\" or \"postgres\"");
  s.path = string_value(o, where, "path");
  s.url = string_value(o, where, "url");
  if (s.type == "sqlite") {
    if (s.path.empty()) fail(where + ".path", "is required for a sqlite source (the database file)");
    if (o.contains("url")) fail(where + ".url", "applies to postgres sources only; a sqlite source takes 'path'");
    for (const char* k : {"pool_min", "breaker_failures", "breaker_open_seconds", "retries", "connect_timeout_seconds"})
      if (o.contains(k)) fail(where + "." + k, "applies to postgres sources only");
  } else {
    if (o.contains("path")) fail(where + ".path", "applies to sqlite sources only; a postgres source takes 'url'");
    if (s.url.empty()) {
      auto env = postgres_url_from_env(getenv);
      if (!env) fail(where + ".url", "is required (or set DATABASE_URL, or POSTGRES_HOST and its companions)");
      s.url = *env;
    }
  }
  if (auto v = o.if_contains("allow_writes")) {
    if (!v->is_bool()) fail(where + ".allow_writes", "must be true or false");
    s.allow_writes = v->get_bool();
  }
  s.statement_timeout = std::chrono::milliseconds(int_value(o, where, "statement_timeout_ms", 5000, 1, 3'600'000));
  s.max_rows = static_cast<std::size_t>(int_value(o, where, "max_rows", 1000, 1, 1'000'000));
  s.pool_max = static_cast<std::size_t>(int_value(o, where, "pool_max", 10, 1, 1000));
  s.pool_min = static_cast<std::size_t>(int_value(o, where, "pool_min", 2, 0, 1000));
  if (s.pool_min > s.pool_max) fail(where + ".pool_min", "must not exceed pool_max (" + std::to_string(s.pool_max) + ")");
  s.pool_idle = std::chrono::seconds(int_value(o, where, "pool_idle_seconds", 60, 1, 86400));
  s.breaker_failures = static_cast<int>(int_value(o, where, "breaker_failures", 5, 1, 1000));
  s.breaker_open = std::chrono::seconds(int_value(o, where, "breaker_open_seconds", 60, 1, 3600));
  s.retries = static_cast<int>(int_value(o, where, "retries", 3, 1, 10));
  s.connect_timeout = std::chrono::seconds(int_value(o, where, "connect_timeout_seconds", 5, 1, 300));
  return s;
}

}  // namespace

std::optional<std::string> process_env(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::nullopt;
  return std::string(v);
}

std::optional<std::string> postgres_url_from_env(const GetEnv& getenv) {
  if (auto url = getenv("DATABASE_URL")) return url;
  auto host = getenv("POSTGRES_HOST");
  if (!host) return std::nullopt;
  std::string info = "host=" + conninfo_value(*host);
  if (auto v = getenv("POSTGRES_PORT")) info += " port=" + conninfo_value(*v);
  if (auto v = getenv("POSTGRES_DB")) info += " dbname=" + conninfo_value(*v);
  if (auto v = getenv("POSTGRES_USER")) info += " user=" + conninfo_value(*v);
  if (auto v = getenv("POSTGRES_PASSWORD")) info += " password=" + conninfo_value(*v);
  return info;
}

std::vector<SourceSettings> parse_sources(const json::object& settings, const std::string& data_dir, const GetEnv& getenv) {
  for (const auto& [key, value] : settings)
    if (key != "sources")
      throw std::invalid_argument("unknown setting '" + std::string(key) +
                                  "' (the sql pack takes only [[packs.sql.sources]] entries)");
  std::vector<SourceSettings> out;
  if (auto v = settings.if_contains("sources")) {
    if (!v->is_array()) throw std::invalid_argument("sources: must be an array of tables ([[packs.sql.sources]])");
    std::set<std::string> names;
    for (std::size_t i = 0; i < v->get_array().size(); ++i) {
      auto s = parse_source(v->get_array()[i], i, getenv);
      if (!names.insert(s.name).second) throw std::invalid_argument("sources: the name '" + s.name + "' is used twice");
      out.push_back(std::move(s));
    }
    if (!out.empty()) return out;
  }
  // Zero configuration: PostgreSQL from the seed's environment first (it becomes the default
  // source), then the SQLite sample, so that the first query finds something.
  if (auto url = postgres_url_from_env(getenv)) {
    SourceSettings pg;
    pg.name = "postgres";
    pg.type = "postgres";
    pg.url = *url;
    out.push_back(std::move(pg));
  }
  SourceSettings sample;
  sample.name = "sample";
  sample.type = "sqlite";
  sample.sample = true;
  sample.path = (std::filesystem::path(data_dir.empty() ? std::string("data") : data_dir) / "sample.db").string();
  out.push_back(std::move(sample));
  return out;
}

}  // namespace mcpd::packs::sql
