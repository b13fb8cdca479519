// [packs.knowledge] through the settings reader: the defaults, every key, the seed's environment
// variables, and misspelt or mistyped keys refused with a message naming them.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <map>
#include <stdexcept>
#include <string>

#include "packs/knowledge/knowledge_settings.hpp"
#include "temp_dir.hpp"

using namespace mcpd::packs::knowledge;
namespace json = boost::json;
using mcpd::test::TempDir;

namespace {

// A fixed environment instead of the process's.
struct FakeEnv {
  std::map<std::string, std::string> vars;
  GetEnv get() const {
    return [this](const char* name) -> std::optional<std::string> {
      auto it = vars.find(name);
      if (it == vars.end() || it->second.empty()) return std::nullopt;
      return it->second;
    };
  }
};

KnowledgeSettings parse(const std::string& text, const FakeEnv& env = {}, const std::string& docs_dir = {}) {
  return parse_settings(json::parse(text).as_object(), "/srv/mcpd", env.get(), docs_dir);
}

// The message a bad configuration is refused with ("<accepted>" when it is not refused).
std::string error_of(const std::string& text, const FakeEnv& env = {}) {
  try {
    parse(text, env);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "<accepted>";
}

}  // namespace

TEST(KnowledgeSettings, DefaultsWithNothingConfigured) {
  auto s = parse("{}");
  EXPECT_EQ(s.index, "/srv/mcpd/knowledge.db");
  EXPECT_EQ(s.cache_dir, "/srv/mcpd/git");
  EXPECT_TRUE(s.sync_on_start);
  EXPECT_EQ(s.webhook_secret, "");
  EXPECT_EQ(s.github_token, "");
  EXPECT_EQ(s.extract.max_bytes, ExtractOptions{}.max_bytes);
  EXPECT_TRUE(s.sources.empty());
  EXPECT_FALSE(s.embeddings.provider);
  EXPECT_FALSE(s.embeddings.reembed);
  EXPECT_EQ(s.embeddings.model_dir, "");
  EXPECT_EQ(s.embeddings.threads, 0u);
  EXPECT_EQ(s.embeddings.openai.base_url, "https://api.openai.com/v1");
  EXPECT_EQ(s.embeddings.openai.model, "text-embedding-3-small");
  EXPECT_EQ(s.embeddings.openai.api_key, "");
  EXPECT_EQ(s.embeddings.openai.dimension, 0u);
  EXPECT_EQ(s.embeddings.openai.batch_size, 64u);
  EXPECT_EQ(s.search.fusion, HybridWeights::Fusion::convex);
  EXPECT_EQ(s.search.lexical, 1.0);
  EXPECT_EQ(s.search.semantic, 0.5);
  EXPECT_EQ(s.vector_index.from, ApproximateParams{}.from);
  EXPECT_EQ(s.vector_index.m, ApproximateParams{}.m);

  // No data directory: "data"; an index file without a folder keeps its mirrors in "git".
  EXPECT_EQ(parse_settings(json::object{}, "", FakeEnv{}.get()).index, "data/knowledge.db");
  EXPECT_EQ(parse(R"({"index":"kb.db"})").cache_dir, "git");
}

TEST(KnowledgeSettings, ZeroConfigurationIndexesTheDocsFolderOnlyWhenNoSourceIsConfigured) {
  TempDir docs;
  auto s = parse("{}", {}, docs.path().string());
  ASSERT_EQ(s.sources.size(), 1u);
  EXPECT_EQ(s.sources[0].name, "docs");
  EXPECT_EQ(s.sources[0].type, "directory");
  EXPECT_EQ(s.sources[0].path, docs.path().string());
  EXPECT_TRUE(parse("{}", {}, (docs.path() / "missing").string()).sources.empty());
  auto configured = parse(R"({"sources":[{"name":"notes","path":"/n"}]})", {}, docs.path().string());
  ASSERT_EQ(configured.sources.size(), 1u);
  EXPECT_EQ(configured.sources[0].name, "notes");
}

TEST(KnowledgeSettings, EveryKey) {
  auto s = parse(R"({
    "index": "/var/kb/index.db", "cache_dir": "/var/kb/mirrors", "sync_on_start": false,
    "webhook_secret": "hook", "github_token": "ghp_x", "schedule": "0 */3 * * *", "max_file_bytes": 1000,
    "sources": [
      {"name": "handbook", "type": "directory", "path": "/srv/handbook", "include": ["**/*.md"], "exclude": ["drafts/**"]},
      {"name": "api", "type": "git", "url": "https://github.com/org/api.git", "branch": "main", "schedule": "*/30 * * * *"}],
    "embeddings": {"provider": "openai", "reembed": true, "model_dir": "/m", "threads": 4, "base_url": "http://127.0.0.1:11434/v1",
                   "model": "nomic-embed-text", "api_key_env": "MY_KEY", "dimension": 768, "batch_size": 16},
    "search": {"lexical_weight": 2, "semantic_weight": 0.25, "fusion": "rrf"},
    "vector_index": {"approximate_from": 10, "m": 8, "ef_construction": 50, "ef_search": 60, "build_threads": 2}})",
                 FakeEnv{{{"MY_KEY", "sk-test"}}});
  EXPECT_EQ(s.index, "/var/kb/index.db");
  EXPECT_EQ(s.cache_dir, "/var/kb/mirrors");
  EXPECT_FALSE(s.sync_on_start);
  EXPECT_EQ(s.webhook_secret, "hook");
  EXPECT_EQ(s.github_token, "ghp_x");
  EXPECT_EQ(s.extract.max_bytes, 1000u);
  ASSERT_EQ(s.sources.size(), 2u);
  const auto& handbook = s.sources[0];
  EXPECT_EQ(handbook.name, "handbook");
  EXPECT_EQ(handbook.type, "directory");
  EXPECT_EQ(handbook.path, "/srv/handbook");
  EXPECT_EQ(handbook.include, std::vector<std::string>{"**/*.md"});
  EXPECT_EQ(handbook.exclude, std::vector<std::string>{"drafts/**"});
  ASSERT_TRUE(handbook.schedule);
  EXPECT_EQ(handbook.schedule->expression(), "0 */3 * * *");  // the pack's schedule
  const auto& api = s.sources[1];
  EXPECT_EQ(api.type, "git");
  EXPECT_EQ(api.url, "https://github.com/org/api.git");
  EXPECT_EQ(api.branch, "main");
  ASSERT_TRUE(api.schedule);
  EXPECT_EQ(api.schedule->expression(), "*/30 * * * *");  // its own
  EXPECT_EQ(s.embeddings.provider, "openai");
  EXPECT_TRUE(s.embeddings.reembed);
  EXPECT_EQ(s.embeddings.model_dir, "/m");
  EXPECT_EQ(s.embeddings.threads, 4u);
  EXPECT_EQ(s.embeddings.openai.base_url, "http://127.0.0.1:11434/v1");
  EXPECT_EQ(s.embeddings.openai.model, "nomic-embed-text");
  EXPECT_EQ(s.embeddings.openai.api_key, "sk-test");
  EXPECT_EQ(s.embeddings.openai.dimension, 768u);
  EXPECT_EQ(s.embeddings.openai.batch_size, 16u);
  EXPECT_EQ(s.search.fusion, HybridWeights::Fusion::rrf);
  EXPECT_EQ(s.search.lexical, 2.0);
  EXPECT_EQ(s.search.semantic, 0.25);
  EXPECT_EQ(s.vector_index.from, 10u);
  EXPECT_EQ(s.vector_index.m, 8u);
  EXPECT_EQ(s.vector_index.ef_construction, 50u);
  EXPECT_EQ(s.vector_index.ef_search, 60u);
  EXPECT_EQ(s.vector_index.build_threads, 2u);
}

TEST(KnowledgeSettings, TheSeedsEnvironmentVariablesFillWhatTheFileLeavesOut) {
  FakeEnv env{{{"GH_REPOS", "org/one, org/two"},
               {"GH_PAT", "ghp_env"},
               {"GH_WEBHOOK_SECRET", "env-secret"},
               {"EMBED_PROVIDER", "openai"},
               {"EMBED_MODEL", "env-model"},
               {"EMBED_BASE_URL", "http://127.0.0.1:9/v1"},
               {"OPENAI_API_KEY", "sk-env"}}};
  auto s = parse(R"({"schedule":"0 * * * *","sources":[{"name":"notes","path":"/n"}]})", env);
  ASSERT_EQ(s.sources.size(), 3u);
  EXPECT_EQ(s.sources[1].name, "org/one");
  EXPECT_EQ(s.sources[1].type, "git");
  EXPECT_EQ(s.sources[1].url, "https://github.com/org/one.git");
  ASSERT_TRUE(s.sources[2].schedule);
  EXPECT_EQ(s.sources[2].schedule->expression(), "0 * * * *");
  EXPECT_EQ(s.github_token, "ghp_env");
  EXPECT_EQ(s.webhook_secret, "env-secret");
  EXPECT_EQ(s.embeddings.provider, "openai");
  EXPECT_EQ(s.embeddings.openai.model, "env-model");
  EXPECT_EQ(s.embeddings.openai.base_url, "http://127.0.0.1:9/v1");
  EXPECT_EQ(s.embeddings.openai.api_key, "sk-env");

  // The file wins over the environment.
  auto file = parse(R"({"github_token":"ghp_file","webhook_secret":"file-secret",
                        "embeddings":{"provider":"none","model":"file-model","base_url":"http://127.0.0.1:8/v1"}})", env);
  EXPECT_EQ(file.github_token, "ghp_file");
  EXPECT_EQ(file.webhook_secret, "file-secret");
  EXPECT_EQ(file.embeddings.provider, "none");
  EXPECT_EQ(file.embeddings.openai.model, "file-model");
  EXPECT_EQ(file.embeddings.openai.base_url, "http://127.0.0.1:8/v1");

  EXPECT_EQ(error_of("{}", FakeEnv{{{"GH_REPOS", "org"}}}), "not a GitHub repository of the form owner/name: 'org'");
  EXPECT_EQ(error_of("{}", FakeEnv{{{"EMBED_PROVIDER", "bert"}}}),
            "embeddings.provider: must be 'none', 'use-lite' (the built-in model) or 'openai' (any OpenAI-compatible "
            "endpoint), got 'bert'");
}

TEST(KnowledgeSettings, AMisspeltKeyIsRefusedNamingItAndTheKnownKeys) {
  EXPECT_EQ(error_of(R"({"sync_on_strat":false})"),
            "unknown setting 'sync_on_strat' (known: cache_dir, embeddings, github_token, index, max_file_bytes, schedule, "
            "search, sources, sync_on_start, vector_index, webhook_secret)");
  EXPECT_EQ(error_of(R"({"sources":[{"name":"api","type":"git","url":"/r","brnach":"main"}]})"),
            "sources.api: unknown setting 'brnach' (known: branch, exclude, include, name, path, schedule, type, url)");
  EXPECT_EQ(error_of(R"({"embeddings":{"provder":"openai"}})"),
            "embeddings: unknown setting 'provder' (known: api_key_env, base_url, batch_size, dimension, model, model_dir, "
            "provider, reembed, threads)");
  // A key in the file, which the embedder would never have read: refused, and not repeated.
  const std::string key_in_file = error_of(R"({"embeddings":{"api_key":"sk-in-the-file"}})");
  EXPECT_EQ(key_in_file.find("embeddings: unknown setting 'api_key'"), 0u) << key_in_file;
  EXPECT_EQ(key_in_file.find("sk-in-the-file"), std::string::npos) << key_in_file;
  EXPECT_EQ(error_of(R"({"search":{"fusoin":"rrf"}})"),
            "search: unknown setting 'fusoin' (known: fusion, lexical_weight, semantic_weight)");
  EXPECT_EQ(error_of(R"({"vector_index":{"ef":10}})"),
            "vector_index: unknown setting 'ef' (approximate_from, m, ef_construction, ef_search, build_threads)");
}

TEST(KnowledgeSettings, AWrongTypeIsRefusedNamingTheKey) {
  EXPECT_EQ(error_of(R"({"index":5})"), "index: must be a string");
  EXPECT_EQ(error_of(R"({"sync_on_start":"no"})"), "sync_on_start: must be true or false");
  EXPECT_EQ(error_of(R"({"max_file_bytes":"10MB"})"), "max_file_bytes: must be a whole number of bytes");
  EXPECT_EQ(error_of(R"({"sources":{"name":"a"}})"), "sources: must be an array of tables ([[packs.knowledge.sources]])");
  EXPECT_EQ(error_of(R"({"sources":[{"name":"a","path":"/a","include":"*.md"}]})"), "sources.a.include: must be a list of strings");
  EXPECT_EQ(error_of(R"({"embeddings":"openai"})"), "embeddings: must be a table");
  EXPECT_EQ(error_of(R"({"embeddings":{"reembed":"yes"}})"), "embeddings.reembed: must be true or false");
  EXPECT_EQ(error_of(R"({"embeddings":{"batch_size":0}})"), "embeddings.batch_size: must be an integer from 1 to 2048");
  EXPECT_EQ(error_of(R"({"search":{"lexical_weight":"high"}})"), "search.lexical_weight: must be a number");
  EXPECT_EQ(error_of(R"({"vector_index":{"m":1000}})"), "vector_index.m must be an integer from 4 to 64");
}

TEST(KnowledgeSettings, BadValuesKeepTheirMessages) {
  EXPECT_EQ(error_of(R"({"max_file_bytes":0})"), "max_file_bytes: must be greater than 0");
  EXPECT_EQ(error_of(R"({"sources":["a"]})"), "sources: each source must be a table");
  EXPECT_EQ(error_of(R"({"sources":[{"path":"/a"}]})"), "sources: a source has no name");
  EXPECT_EQ(error_of(R"({"sources":[{"name":"a","path":"/a"},{"name":"a","path":"/b"}]})"),
            "sources: the name 'a' is used twice");
  EXPECT_EQ(error_of(R"({"sources":[{"name":"a"}]})"), "sources.a: 'path' is required");
  EXPECT_EQ(error_of(R"({"sources":[{"name":"a","type":"git"}]})"), "sources.a: 'url' is required");
  EXPECT_EQ(error_of(R"({"sources":[{"name":"a","type":"svn","url":"x"}]})"), "sources.a: 'type' must be directory or git");
  EXPECT_EQ(error_of(R"({"sources":[{"name":"a","path":"/a","schedule":"61 * * * *"}]})").find("sources.a.schedule: "), 0u);
  EXPECT_EQ(error_of(R"({"schedule":"every day"})").find("schedule: "), 0u);
  EXPECT_EQ(error_of(R"({"search":{"fusion":"max"}})"), "search.fusion must be \"convex\" or \"rrf\"");
  EXPECT_EQ(error_of(R"({"search":{"lexical_weight":0,"semantic_weight":0}})"),
            "search: the weights must be >= 0 and not both 0");
  EXPECT_EQ(error_of(R"({"embeddings":{"threads":300}})"), "embeddings.threads: must be 0 (one per core) to 256");
  // A git source may name a local repository by path.
  auto local = parse(R"({"sources":[{"name":"repo","type":"git","path":"/srv/repo"}]})");
  EXPECT_EQ(local.sources.at(0).path, "/srv/repo");
}
