// Reads [packs.knowledge] (as JSON) through the one settings reader: every key checked, an unknown or
// mistyped key refused naming it, and the seed's environment variables (GH_REPOS, GH_PAT,
// GH_WEBHOOK_SECRET, EMBED_*) filling in what the file leaves out.
#pragma once
#include <boost/json.hpp>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "infra/cron.hpp"
#include "packs/knowledge/embed/embedder.hpp"
#include "packs/knowledge/extract/extract.hpp"
#include "packs/knowledge/index/hnsw_index.hpp"
#include "packs/knowledge/search/search.hpp"

namespace mcpd::packs::knowledge {

// One [[packs.knowledge.sources]] entry (or one repository of GH_REPOS, or the zero-configuration docs).
struct SourceSettings {
  std::string name;
  std::string type = "directory";      // "directory" | "git"
  std::string path;                    // a directory's root (a git source may name a local repository here)
  std::string url;                     // a git source's remote
  std::string branch;                  // git: empty for the remote's default branch
  std::optional<infra::CronSchedule> schedule;  // its own, else the pack's `schedule`; none: no scheduled sync
  std::vector<std::string> include, exclude;
};

// [packs.knowledge.embeddings], with EMBED_PROVIDER, EMBED_MODEL, EMBED_BASE_URL and the API key's variable.
struct EmbeddingSettings {
  // "none", "use-lite" or "openai" when the file or EMBED_PROVIDER names one; nullopt lets the pack
  // choose (use-lite when its model is installed).
  std::optional<std::string> provider;
  bool reembed = false;           // discard vectors of another model instead of refusing to start
  std::string model_dir;          // use-lite: where its files are (empty: the installed model)
  unsigned threads = 0;           // use-lite: 0 is one per core
  OpenAiEmbedderOptions openai;   // base_url, model, api_key (read from api_key_env), dimension, batch_size
};

struct KnowledgeSettings {
  std::string index;           // the SQLite file (":memory:" keeps it in memory)
  std::string cache_dir;       // where git mirrors live
  bool sync_on_start = true;
  std::string webhook_secret;  // empty: the webhook answers 503
  std::string github_token;    // for private HTTPS repositories
  ExtractOptions extract;      // max_file_bytes
  std::vector<SourceSettings> sources;
  EmbeddingSettings embeddings;
  HybridWeights search;
  ApproximateParams vector_index;
};

using GetEnv = std::function<std::optional<std::string>(const char*)>;

// The process environment; empty variables count as unset.
std::optional<std::string> process_env(const char* name);

// Throws std::invalid_argument (infra::SettingsError for a bad key) with one sentence naming the key.
// `data_dir` holds the index by default; `docs_dir` is indexed when no source is configured and it
// is a folder (zero configuration).
KnowledgeSettings parse_settings(const boost::json::object& settings, const std::string& data_dir,
                                 const GetEnv& getenv = process_env, const std::string& docs_dir = {});

}  // namespace mcpd::packs::knowledge
