// The knowledge pack's wiring: settings to sources, sync jobs and the searcher; MCP tools and
// resources, REST routes and the GitHub webhook on top.
#include "packs/knowledge/knowledge_pack.hpp"

#include <cctype>
#include <charconv>
#include <deque>
#include <filesystem>
#include <mutex>
#include <set>

#include "core/annotations.hpp"
#include "core/arguments.hpp"
#include "core/fault.hpp"
#include "infra/crypto.hpp"
#include "infra/logging.hpp"
#include "infra/time.hpp"
#include "packs/knowledge/embed/use_lite_embedder.hpp"
#include "packs/knowledge/index/index_errors.hpp"
#include "packs/knowledge/knowledge_settings.hpp"
#include "packs/knowledge/search/search.hpp"
#include "packs/knowledge/sources/directory_source.hpp"
#include "packs/knowledge/sources/git_source.hpp"
#include "packs/knowledge/sync/sync_jobs.hpp"
#include "packs/knowledge/sync/sync_scheduler.hpp"

#ifndef MCPD_DOCS_DIR
#define MCPD_DOCS_DIR ""
#endif

namespace mcpd::packs::knowledge {

namespace json = boost::json;
namespace fs = std::filesystem;
using core::CallContext;
using core::Error;
using core::ToolOutcome;
using core::ToolResult;

namespace {

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

// A REST route's answer for an Error; its detail goes to the server log, as the dispatcher does for tools.
core::HttpReply error_reply(std::string_view where, const Error& e) {
  core::log_error_detail(where, e);
  return core::HttpReply::error(e);
}

std::optional<std::int64_t> whole_number(std::string_view text) {
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return n;
}

std::string without_git_suffix(std::string url) {
  if (url.size() > 4 && url.ends_with(".git")) url.resize(url.size() - 4);
  return url;
}

}  // namespace

class KnowledgePack : public core::Pack {
 public:
  ~KnowledgePack() override {
    if (scheduler_) scheduler_->stop();
    if (jobs_) jobs_->stop();
  }

  std::string name() const override { return "knowledge"; }

  void register_into(core::PackContext& ctx) override {
    const std::string data_dir = ctx.data_dir.empty() ? std::string("data") : ctx.data_dir;
    configure(parse_settings(ctx.settings, data_dir, process_env, MCPD_DOCS_DIR), data_dir);
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
  void configure(const KnowledgeSettings& s, const std::string& data_dir) {
    fs::path index_path(s.index);
    if (index_path.has_parent_path()) fs::create_directories(index_path.parent_path());
    sync_on_start_ = s.sync_on_start;
    webhook_secret_ = s.webhook_secret;
    store_ = std::make_unique<IndexStore>(s.index);
    configure_embeddings(s.embeddings, data_dir);
    engine_ = std::make_unique<SyncEngine>(*store_, s.extract, ChunkOptions{}, embedder_.get());
    std::map<std::string, infra::CronSchedule> schedules;
    for (const auto& c : s.sources) {
      if (c.type == "directory") {
        sources_[c.name] = make_directory_source({c.name, c.path, c.include, c.exclude});
      } else {
        // A mirror folder per source; "org/repo" (from GH_REPOS) must not become two folders.
        std::string safe = c.name;
        for (auto& ch : safe)
          if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
        const std::string& url = c.url.empty() ? c.path : c.url;
        sources_[c.name] = make_git_source({c.name, url, c.branch, s.github_token, (fs::path(s.cache_dir) / safe).string(),
                                            c.include, c.exclude});
        git_urls_[c.name] = url;
      }
      if (c.schedule) schedules.emplace(c.name, *c.schedule);
    }
    jobs_ = std::make_unique<SyncJobs>(*engine_, [this](const std::string& n) -> Source* {
      auto it = sources_.find(n);
      return it == sources_.end() ? nullptr : it->second.get();
    });
    scheduler_ = std::make_unique<SyncScheduler>(*jobs_, std::move(schedules), RetryPolicy{});
    searcher_ = std::make_unique<Searcher>(*store_, embedder_.get(), s.search, s.vector_index,
                                          s.index == ":memory:" ? fs::path() : fs::path(s.index + ".hnsw"));
  }

  // Without a provider named: "use-lite" when its model is installed (and the index holds no vectors
  // of another model), else "none".
  void configure_embeddings(const EmbeddingSettings& e, const std::string& data_dir) {
    const std::string use_lite_model = "use-lite:universal-sentence-encoder-lite";
    auto installed = find_use_lite_model(data_dir);
    auto recorded = store_->embedding_model();
    std::string fallback = installed && (!recorded || recorded->first == use_lite_model) ? "use-lite" : "none";
    const bool chosen = e.provider.has_value();
    const std::string provider = e.provider.value_or(fallback);
    if (provider == "none") return;
    if (provider == "use-lite") {
      UseLiteOptions o;
      if (!e.model_dir.empty()) o.model_dir = e.model_dir;
      else if (installed) o.model_dir = *installed;
      else
        throw std::invalid_argument("embeddings.provider 'use-lite' needs its model: run scripts/fetch-model.sh, or set "
                                    "embeddings.model_dir to a folder with model.json, its shards and vocab.json");
      o.threads = e.threads;
      check_recorded_model(use_lite_model, 512, e.reembed);
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
    check_recorded_model("openai:" + e.openai.model, e.openai.dimension, e.reembed);
    embedder_ = make_openai_embedder(e.openai);
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

  // The sources the caller names ("sources", "source"), or every source.
  core::Result<std::vector<std::string>> pick_sources(const json::object& args) const {
    const core::Arguments a(args);
    auto names = a.strings("sources");
    if (!names) return names;
    auto one = a.optional_string("source");
    if (!one) return std::move(one).failure();
    if (one->has_value() && !(*one)->empty()) names->push_back(**one);
    if (names->empty())
      for (const auto& [n, s] : sources_) names->push_back(n);
    for (const auto& n : *names)
      if (!sources_.count(n)) return Error::invalid_argument("unknown source '" + n + "'; configured sources: " + known_sources());
    if (names->empty()) return Error::invalid_argument("no sources are configured (packs.knowledge.sources or GH_REPOS)");
    return names;
  }

  std::string known_sources() const {
    std::string out;
    for (const auto& [n, s] : sources_) out += (out.empty() ? "" : ", ") + n;
    return out.empty() ? "(none)" : out;
  }

  json::object status_json() {
    json::array sources;
    auto next_runs = scheduler_->next_runs();
    for (const auto& s : store_->sources()) {
      auto next = next_runs.find(s.name);
      sources.push_back(json::object{
          {"name", s.name},
          {"kind", s.kind},
          {"revision", s.revision},
          {"documents", s.documents},
          {"chunks", s.chunks},
          {"skipped", s.skipped},
          {"last_success_at", s.last_success_at},
          {"last_failure_at", s.last_failure_at},
          {"last_error", s.last_error},
          {"syncing", jobs_->running(s.name)},
          {"next_run_at", next == next_runs.end()
                              ? std::string()
                              : infra::iso8601_utc_seconds(std::chrono::system_clock::to_time_t(next->second))}});
    }
    json::array jobs;
    for (const auto& j : jobs_->recent(10)) jobs.push_back(job_json(j));
    json::array skipped;
    for (const auto& k : store_->skipped("", 100))
      skipped.push_back(json::object{{"source", k.source}, {"path", k.path}, {"reason", k.reason}, {"at", k.at}});
    return json::object{{"sources", std::move(sources)}, {"jobs", std::move(jobs)}, {"skipped", std::move(skipped)}};
  }

  // A read-only tool answered by the Searcher: its Error is the tool's (the dispatcher makes the
  // isError result); the text content is `render(answer)` and the structured content the answer itself.
  static core::Tool query_tool(std::string name, std::string title, std::string description, json::object schema,
                               std::function<core::Result<json::object>(const json::object&)> run,
                               std::function<std::string(const json::object&)> render) {
    return core::Tool{
        .name = std::move(name),
        .title = std::move(title),
        .description = std::move(description),
        .input_schema = std::move(schema),
        .annotations = core::read_only(),
        .execution = core::Execution::Pool,
        .handler = [run = std::move(run), render = std::move(render)](CallContext&, const json::object& args) -> ToolOutcome {
          auto answer = run(args);
          if (!answer) return std::move(answer).failure();
          std::string text = render(*answer);
          return json_result(std::move(answer).value(), std::move(text));
        },
    };
  }

  void register_tools(core::Registry& r) {
    r.add_tool(query_tool("search_documents", "Search documents",
                          "Search the indexed repositories and folders. Returns the best passages with their document, "
                          "heading, line range and a snippet with the matched terms in **bold**.",
                          Searcher::input_schema(), [this](const json::object& a) { return searcher_->search(a); },
                          &Searcher::render_text));
    r.add_tool(query_tool("list_documents", "List documents", "List the indexed documents (paginated), with counts per source.",
                          Searcher::list_schema(), [this](const json::object& a) { return searcher_->list(a); },
                          [](const json::object& body) { return json::serialize(body); }));
    r.add_tool(query_tool("get_document", "Get a document", "The text of one indexed document, whole or a line range.",
                          json::parse(R"J({"type":"object","properties":{
      "source":{"type":"string","description":"Source name"},
      "path":{"type":"string","description":"Path inside the source"},
      "line_start":{"type":"integer","minimum":1},"line_end":{"type":"integer","minimum":1}},
      "required":["source","path"]})J").as_object(),
                          [this](const json::object& a) { return searcher_->get(a); },
                          [](const json::object& body) { return std::string(body.at("text").as_string()); }));

    r.add_tool(core::Tool{
        .name = "sync_sources",
        .title = "Sync sources",
        .description = "Start an incremental sync of some or all sources in the background and return the job id. "
                       "With a progressToken the call waits for the job and reports progress.",
        .input_schema = json::parse(R"J({"type":"object","properties":{
      "sources":{"type":"array","items":{"type":"string"},"description":"Source names (default: all)"}}})J"),
        // It changes only the index, and only to match the configured sources: running it twice does
        // nothing more.
        .annotations = core::writes({.idempotent = true}),
        .execution = core::Execution::Pool,
        .handler = [this](CallContext& ctx, const json::object& args) -> ToolOutcome {
          auto names = pick_sources(args);
          if (!names) return std::move(names).failure();
          std::string id = jobs_->start(*names, "tool");
          if (!ctx.has_progress_token())
            return json_result(json::object{{"job_id", id}, {"sources", string_array(*names)}, {"state", "running"}},
                               "Started " + id + " for " + std::to_string(names->size()) + " source(s); see sync_status.");
          auto job = jobs_->wait(id, std::chrono::minutes(30), [&](const JobStatus& j) {
            if (j.total > 0) ctx.progress(static_cast<double>(j.done), static_cast<double>(j.total), "indexing " + j.id);
          });
          // A final notification, so a fast job still reports its completion.
          double total = job.total > 0 ? static_cast<double>(job.total) : 1.0;
          ctx.progress(job.total > 0 ? static_cast<double>(job.done) : 1.0, total, job.id + " " + job.state);
          auto body = job_json(job);
          std::string text = json::serialize(body);
          return json_result(std::move(body), std::move(text));
        },
    });

    r.add_tool(core::Tool{
        .name = "sync_status",
        .title = "Sync status",
        .description = "Sources with document counts, last success and failure, recent jobs, and skipped files with "
                       "the reason.",
        .input_schema = json::parse(R"J({"type":"object","properties":{
      "check":{"type":"boolean","description":"Also verify the index's integrity (slower on large indexes)"}}})J"),
        .annotations = core::read_only(),
        .execution = core::Execution::Pool,
        .handler = [this](CallContext&, const json::object& args) -> ToolOutcome {
          auto check = core::Arguments(args).boolean("check", false);
          if (!check) return std::move(check).failure();
          return with_index("reading the sync status", [&]() -> ToolOutcome {
            auto body = status_json();
            if (*check) {
              std::string problems = store_->check_integrity();
              body["integrity"] = problems.empty() ? "ok" : problems;
            }
            std::string text = json::serialize(body);
            return json_result(std::move(body), std::move(text));
          });
        },
    });

    r.add_resource_template(core::ResourceTemplate{
        .uri_template = "kb://document/{id}",
        .name = "document",
        .title = "Indexed document",
        .description = "The text of an indexed document by id (ids come from search_documents and list_documents)",
        .mime_type = "text/plain",
        .execution = core::Execution::Pool,  // reads the index, which a running sync may hold
        .read = [this](CallContext&, const std::string& uri, const std::map<std::string, std::string>& vars) -> core::ReadOutcome {
          auto not_found = [&] { return Error::not_found("Resource not found: " + uri).with_data(json::object{{"uri", uri}}); };
          auto id = vars.count("id") ? whole_number(vars.at("id")) : std::nullopt;
          if (!id) return not_found();
          return with_index("reading a document", [&]() -> core::ReadOutcome {
            auto text = store_->text(*id);
            if (!text) return not_found();
            return std::vector<core::ResourceContents>{{uri, "text/plain", *text, "", false}};
          });
        },
    });
  }

  void register_routes(core::Registry& r) {
    r.add_http_route(core::HttpRoute{
        .method = "POST",
        .path = "/mcp/search_documents",
        .description = "search: {\"query\", \"limit\", \"similarity_threshold\", ...} (knowledge pack)",
        .handler = [this](const core::HttpRequest& req) {
          boost::system::error_code ec;
          json::value body = json::parse(req.body, ec);
          if (ec || !body.is_object())
            return core::HttpReply::error(400, "the body must be a JSON object such as {\"query\": \"...\", \"limit\": 5}");
          auto answer = searcher_->search(body.get_object());
          if (!answer) return error_reply("route POST /mcp/search_documents", answer.error());
          return core::HttpReply::json(200, *answer);
        },
    });

    r.add_http_route(core::HttpRoute{
        .method = "GET",
        .path = "/mcp/list_documents",
        .description = "document inventory: ?limit=&offset=&source=&path_prefix=&file_type= (knowledge pack)",
        .handler = [this](const core::HttpRequest& req) {
          json::object args;
          for (const auto& [k, v] : req.query) {
            if (k == "limit" || k == "offset") {
              auto n = whole_number(v);
              if (!n) return core::HttpReply::error(400, "'" + k + "' must be an integer");
              args[k] = *n;
            } else {
              args[k] = v;
            }
          }
          auto answer = searcher_->list(args);
          if (!answer) return error_reply("route GET /mcp/list_documents", answer.error());
          return core::HttpReply::json(200, *answer);
        },
    });

    r.add_http_route(core::HttpRoute{
        .method = "POST",
        .path = "/sync_sources",
        .description = "start a background sync of all (or {\"sources\": [...]}) sources (knowledge pack)",
        .handler = [this](const core::HttpRequest& req) {
          json::object args;
          if (!req.body.empty()) {
            boost::system::error_code ec;
            json::value body = json::parse(req.body, ec);
            if (ec || !body.is_object()) return core::HttpReply::error(400, "the body must be empty or a JSON object");
            args = body.get_object();
          }
          auto names = pick_sources(args);
          if (!names) return error_reply("route POST /sync_sources", names.error());
          std::string id = jobs_->start(*names, "rest");
          return core::HttpReply::json(202, json::object{{"job_id", id}, {"sources", string_array(*names)}, {"state", "running"}});
        },
    });

    r.add_http_route(core::HttpRoute{
        .method = "POST",
        .path = "/webhook/github",
        .auth = core::RouteAuth::Public,  // authenticated by its HMAC signature instead
        .description = "GitHub push webhook, signed with X-Hub-Signature-256 (knowledge pack)",
        .handler = [this](const core::HttpRequest& req) { return webhook(req); },
    });
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
    for (const auto& [name, url] : git_urls_) {
      const std::string ours = without_git_suffix(url);
      for (const char* key : {"clone_url", "html_url", "ssh_url", "git_url", "full_name"}) {
        auto v = repo->if_contains(key);
        if (!v || !v->is_string() || v->get_string().empty()) continue;
        const std::string theirs = without_git_suffix(std::string(v->get_string()));
        // full_name ("org/repo") matches the end of the configured URL.
        if (ours == theirs || (std::string_view(key) == "full_name" && ours.size() > theirs.size() &&
                               ours.ends_with("/" + theirs))) {
          matched.push_back(name);
          break;
        }
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
  std::string webhook_secret_;
  bool sync_on_start_ = true;
  std::mutex deliveries_mutex_;
  std::set<std::string> deliveries_;
  std::deque<std::string> delivery_order_;
};

std::unique_ptr<core::Pack> make_pack() { return std::make_unique<KnowledgePack>(); }

}  // namespace mcpd::packs::knowledge
