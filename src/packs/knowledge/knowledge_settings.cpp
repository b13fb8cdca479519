// [packs.knowledge] parsing: every key checked, every bad value named in one sentence.
#include "packs/knowledge/knowledge_settings.hpp"

#include <filesystem>
#include <set>

#include "infra/settings.hpp"
#include "packs/knowledge/sources/git_source.hpp"

namespace mcpd::packs::knowledge {

namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using infra::SettingsError;
using infra::SettingsReader;

std::optional<infra::CronSchedule> schedule_of(const std::string& expression, const std::string& key) {
  if (expression.empty()) return std::nullopt;
  std::string problem;
  auto schedule = infra::CronSchedule::parse(expression, problem);
  if (!schedule) throw SettingsError(key, problem);
  return schedule;
}

SourceSettings parse_source(const json::value& item, const std::optional<infra::CronSchedule>& default_schedule) {
  if (!item.is_object()) throw std::invalid_argument("sources: each source must be a table");
  const SettingsReader unnamed(item.get_object(), "sources");
  SourceSettings s;
  s.name = unnamed.string("name");
  if (s.name.empty()) throw std::invalid_argument("sources: a source has no name");
  const SettingsReader r(item.get_object(), "sources." + s.name);
  r.reject_unknown({"name", "type", "path", "url", "branch", "schedule", "include", "exclude"});
  s.type = r.string("type", s.type);
  s.path = r.string("path");
  s.url = r.string("url");
  s.branch = r.string("branch");
  s.include = r.strings("include");
  s.exclude = r.strings("exclude");
  if (s.type == "directory") {
    if (s.path.empty()) throw SettingsError(r.path(), "'path' is required");
  } else if (s.type == "git") {
    if (s.url.empty() && s.path.empty()) throw SettingsError(r.path(), "'url' is required");
  } else {
    throw SettingsError(r.path(), "'type' must be directory or git");
  }
  if (auto own = r.optional_string("schedule")) s.schedule = schedule_of(*own, r.path_of("schedule"));
  else s.schedule = default_schedule;
  return s;
}

HybridWeights parse_search(const SettingsReader& r) {
  r.reject_unknown({"lexical_weight", "semantic_weight", "fusion"});
  HybridWeights w;
  auto number = [&](const char* key, double fallback) {
    auto v = r.find(key);
    if (!v) return fallback;
    if (!v->is_number()) r.fail(key, "must be a number");
    return v->to_number<double>();
  };
  w.lexical = number("lexical_weight", w.lexical);
  w.semantic = number("semantic_weight", w.semantic);
  if (auto v = r.find("fusion")) {
    // Worded "search.fusion must be ..." since this pack's first release.
    if (!v->is_string() || (v->get_string() != "convex" && v->get_string() != "rrf"))
      throw std::invalid_argument("search.fusion must be \"convex\" or \"rrf\"");
    w.fusion = v->get_string() == "rrf" ? HybridWeights::Fusion::rrf : HybridWeights::Fusion::convex;
  }
  if (w.lexical < 0 || w.semantic < 0 || w.lexical + w.semantic <= 0)
    throw std::invalid_argument("search: the weights must be >= 0 and not both 0");
  return w;
}

ApproximateParams parse_vector_index(const SettingsReader& r) {
  r.reject_unknown({"approximate_from", "m", "ef_construction", "ef_search", "build_threads"},
                   "approximate_from, m, ef_construction, ef_search, build_threads");
  ApproximateParams p;
  auto read = [&](const char* key, std::size_t& out, std::int64_t lo, std::int64_t hi) {
    out = static_cast<std::size_t>(r.integer(key, static_cast<std::int64_t>(out), lo, hi));
  };
  try {
    read("approximate_from", p.from, 1, std::int64_t{1} << 40);
    read("m", p.m, 4, 64);
    read("ef_construction", p.ef_construction, 10, 2000);
    read("ef_search", p.ef_search, 10, 5000);
    read("build_threads", p.build_threads, 1, 64);
  } catch (const SettingsError& e) {
    // Worded "vector_index.m must be ..." (no colon) since these settings came; scripts match that.
    throw std::invalid_argument(e.path() + " " + e.problem());
  }
  return p;
}

EmbeddingSettings parse_embeddings(const SettingsReader& r, const GetEnv& getenv) {
  r.reject_unknown({"provider", "reembed", "model_dir", "threads", "base_url", "model", "api_key_env", "dimension",
                    "batch_size"});
  EmbeddingSettings e;
  e.provider = r.optional_string("provider");
  if (!e.provider) e.provider = getenv("EMBED_PROVIDER");
  if (e.provider && *e.provider != "none" && *e.provider != "use-lite" && *e.provider != "openai")
    throw std::invalid_argument("embeddings.provider: must be 'none', 'use-lite' (the built-in model) or 'openai' (any "
                                "OpenAI-compatible endpoint), got '" + *e.provider + "'");
  e.reembed = r.boolean("reembed", false);
  e.model_dir = r.string("model_dir");
  if (auto v = r.find("threads")) {
    if (!v->is_int64() || v->get_int64() < 0 || v->get_int64() > 256) r.fail("threads", "must be 0 (one per core) to 256");
    e.threads = static_cast<unsigned>(v->get_int64());
  }
  auto& o = e.openai;
  o.base_url = r.optional_string("base_url").value_or(getenv("EMBED_BASE_URL").value_or(o.base_url));
  o.model = r.optional_string("model").value_or(getenv("EMBED_MODEL").value_or(o.model));
  const std::string key_variable = r.string("api_key_env", "OPENAI_API_KEY");
  if (key_variable.empty()) r.fail("api_key_env", "must name an environment variable (default OPENAI_API_KEY)");
  o.api_key = getenv(key_variable.c_str()).value_or("");
  // 0 (the default): learned from the first answer.
  o.dimension = static_cast<std::size_t>(r.integer("dimension", 0, 0, 65536));
  o.batch_size = static_cast<std::size_t>(r.integer("batch_size", static_cast<std::int64_t>(o.batch_size), 1, 2048));
  return e;
}

}  // namespace

std::optional<std::string> process_env(const char* name) { return infra::env_value(name); }

KnowledgeSettings parse_settings(const json::object& settings, const std::string& data_dir, const GetEnv& getenv,
                                 const std::string& docs_dir) {
  const SettingsReader r(settings);
  r.reject_unknown({"index", "cache_dir", "sync_on_start", "webhook_secret", "github_token", "schedule", "max_file_bytes",
                    "sources", "embeddings", "search", "vector_index"});
  KnowledgeSettings k;
  k.index = r.string("index", (fs::path(data_dir.empty() ? std::string("data") : data_dir) / "knowledge.db").string());
  if (k.index.empty()) r.fail("index", "must name the index file (default <data_dir>/knowledge.db)");
  const fs::path index_path(k.index);
  k.cache_dir = r.string("cache_dir", (index_path.has_parent_path() ? index_path.parent_path() / "git" : fs::path("git")).string());
  k.sync_on_start = r.boolean("sync_on_start", k.sync_on_start);
  k.webhook_secret = r.optional_string("webhook_secret").value_or(getenv("GH_WEBHOOK_SECRET").value_or(""));
  k.github_token = r.optional_string("github_token").value_or(getenv("GH_PAT").value_or(""));
  if (auto v = r.find("max_file_bytes")) {
    if (!v->is_int64()) r.fail("max_file_bytes", "must be a whole number of bytes");
    if (v->get_int64() <= 0) r.fail("max_file_bytes", "must be greater than 0");
    k.extract.max_bytes = static_cast<std::size_t>(v->get_int64());
  }

  // A cron expression for every source that sets none (seed 001 resyncs with "0 */3 * * *").
  const auto default_schedule = schedule_of(r.string("schedule"), "schedule");
  if (auto v = r.find("sources")) {
    if (!v->is_array()) r.fail("sources", "must be an array of tables ([[packs.knowledge.sources]])");
    for (const auto& item : v->get_array()) k.sources.push_back(parse_source(item, default_schedule));
  }
  if (auto repos = getenv("GH_REPOS")) {
    constexpr std::string_view kPrefix = "https://github.com/";
    for (const auto& url : expand_github_repos(*repos)) {
      SourceSettings s;
      s.name = url.substr(kPrefix.size(), url.size() - kPrefix.size() - 4);  // "org/repo"
      s.type = "git";
      s.url = url;
      s.schedule = default_schedule;
      k.sources.push_back(std::move(s));
    }
  }
  // Zero configuration: the project's own documentation, so that the first search finds something.
  std::error_code ec;
  if (k.sources.empty() && !docs_dir.empty() && fs::is_directory(docs_dir, ec)) {
    SourceSettings docs;
    docs.name = "docs";
    docs.path = docs_dir;
    docs.schedule = default_schedule;
    k.sources.push_back(std::move(docs));
  }
  std::set<std::string> names;
  for (const auto& s : k.sources)
    if (!names.insert(s.name).second) throw std::invalid_argument("sources: the name '" + s.name + "' is used twice");

  k.embeddings = parse_embeddings(r.table("embeddings"), getenv);
  k.search = parse_search(r.table("search"));
  k.vector_index = parse_vector_index(r.table("vector_index"));
  return k;
}

}  // namespace mcpd::packs::knowledge
