// [packs.sql] parsing: every key checked, every bad value named in one sentence.
#include "packs/sql/source_settings.hpp"

#include <filesystem>
#include <set>

#include "infra/settings.hpp"

namespace mcpd::packs::sql {

namespace {

using infra::SettingsReader;

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
  const std::string where = "sources[" + std::to_string(index) + "]";
  if (!item.is_object())
    throw infra::SettingsError(where, "each source must be a table such as { name = \"main\", type = \"postgres\" }");
  const SettingsReader unnamed(item.get_object(), where);
  SourceSettings s;
  s.name = unnamed.string("name");
  if (!infra::valid_name(s.name))
    unnamed.fail("name", "is required and must be 1 to 64 letters, digits, '_' or '-' (it appears in sql:// URIs)");
  const SettingsReader r(item.get_object(), "sources." + s.name);
  r.reject_unknown({"name", "type", "path", "url", "allow_writes", "statement_timeout_ms", "max_rows", "pool_min",
                    "pool_max", "pool_idle_seconds", "breaker_failures", "breaker_open_seconds", "retries",
                    "connect_timeout_seconds"});
  s.type = r.string("type");
  if (s.type != "sqlite" && s.type != "postgres") r.fail("type", "must be \"sqlite\" or \"postgres\"");
  s.path = r.string("path");
  s.url = r.string("url");
  if (s.type == "sqlite") {
    if (s.path.empty()) r.fail("path", "is required for a sqlite source (the database file)");
    if (r.has("url")) r.fail("url", "applies to postgres sources only; a sqlite source takes 'path'");
    for (const char* k : {"pool_min", "breaker_failures", "breaker_open_seconds", "retries", "connect_timeout_seconds"})
      if (r.has(k)) r.fail(k, "applies to postgres sources only");
  } else {
    if (r.has("path")) r.fail("path", "applies to sqlite sources only; a postgres source takes 'url'");
    if (s.url.empty()) {
      auto env = postgres_url_from_env(getenv);
      if (!env) r.fail("url", "is required (or set DATABASE_URL, or POSTGRES_HOST and its companions)");
      s.url = *env;
    }
  }
  s.allow_writes = r.boolean("allow_writes", s.allow_writes);
  s.statement_timeout = std::chrono::milliseconds(r.integer("statement_timeout_ms", 5000, 1, 3'600'000));
  s.max_rows = static_cast<std::size_t>(r.integer("max_rows", 1000, 1, 1'000'000));
  s.pool_max = static_cast<std::size_t>(r.integer("pool_max", 10, 1, 1000));
  s.pool_min = static_cast<std::size_t>(r.integer("pool_min", 2, 0, 1000));
  if (s.pool_min > s.pool_max) r.fail("pool_min", "must not exceed pool_max (" + std::to_string(s.pool_max) + ")");
  s.pool_idle = std::chrono::seconds(r.integer("pool_idle_seconds", 60, 1, 86400));
  s.breaker_failures = static_cast<int>(r.integer("breaker_failures", 5, 1, 1000));
  s.breaker_open = std::chrono::seconds(r.integer("breaker_open_seconds", 60, 1, 3600));
  s.retries = static_cast<int>(r.integer("retries", 3, 1, 10));
  s.connect_timeout = std::chrono::seconds(r.integer("connect_timeout_seconds", 5, 1, 300));
  return s;
}

}  // namespace

std::optional<std::string> process_env(const char* name) { return infra::env_value(name); }

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
  const SettingsReader r(settings);
  r.reject_unknown({"sources"}, "the sql pack takes only [[packs.sql.sources]] entries");
  std::vector<SourceSettings> out;
  if (auto v = r.find("sources")) {
    if (!v->is_array()) r.fail("sources", "must be an array of tables ([[packs.sql.sources]])");
    std::set<std::string> names;
    for (std::size_t i = 0; i < v->get_array().size(); ++i) {
      auto s = parse_source(v->get_array()[i], i, getenv);
      if (!names.insert(s.name).second) r.fail("sources", "the name '" + s.name + "' is used twice");
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
