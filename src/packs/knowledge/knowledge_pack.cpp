// The knowledge pack: configuration, sources, sync jobs, MCP tools/resources, REST routes, webhook.
#include "packs/knowledge/knowledge_pack.hpp"

#include <filesystem>
#include <deque>
#include <mutex>
#include <set>

#include "infra/crypto.hpp"
#include "infra/logging.hpp"
#include "infra/settings.hpp"
#include "packs/knowledge/directory_source.hpp"
#include "packs/knowledge/git_source.hpp"
#include "packs/knowledge/search.hpp"
#include "packs/knowledge/sync_jobs.hpp"
#include "packs/knowledge/sync_scheduler.hpp"
#include "packs/knowledge/use_lite_embedder.hpp"

namespace mcpd::packs::knowledge {

namespace json = boost::json;
namespace fs = std::filesystem;
using core::CallContext;
using core::ToolOutcome;
using core::ToolResult;

namespace {

std::string str(const json::object& o, std::string_view key, std::string fallback = {}) {
  auto v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : fallback;
}

std::vector<std::string> strings(const json::object& o, std::string_view key) {
  std::vector<std::string> out;
  if (auto v = o.if_contains(key); v && v->is_array())
    for (const auto& s : v->get_array())
      if (s.is_string()) out.emplace_back(s.get_string());
  return out;
}

std::string iso_time(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

json::array string_array(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.push_back(json::string(s));
  return a;
}

json::object job_json(const JobStatus& job) {
  json::array results;
  for (const auto& r : job.results)
    results.push_back(json::object{{"source", r.source},
                                   {"ok", r.ok},
                                   {"revision", r.revision},
                                   {"added", r.counts.added},
                                   {"updated", r.counts.updated},
                                   {"deleted", r.counts.deleted},
                                   {"unchanged", r.counts.unchanged},
                                   {"skipped", r.counts.skipped},
                                   {"embedded", r.counts.embedded},
                                   {"seconds", r.seconds},
                                   {"error", r.error}});
  json::object o{{"job_id", job.id},           {"state", job.state},     {"trigger", job.trigger},
                 {"sources", string_array(job.sources)}, {"started_at", job.started_at},
                 {"finished_at", job.finished_at}, {"files_done", job.done}, {"files_total", job.total},
                 {"results", std::move(results)}};
  return o;
}

ToolResult json_result(json::object body, std::string text) {
  ToolResult r = ToolResult::text(std::move(text));
  r.structured = std::move(body);
  return r;
}

const json::object kReadOnly{{"readOnlyHint", true}, {"openWorldHint", false}};

struct SourceConfig {
  std::string name, type, path, url, branch, schedule;
  std::vector<std::string> include, exclude;
};

}  // namespace

class KnowledgePack : public core::Pack {
 public:
  ~KnowledgePack() override {
    if (scheduler_) scheduler_->stop();
    if (jobs_) jobs_->stop();
  }

  std::string name() const override { return "knowledge"; }

  void register_into(core::PackContext& ctx) override {
    configure(ctx.settings, ctx.data_dir.empty() ? std::string("data") : ctx.data_dir);
    register_tools(ctx.registry);
    register_routes(ctx.registry);
    ctx.registry.add_health_check("knowledge", [this] { return health(); });
    if (sync_on_start_ && !sources_.empty()) {
      std::vector<std::string> names;
      for (const auto& [n, s] : sources_) names.push_back(n);
      jobs_->start(names, "start-up");
    }
  }

 private:
  // [packs.knowledge.vector_index]: approximate_from, m, ef_construction, ef_search, build_threads.
  static ApproximateParams approximate_params(const json::object& o) {
    const infra::SettingsReader r(o, "vector_index");
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
    } catch (const infra::SettingsError& e) {
      // This pack words it "vector_index.m must be ..." (no colon), and start-up checks match that.
      throw std::invalid_argument(e.path() + " " + e.problem());
    }
    return p;
  }

  void configure(const json::object& settings, const std::string& data_dir) {
    std::string index = str(settings, "index", (fs::path(data_dir) / "knowledge.db").string());
    fs::path index_path(index);
    if (index_path.has_parent_path()) fs::create_directories(index_path.parent_path());
    cache_dir_ = str(settings, "cache_dir", (index_path.has_parent_path() ? index_path.parent_path() / "git" : fs::path("git")).string());
    if (auto v = settings.if_contains("sync_on_start"); v && v->is_bool()) sync_on_start_ = v->get_bool();
    webhook_secret_ = str(settings, "webhook_secret", infra::env_value("GH_WEBHOOK_SECRET").value_or(""));
    std::string token = str(settings, "github_token", infra::env_value("GH_PAT").value_or(""));

    // A cron expression for every source that sets none (seed 001 resyncs with "0 */3 * * *").
    std::string default_schedule = str(settings, "schedule");
    std::vector<SourceConfig> configs;
    if (auto v = settings.if_contains("sources"); v && v->is_array()) {
      for (const auto& item : v->get_array()) {
        if (!item.is_object()) throw std::invalid_argument("sources: each source must be a table");
        const auto& o = item.get_object();
        SourceConfig c{str(o, "name"), str(o, "type", "directory"), str(o, "path"), str(o, "url"), str(o, "branch"),
                       str(o, "schedule", default_schedule), strings(o, "include"), strings(o, "exclude")};
        if (c.name.empty()) throw std::invalid_argument("sources: a source has no name");
        configs.push_back(std::move(c));
      }
    }
    if (auto repos = infra::env_value("GH_REPOS")) {
      constexpr std::string_view kPrefix = "https://github.com/";
      for (const auto& url : expand_github_repos(*repos)) {
        std::string name = url.substr(kPrefix.size(), url.size() - kPrefix.size() - 4);  // "org/repo"
        configs.push_back(SourceConfig{name, "git", "", url, "", default_schedule, {}, {}});
      }
    }
    // Zero configuration: the project's own documentation, so that the first search finds something.
    if (configs.empty() && fs::is_directory(MCPD_DOCS_DIR))
      configs.push_back(SourceConfig{"docs", "directory", MCPD_DOCS_DIR, "", "", default_schedule, {}, {}});
    store_ = std::make_unique<IndexStore>(index);
    configure_embeddings(settings, data_dir);
    ExtractOptions extract_options;
    if (auto v = settings.if_contains("max_file_bytes"); v && v->is_int64()) {
      if (v->get_int64() <= 0) throw std::invalid_argument("max_file_bytes: must be greater than 0");
      extract_options.max_bytes = static_cast<std::size_t>(v->get_int64());
    }
    engine_ = std::make_unique<SyncEngine>(*store_, extract_options, ChunkOptions{}, embedder_.get());
    for (const auto& c : configs) {
      if (sources_.count(c.name)) throw std::invalid_argument("sources: the name '" + c.name + "' is used twice");
      if (c.type == "directory") {
        if (c.path.empty()) throw std::invalid_argument("sources." + c.name + ": 'path' is required");
        sources_[c.name] = make_directory_source({c.name, c.path, c.include, c.exclude});
      } else if (c.type == "git") {
        if (c.url.empty() && c.path.empty()) throw std::invalid_argument("sources." + c.name + ": 'url' is required");
        std::string safe = c.name;
        for (auto& ch : safe)
          if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
        sources_[c.name] = make_git_source({c.name, c.url.empty() ? c.path : c.url, c.branch, token,
                                            (fs::path(cache_dir_) / safe).string(), c.include, c.exclude});
        git_urls_[c.name] = c.url.empty() ? c.path : c.url;
      } else {
        throw std::invalid_argument("sources." + c.name + ": 'type' must be directory or git");
      }
    }
    jobs_ = std::make_unique<SyncJobs>(*engine_, [this](const std::string& n) -> Source* {
      auto it = sources_.find(n);
      return it == sources_.end() ? nullptr : it->second.get();
    });
    std::map<std::string, infra::CronSchedule> schedules;
    for (const auto& c : configs) {
      if (c.schedule.empty()) continue;
      std::string problem;
      auto schedule = infra::CronSchedule::parse(c.schedule, problem);
      if (!schedule) throw std::invalid_argument("sources." + c.name + ".schedule: " + problem);
      schedules.emplace(c.name, *schedule);
    }
    scheduler_ = std::make_unique<SyncScheduler>(*jobs_, std::move(schedules), RetryPolicy{});
    HybridWeights weights;
    if (auto search = settings.if_contains("search"); search && search->is_object()) {
      const auto& o = search->get_object();
      if (auto v = o.if_contains("lexical_weight"); v && v->is_number()) weights.lexical = v->to_number<double>();
      if (auto v = o.if_contains("semantic_weight"); v && v->is_number()) weights.semantic = v->to_number<double>();
      if (auto v = o.if_contains("fusion"); v) {
        if (!v->is_string() || (v->get_string() != "convex" && v->get_string() != "rrf"))
          throw std::invalid_argument("search.fusion must be \"convex\" or \"rrf\"");
        weights.fusion = v->get_string() == "rrf" ? HybridWeights::Fusion::rrf : HybridWeights::Fusion::convex;
      }
      if (weights.lexical < 0 || weights.semantic < 0 || weights.lexical + weights.semantic <= 0)
        throw std::invalid_argument("search: the weights must be >= 0 and not both 0");
    }
    ApproximateParams approximate;
    if (auto v = settings.if_contains("vector_index"); v && v->is_object()) approximate = approximate_params(v->get_object());
    searcher_ = std::make_unique<Searcher>(*store_, embedder_.get(), weights, approximate,
                                          index == ":memory:" ? fs::path() : fs::path(index + ".hnsw"));
  }

  // [packs.knowledge.embeddings] (or EMBED_PROVIDER / EMBED_MODEL / EMBED_BASE_URL / OPENAI_API_KEY).
  // Without a provider: "use-lite" when its model is installed (and the index holds no vectors of
  // another model), else "none".
  void configure_embeddings(const json::object& settings, const std::string& data_dir) {
    json::object e;
    if (auto v = settings.if_contains("embeddings"); v && v->is_object()) e = v->get_object();
    const std::string use_lite_model = "use-lite:universal-sentence-encoder-lite";
    auto installed = find_use_lite_model(data_dir);
    auto recorded = store_->embedding_model();
    std::string fallback = installed && (!recorded || recorded->first == use_lite_model) ? "use-lite" : "none";
    const bool chosen = e.contains("provider") || infra::env_value("EMBED_PROVIDER");
    std::string provider = str(e, "provider", infra::env_value("EMBED_PROVIDER").value_or(fallback));
    if (provider == "none") return;
    bool reembed = false;
    if (auto v = e.if_contains("reembed"); v && v->is_bool()) reembed = v->get_bool();
    if (provider == "use-lite") {
      UseLiteOptions o;
      std::string dir = str(e, "model_dir");
      if (!dir.empty()) o.model_dir = dir;
      else if (installed) o.model_dir = *installed;
      else
        throw std::invalid_argument("embeddings.provider 'use-lite' needs its model: run scripts/fetch-model.sh, or set "
                                    "embeddings.model_dir to a folder with model.json, its shards and vocab.json");
      if (auto v = e.if_contains("threads"); v && v->is_int64()) {
        if (v->get_int64() < 0 || v->get_int64() > 256) throw std::invalid_argument("embeddings.threads: must be 0 (one per core) to 256");
        o.threads = static_cast<unsigned>(v->get_int64());
      }
      check_recorded_model(use_lite_model, 512, reembed);
      try {
        embedder_ = make_use_lite_embedder(o);
      } catch (const EmbeddingError& err) {
        // Asked for: refuse to start. Only the default: serve lexical search and say why.
        if (chosen) throw std::invalid_argument(std::string("embeddings: ") + err.what());
        infra::log::warn("built-in embedding model not loaded; search is lexical only",
                         {{"reason", err.what()}, {"fix", "run scripts/fetch-model.sh, or set [packs.knowledge.embeddings]"}});
      }
      return;
    }
    if (provider != "openai")
      throw std::invalid_argument("embeddings.provider: must be 'none', 'use-lite' (the built-in model) or 'openai' (any "
                                  "OpenAI-compatible endpoint), got '" + provider + "'");
    OpenAiEmbedderOptions o;
    o.base_url = str(e, "base_url", infra::env_value("EMBED_BASE_URL").value_or(o.base_url));
    o.model = str(e, "model", infra::env_value("EMBED_MODEL").value_or(o.model));
    o.api_key = infra::env_value(str(e, "api_key_env", "OPENAI_API_KEY").c_str()).value_or("");
    if (auto v = e.if_contains("dimension"); v && v->is_int64() && v->get_int64() > 0) o.dimension = static_cast<std::size_t>(v->get_int64());
    if (auto v = e.if_contains("batch_size"); v && v->is_int64() && v->get_int64() > 0) o.batch_size = static_cast<std::size_t>(v->get_int64());
    check_recorded_model("openai:" + o.model, o.dimension, reembed);
    embedder_ = make_openai_embedder(o);
  }

  // Refuses an index whose vectors come from another model or dimension (`dimension` 0: any),
  // unless `reembed`, which discards them.
  void check_recorded_model(const std::string& wanted, std::size_t dimension, bool reembed) {
    auto recorded = store_->embedding_model();
    if (!recorded) return;
    bool mismatch = recorded->first != wanted || (dimension && recorded->second != dimension);
    if (mismatch && !reembed)
      throw std::invalid_argument("embeddings: the index holds vectors of " + recorded->first + " (" +
                                  std::to_string(recorded->second) + " dimensions) but the configuration asks for " + wanted +
                                  "; set embeddings.reembed = true to discard them and embed again");
    if (mismatch) store_->clear_embeddings();
  }

  core::HealthStatus health() {
    core::HealthStatus h;
    json::object sources;
    for (const auto& s : store_->sources()) {
      if (!s.last_failure_at.empty() && s.last_failure_at >= s.last_success_at && h.status == "ok")
        h.status = "degraded: source '" + s.name + "' failed to sync: " + s.last_error;
      sources[s.name] = json::object{{"documents", s.documents},
                                     {"last_success_at", s.last_success_at},
                                     {"last_failure_at", s.last_failure_at},
                                     {"last_error", s.last_error}};
    }
    h.details = json::object{{"sources", std::move(sources)}};
    return h;
  }

  // Names given by the caller, or every source; false (with `error`) for unknown names.
  bool pick_sources(const json::object& args, std::vector<std::string>& names, std::string& error) {
    names = strings(args, "sources");
    if (auto one = str(args, "source"); !one.empty()) names.push_back(one);
    if (names.empty())
      for (const auto& [n, s] : sources_) names.push_back(n);
    for (const auto& n : names)
      if (!sources_.count(n)) {
        error = "unknown source '" + n + "'; configured sources: " + known_sources();
        return false;
      }
    if (names.empty()) {
      error = "no sources are configured (packs.knowledge.sources or GH_REPOS)";
      return false;
    }
    return true;
  }

  std::string known_sources() const {
    std::string out;
    for (const auto& [n, s] : sources_) out += (out.empty() ? "" : ", ") + n;
    return out.empty() ? "(none)" : out;
  }

  json::object status_json() {
    json::array sources;
    auto next_runs = scheduler_->next_runs();
    for (const auto& s : store_->sources())
      sources.push_back(json::object{{"name", s.name},
                                     {"kind", s.kind},
                                     {"revision", s.revision},
                                     {"documents", s.documents},
                                     {"chunks", s.chunks},
                                     {"skipped", s.skipped},
                                     {"last_success_at", s.last_success_at},
                                     {"last_failure_at", s.last_failure_at},
                                     {"last_error", s.last_error},
                                     {"syncing", jobs_->running(s.name)},
                                     {"next_run_at", next_runs.count(s.name) ? iso_time(next_runs[s.name]) : std::string()}});
    json::array jobs;
    for (const auto& j : jobs_->recent(10)) jobs.push_back(job_json(j));
    json::array skipped;
    for (const auto& k : store_->skipped("", 100))
      skipped.push_back(json::object{{"source", k.source}, {"path", k.path}, {"reason", k.reason}, {"at", k.at}});
    return json::object{{"sources", std::move(sources)}, {"jobs", std::move(jobs)}, {"skipped", std::move(skipped)}};
  }

  // A read-only tool answered by the Searcher: argument errors become isError results; the text
  // content is `render(answer)` and the structured content the answer itself.
  static void add_query_tool(core::Registry& r, std::string name, std::string title, std::string description,
                             json::object schema, std::function<SearchOutcome(const json::object&)> run,
                             std::function<std::string(const json::object&)> render) {
    core::Tool t;
    t.name = std::move(name);
    t.title = std::move(title);
    t.description = std::move(description);
    t.input_schema = std::move(schema);
    t.annotations = kReadOnly;
    t.execution = core::Execution::Pool;
    t.handler = [run = std::move(run), render = std::move(render)](CallContext&, const json::object& args) -> ToolOutcome {
      auto outcome = run(args);
      if (auto* e = std::get_if<std::string>(&outcome)) return ToolResult::error(*e);
      auto& body = std::get<json::object>(outcome);
      std::string text = render(body);
      return json_result(std::move(body), std::move(text));
    };
    r.add_tool(std::move(t));
  }

  void register_tools(core::Registry& r) {
    add_query_tool(r, "search_documents", "Search documents",
                   "Search the indexed repositories and folders. Returns the best passages with their document, "
                   "heading, line range and a snippet with the matched terms in **bold**.",
                   Searcher::input_schema(), [this](const json::object& a) { return searcher_->search(a); },
                   &Searcher::render_text);
    add_query_tool(r, "list_documents", "List documents", "List the indexed documents (paginated), with counts per source.",
                   Searcher::list_schema(), [this](const json::object& a) { return searcher_->list(a); },
                   [](const json::object& body) { return json::serialize(body); });
    add_query_tool(r, "get_document", "Get a document", "The text of one indexed document, whole or a line range.",
                   json::parse(R"J({"type":"object","properties":{
      "source":{"type":"string","description":"Source name"},
      "path":{"type":"string","description":"Path inside the source"},
      "line_start":{"type":"integer","minimum":1},"line_end":{"type":"integer","minimum":1}},
      "required":["source","path"]})J").as_object(),
                   [this](const json::object& a) { return searcher_->get(a); },
                   [](const json::object& body) { return std::string(body.at("text").as_string()); });

    core::Tool sync;
    sync.name = "sync_sources";
    sync.title = "Sync sources";
    sync.description = "Start an incremental sync of some or all sources in the background and return the job "
                       "id. With a progressToken the call waits for the job and reports progress.";
    sync.input_schema = json::parse(R"J({"type":"object","properties":{
      "sources":{"type":"array","items":{"type":"string"},"description":"Source names (default: all)"}}})J");
    sync.annotations = json::object{{"readOnlyHint", false}, {"destructiveHint", false}, {"idempotentHint", true},
                                    {"openWorldHint", true}};
    sync.execution = core::Execution::Pool;
    sync.handler = [this](CallContext& ctx, const json::object& args) -> ToolOutcome {
      std::vector<std::string> names;
      std::string error;
      if (!pick_sources(args, names, error)) return ToolResult::error(error);
      std::string id = jobs_->start(names, "tool");
      if (!ctx.has_progress_token())
        return json_result(json::object{{"job_id", id}, {"sources", string_array(names)}, {"state", "running"}},
                           "Started " + id + " for " + std::to_string(names.size()) + " source(s); see sync_status.");
      auto job = jobs_->wait(id, std::chrono::minutes(30), [&](const JobStatus& j) {
        if (j.total > 0) ctx.progress(static_cast<double>(j.done), static_cast<double>(j.total), "indexing " + j.id);
      });
      // A final notification, so a fast job still reports its completion.
      double total = job.total > 0 ? static_cast<double>(job.total) : 1.0;
      ctx.progress(job.total > 0 ? static_cast<double>(job.done) : 1.0, total, job.id + " " + job.state);
      auto body = job_json(job);
      std::string text = json::serialize(body);
      return json_result(std::move(body), std::move(text));
    };
    r.add_tool(std::move(sync));

    core::Tool status;
    status.name = "sync_status";
    status.title = "Sync status";
    status.description = "Sources with document counts, last success and failure, recent jobs, and skipped files "
                         "with the reason.";
    status.input_schema = json::parse(R"J({"type":"object","properties":{
      "check":{"type":"boolean","description":"Also verify the index's integrity (slower on large indexes)"}}})J");
    status.annotations = kReadOnly;
    status.execution = core::Execution::Pool;
    status.handler = [this](CallContext&, const json::object& args) -> ToolOutcome {
      auto body = status_json();
      if (auto c = args.if_contains("check"); c && c->is_bool() && c->get_bool()) {
        std::string problems = store_->check_integrity();
        body["integrity"] = problems.empty() ? "ok" : problems;
      }
      std::string text = json::serialize(body);
      return json_result(std::move(body), std::move(text));
    };
    r.add_tool(std::move(status));

    core::ResourceTemplate doc;
    doc.uri_template = "kb://document/{id}";
    doc.name = "document";
    doc.title = "Indexed document";
    doc.description = "The text of an indexed document by id (ids come from search_documents and list_documents)";
    doc.mime_type = "text/plain";
    doc.read = [this](CallContext&, const std::string& uri, const std::map<std::string, std::string>& vars) -> core::ReadOutcome {
      std::int64_t id = 0;
      try {
        id = std::stoll(vars.at("id"));
      } catch (...) {
        return core::RpcError{core::error_code::kResourceNotFound, "Resource not found: " + uri, json::object{{"uri", uri}}};
      }
      auto text = store_->text(id);
      if (!text) return core::RpcError{core::error_code::kResourceNotFound, "Resource not found: " + uri, json::object{{"uri", uri}}};
      return std::vector<core::ResourceContents>{{uri, "text/plain", *text, "", false}};
    };
    r.add_resource_template(std::move(doc));
  }

  void register_routes(core::Registry& r) {
    core::HttpRoute search;
    search.method = "POST";
    search.path = "/mcp/search_documents";
    search.description = "search: {\"query\", \"limit\", \"similarity_threshold\", ...} (knowledge pack)";
    search.handler = [this](const core::HttpRequest& req) {
      boost::system::error_code ec;
      json::value body = json::parse(req.body, ec);
      if (ec || !body.is_object()) return core::HttpReply::error(400, "the body must be a JSON object such as {\"query\": \"...\", \"limit\": 5}");
      auto outcome = searcher_->search(body.get_object());
      if (auto* e = std::get_if<std::string>(&outcome)) return core::HttpReply::error(400, *e);
      return core::HttpReply::json(200, std::get<json::object>(outcome));
    };
    r.add_http_route(std::move(search));

    core::HttpRoute list;
    list.method = "GET";
    list.path = "/mcp/list_documents";
    list.description = "document inventory: ?limit=&offset=&source=&path_prefix=&file_type= (knowledge pack)";
    list.handler = [this](const core::HttpRequest& req) {
      json::object args;
      for (const auto& [k, v] : req.query) {
        if (k == "limit" || k == "offset") {
          try {
            std::size_t used = 0;
            long long n = std::stoll(v, &used);
            if (used != v.size()) throw std::invalid_argument(k);
            args[k] = n;
          } catch (...) {
            return core::HttpReply::error(400, "'" + k + "' must be an integer");
          }
        } else {
          args[k] = v;
        }
      }
      auto outcome = searcher_->list(args);
      if (auto* e = std::get_if<std::string>(&outcome)) return core::HttpReply::error(400, *e);
      return core::HttpReply::json(200, std::get<json::object>(outcome));
    };
    r.add_http_route(std::move(list));

    core::HttpRoute sync;
    sync.method = "POST";
    sync.path = "/sync_sources";
    sync.description = "start a background sync of all (or {\"sources\": [...]}) sources (knowledge pack)";
    sync.handler = [this](const core::HttpRequest& req) {
      json::object args;
      if (!req.body.empty()) {
        boost::system::error_code ec;
        json::value body = json::parse(req.body, ec);
        if (ec || !body.is_object()) return core::HttpReply::error(400, "the body must be empty or a JSON object");
        args = body.get_object();
      }
      std::vector<std::string> names;
      std::string error;
      if (!pick_sources(args, names, error)) return core::HttpReply::error(400, error);
      std::string id = jobs_->start(names, "rest");
      return core::HttpReply::json(202, json::object{{"job_id", id}, {"sources", string_array(names)}, {"state", "running"}});
    };
    r.add_http_route(std::move(sync));

    core::HttpRoute hook;
    hook.method = "POST";
    hook.path = "/webhook/github";
    hook.auth = core::RouteAuth::Public;  // authenticated by its HMAC signature instead
    hook.description = "GitHub push webhook, signed with X-Hub-Signature-256 (knowledge pack)";
    hook.handler = [this](const core::HttpRequest& req) { return webhook(req); };
    r.add_http_route(std::move(hook));
  }

  core::HttpReply webhook(const core::HttpRequest& req) {
    if (webhook_secret_.empty())
      return core::HttpReply::error(503, "the webhook is not configured: set GH_WEBHOOK_SECRET");
    const std::string* signature = req.header("x-hub-signature-256");
    std::string expected = "sha256=" + infra::hmac_sha256_hex(webhook_secret_, req.body);
    if (!signature || !infra::constant_time_equals(*signature, expected)) {
      infra::log::warn("webhook refused", {{"reason", signature ? "wrong signature" : "no signature"}});
      return core::HttpReply::error(401, signature ? "the X-Hub-Signature-256 signature does not match"
                                                   : "the X-Hub-Signature-256 header is required");
    }
    std::string delivery = req.header("x-github-delivery") ? *req.header("x-github-delivery") : "";
    {
      std::lock_guard lock(deliveries_mutex_);
      if (!delivery.empty() && !deliveries_.insert(delivery).second)
        return core::HttpReply::json(200, json::object{{"ok", true}, {"duplicate", true}, {"delivery", delivery}});
      delivery_order_.push_back(delivery);
      if (delivery_order_.size() > 10000) {
        deliveries_.erase(delivery_order_.front());
        delivery_order_.pop_front();
      }
    }
    std::string event = req.header("x-github-event") ? *req.header("x-github-event") : "";
    if (event == "ping") return core::HttpReply::json(200, json::object{{"ok", true}, {"event", "ping"}});
    if (event != "push") return core::HttpReply::json(202, json::object{{"ok", true}, {"event", event}, {"ignored", true}});
    boost::system::error_code ec;
    json::value body = json::parse(req.body, ec);
    const json::object* repo = nullptr;
    if (!ec && body.is_object())
      if (auto r = body.get_object().if_contains("repository"); r && r->is_object()) repo = &r->get_object();
    if (!repo) return core::HttpReply::error(400, "a push event needs a JSON body with a 'repository' object");
    std::vector<std::string> matched;
    for (const auto& [name, url] : git_urls_)
      for (const char* key : {"clone_url", "html_url", "ssh_url", "git_url", "full_name"}) {
        std::string value = str(*repo, key);
        if (value.empty()) continue;
        auto strip = [](std::string u) {
          if (u.size() > 4 && u.substr(u.size() - 4) == ".git") u.resize(u.size() - 4);
          return u;
        };
        if (strip(url) == strip(value) || (std::string_view(key) == "full_name" && strip(url).size() > value.size() &&
                                           strip(url).substr(strip(url).size() - value.size() - 1) == "/" + value)) {
          matched.push_back(name);
          break;
        }
      }
    if (matched.empty())
      return core::HttpReply::json(202, json::object{{"ok", true}, {"event", "push"}, {"matched", json::array{}}});
    std::string id = jobs_->start(matched, "webhook");
    return core::HttpReply::json(202, json::object{{"ok", true}, {"event", "push"}, {"job_id", id}, {"matched", string_array(matched)}});
  }

  std::unique_ptr<IndexStore> store_;
  std::unique_ptr<Embedder> embedder_;
  std::unique_ptr<SyncEngine> engine_;
  std::map<std::string, std::unique_ptr<Source>> sources_;
  std::map<std::string, std::string> git_urls_;
  std::unique_ptr<SyncJobs> jobs_;
  std::unique_ptr<SyncScheduler> scheduler_;
  std::unique_ptr<Searcher> searcher_;
  std::string cache_dir_;
  std::string webhook_secret_;
  bool sync_on_start_ = true;
  std::mutex deliveries_mutex_;
  std::set<std::string> deliveries_;
  std::deque<std::string> delivery_order_;
};

std::unique_ptr<core::Pack> make_pack() { return std::make_unique<KnowledgePack>(); }

}  // namespace mcpd::packs::knowledge
