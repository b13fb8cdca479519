// The storage pack: builds the configured stores, registers the s3_* tools (reads always, writes
// only when some store allows them) and one health check per store. Every tool runs on the worker
// pool, resolves its store and bucket, applies the allow-lists, then asks the store.
#include "packs/storage/storage_pack.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>

#include "infra/logging.hpp"
#include "packs/storage/access_policy.hpp"
#include "packs/storage/encoding.hpp"
#include "packs/storage/local_store.hpp"
#include "packs/storage/s3_store.hpp"
#include "packs/storage/store_config.hpp"

namespace mcpd::packs::storage {

namespace json = boost::json;
using core::CallContext;
using core::ToolOutcome;
using core::ToolResult;

namespace {

constexpr long kDefaultPresignSeconds = 900;

const char* kReadme =
    "This is mcpd's local object store, the storage pack's zero-configuration default.\n"
    "\n"
    "Each folder of the store's root is a bucket (this one is \"documents\"), and each file below a\n"
    "bucket is an object whose key is its path. List them with s3_list_objects and read them with\n"
    "s3_get_object. Writes (s3_put_object, s3_delete_object) are off until [packs.storage] sets\n"
    "allow_writes = true.\n";

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string str(const json::object& o, std::string_view key) {
  auto v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

ToolResult structured(json::object body, std::string text) {
  ToolResult r = ToolResult::text(std::move(text));
  r.structured = std::move(body);
  return r;
}

json::object object_json(const ObjectSummary& o) {
  return json::object{{"key", o.key}, {"size", o.size}, {"last_modified", o.last_modified}, {"etag", o.etag}};
}

std::string iso_in(long seconds) {
  const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now()) + seconds;
  return iso8601_utc(t);
}

// A configured store with what the tools need around it.
struct Store {
  StoreConfig config;
  std::unique_ptr<ObjectStore> backend;
  AccessPolicy policy;
};

}  // namespace

bool is_text_object(std::string_view bytes, std::string_view content_type) {
  std::string type = lower(content_type.substr(0, content_type.find(';')));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  static const char* kTextLike[] = {"application/json", "application/xml",  "application/javascript",
                                    "application/yaml", "application/x-yaml", "application/toml",
                                    "application/sql",  "application/graphql", "application/x-sh",
                                    "application/x-www-form-urlencoded", "application/octet-stream",
                                    "binary/octet-stream"};
  const bool text_like = type.empty() || type.starts_with("text/") || type.ends_with("+json") || type.ends_with("+xml") ||
                         std::any_of(std::begin(kTextLike), std::end(kTextLike), [&](const char* t) { return type == t; });
  return text_like && bytes.find('\0') == std::string_view::npos && is_valid_utf8(bytes);
}

class StoragePack : public core::Pack {
 public:
  std::string name() const override { return "storage"; }

  void register_into(core::PackContext& ctx) override {
    config_ = parse_storage_config(ctx.settings, ctx.data_dir);
    for (auto& sc : config_.stores) open_store(std::move(sc));
    config_.stores.clear();
    default_store_ = pick_default_store();
    register_tools(ctx.registry);
    register_health(ctx.registry);
  }

 private:
  void open_store(StoreConfig sc) {
    std::unique_ptr<ObjectStore> backend;
    const std::string where = "stores." + sc.name;
    try {
      if (sc.type == "local") {
        auto local = std::make_unique<LocalStore>(LocalStoreOptions{sc.root, config_.max_object_bytes});
        if (!sc.bucket.empty()) seed_bucket(*local, sc);
        backend = std::move(local);
      } else {
        S3StoreOptions o;
        o.name = sc.name;
        o.client.endpoint = sc.endpoint;
        o.client.region = sc.region;
        o.client.path_style = sc.path_style;
        o.client.credentials = sc.credentials;
        o.client.timeout_ms = sc.timeout_ms;
        o.client.max_object_bytes = config_.max_object_bytes;
        o.breaker_failures = sc.breaker_failures;
        o.breaker_open_for = sc.breaker_open_for;
        o.retries = sc.retries;
        backend = std::make_unique<S3Store>(std::move(o));
      }
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(where + ": " + e.what());
    }
    infra::log::info("storage store", {{"store", sc.name},
                                       {"type", sc.type},
                                       {"location", backend->location()},
                                       {"bucket", sc.bucket},
                                       {"writes", sc.allow_writes}});
    AccessPolicy policy(sc.name, sc.buckets, sc.prefixes);
    stores_.push_back(std::make_unique<Store>(Store{std::move(sc), std::move(backend), std::move(policy)}));
  }

  // The default bucket's folder exists; at zero configuration it starts with a README, once.
  static void seed_bucket(LocalStore& store, const StoreConfig& sc) {
    const bool fresh = sc.seed_readme && !std::filesystem::exists(std::filesystem::path(sc.root) / sc.bucket);
    store.ensure_bucket(sc.bucket);
    if (fresh) store.put(sc.bucket, "README.txt", kReadme, "text/plain");
  }

  // The store named "s3", else the first S3 store, else the first store.
  std::size_t pick_default_store() const {
    for (std::size_t i = 0; i < stores_.size(); ++i)
      if (stores_[i]->config.name == "s3") return i;
    for (std::size_t i = 0; i < stores_.size(); ++i)
      if (stores_[i]->config.type == "s3") return i;
    return 0;
  }

  std::string store_names() const {
    std::string out;
    for (const auto& s : stores_) out += (out.empty() ? "" : ", ") + s->config.name;
    return out;
  }

  // What every tool starts with: the store, the bucket, and the allow-list verdict on both.
  struct Target {
    Store* store = nullptr;
    std::string bucket;
    std::string error;
  };

  Target target(const json::object& args) {
    Target t;
    const std::string name = str(args, "store");
    if (name.empty()) {
      t.store = stores_[default_store_].get();
    } else {
      for (auto& s : stores_)
        if (s->config.name == name) t.store = s.get();
      if (!t.store) {
        t.error = "unknown store '" + name + "'; configured stores: " + store_names();
        return t;
      }
    }
    t.bucket = str(args, "bucket");
    if (t.bucket.empty()) t.bucket = t.store->config.bucket;
    if (t.bucket.empty()) {
      t.error = "give 'bucket': store '" + t.store->config.name + "' has no default bucket";
      return t;
    }
    t.error = t.store->policy.bucket_problem(t.bucket);
    return t;
  }

  // Store, bucket and key, all allowed; `write` also needs the store to accept writes.
  Target keyed_target(const json::object& args, bool write) {
    Target t = target(args);
    if (!t.error.empty()) return t;
    if (write && !t.store->config.allow_writes) {
      t.error = "store '" + t.store->config.name +
                "' is read-only; set allow_writes = true on it (or in [packs.storage]) to let s3_put_object and "
                "s3_delete_object change it";
      return t;
    }
    t.error = t.store->policy.key_problem(str(args, "key"));
    return t;
  }

  std::string object_uri(const Store& s, const std::string& bucket, const std::string& key) const {
    const std::string path = sigv4::uri_encode(key, false);
    if (s.config.type == "s3") return "s3://" + bucket + "/" + path;
    return "storage://" + s.config.name + "/" + bucket + "/" + path;
  }

  json::object store_schema(json::object properties, json::array required) const {
    json::array names;
    for (const auto& s : stores_) names.push_back(json::string(s->config.name));
    properties["store"] = json::object{{"type", "string"},
                                       {"enum", std::move(names)},
                                       {"description", "Store name (default: " + stores_[default_store_]->config.name + ")"}};
    properties["bucket"] = json::object{{"type", "string"}, {"minLength", 1},
                                        {"description", "Bucket (default: the store's default bucket)"}};
    json::object schema{{"type", "object"}, {"properties", std::move(properties)}, {"additionalProperties", false}};
    if (!required.empty()) schema["required"] = std::move(required);
    return schema;
  }

  static json::object key_property() {
    return json::object{{"type", "string"}, {"minLength", 1}, {"maxLength", 1024}, {"description", "Object key"}};
  }

  void add_tool(core::Registry& r, std::string name, std::string title, std::string description, json::object schema,
                json::object annotations, std::function<ToolOutcome(const json::object&)> run) {
    core::Tool t;
    t.name = std::move(name);
    t.title = std::move(title);
    t.description = std::move(description);
    t.input_schema = std::move(schema);
    t.annotations = std::move(annotations);
    t.execution = core::Execution::Pool;
    t.handler = [run = std::move(run)](CallContext&, const json::object& args) -> ToolOutcome { return run(args); };
    r.add_tool(std::move(t));
  }

  void register_tools(core::Registry& r) {
    const json::object read_only{{"readOnlyHint", true}, {"openWorldHint", true}};
    add_tool(r, "s3_list_objects", "List objects",
             "List the objects of a bucket in key order, one page at a time: prefix filters the keys, delimiter "
             "(usually \"/\") groups deeper keys into common_prefixes (folders), and next_continuation_token fetches "
             "the next page.",
             store_schema(json::object{{"prefix", {{"type", "string"}, {"description", "Only keys that start with this"}}},
                                       {"delimiter", {{"type", "string"}, {"minLength", 1}, {"description", "Usually \"/\""}}},
                                       {"max_keys", {{"type", "integer"}, {"minimum", 1}, {"maximum", 1000},
                                                     {"description", "Page size (default 1000)"}}},
                                       {"continuation_token", {{"type", "string"},
                                                               {"description", "next_continuation_token of the previous page"}}}},
                          {}),
             read_only, [this](const json::object& a) { return list(a); });
    add_tool(r, "s3_get_object", "Get an object",
             "Read an object, whole or a byte range. Text (valid UTF-8 with a text-like content type) comes back as "
             "text; anything else as a base64 blob resource. Objects above max_object_bytes must be read in parts "
             "with range.",
             store_schema(json::object{{"key", key_property()},
                                       {"range", {{"type", "string"},
                                                  {"pattern", "^bytes=([0-9]+-[0-9]*|-[0-9]+)$"},
                                                  {"description", "bytes=FIRST-LAST, bytes=FIRST- or bytes=-COUNT"}}}},
                          {"key"}),
             read_only, [this](const json::object& a) { return get(a); });
    add_tool(r, "s3_head_object", "Object metadata", "Size, content type, ETag and last-modified time of an object, without its content.",
             store_schema(json::object{{"key", key_property()}}, {"key"}), read_only,
             [this](const json::object& a) { return head(a); });
    add_tool(r, "s3_presign_url", "Presigned URL",
             "A URL that downloads the object without credentials until it expires (S3 stores only). Treat it as a "
             "secret: anyone holding it can read the object.",
             store_schema(json::object{{"key", key_property()},
                                       {"expires_seconds", {{"type", "integer"}, {"minimum", 1}, {"maximum", 604800},
                                                            {"description", "Lifetime in seconds (default 900, at most 7 days)"}}}},
                          {"key"}),
             read_only, [this](const json::object& a) { return presign(a); });

    const bool writable = std::any_of(stores_.begin(), stores_.end(), [](const auto& s) { return s->config.allow_writes; });
    if (!writable) return;
    add_tool(r, "s3_put_object", "Put an object",
             "Create or replace an object with text (content) or bytes (content_base64). Only on stores that allow "
             "writes.",
             store_schema(json::object{{"key", key_property()},
                                       {"content", {{"type", "string"}, {"description", "The object as text (UTF-8)"}}},
                                       {"content_base64", {{"type", "string"}, {"description", "The object's bytes, base64"}}},
                                       {"content_type", {{"type", "string"}, {"maxLength", 255},
                                                         {"description", "MIME type (default: from the key's extension)"}}}},
                          {"key"}),
             json::object{{"readOnlyHint", false}, {"destructiveHint", true}, {"idempotentHint", true}, {"openWorldHint", true}},
             [this](const json::object& a) { return put(a); });
    add_tool(r, "s3_delete_object", "Delete an object",
             "Delete an object. Deleting a key that does not exist succeeds. Only on stores that allow writes.",
             store_schema(json::object{{"key", key_property()}}, {"key"}),
             json::object{{"readOnlyHint", false}, {"destructiveHint", true}, {"idempotentHint", true}, {"openWorldHint", true}},
             [this](const json::object& a) { return remove(a); });
  }

  ToolOutcome list(const json::object& args) {
    Target t = target(args);
    if (!t.error.empty()) return ToolResult::error(t.error);
    ListRequest request;
    request.bucket = t.bucket;
    request.prefix = str(args, "prefix");
    request.delimiter = str(args, "delimiter");
    request.continuation_token = str(args, "continuation_token");
    if (auto v = args.if_contains("max_keys"); v && v->is_int64()) request.max_keys = static_cast<int>(v->get_int64());
    if (auto problem = t.store->policy.list_prefix_problem(request.prefix); !problem.empty())
      return ToolResult::error(problem);
    auto page = t.store->backend->list(request);
    if (!page) return ToolResult::error(page.error().message);
    json::array objects, prefixes;
    for (const auto& o : page->objects) objects.push_back(object_json(o));
    for (const auto& p : page->common_prefixes) prefixes.push_back(json::string(p));
    json::object body{{"store", t.store->config.name},
                      {"bucket", t.bucket},
                      {"prefix", request.prefix},
                      {"objects", std::move(objects)},
                      {"common_prefixes", std::move(prefixes)},
                      {"key_count", page->objects.size() + page->common_prefixes.size()},
                      {"is_truncated", page->is_truncated}};
    if (!request.delimiter.empty()) body["delimiter"] = request.delimiter;
    if (page->is_truncated) body["next_continuation_token"] = page->next_continuation_token;
    std::string text = json::serialize(body);
    ToolResult r = structured(std::move(body), std::move(text));
    r.audit = json::object{{"objects", static_cast<std::int64_t>(page->objects.size())}};  // the audit log reads int64
    return r;
  }

  ToolOutcome get(const json::object& args) {
    Target t = keyed_target(args, false);
    if (!t.error.empty()) return ToolResult::error(t.error);
    const std::string key = str(args, "key");
    auto data = t.store->backend->get(t.bucket, key, str(args, "range"));
    if (!data) return ToolResult::error(data.error().message);
    const ObjectMeta& info = data->info;
    const bool text = is_text_object(data->bytes, info.content_type);
    json::object meta{{"store", t.store->config.name}, {"bucket", t.bucket},  {"key", key},
                      {"size", info.size},             {"content_type", info.content_type},
                      {"etag", info.etag},             {"last_modified", info.last_modified},
                      {"bytes_returned", data->bytes.size()}, {"encoding", text ? "text" : "base64"}};
    if (!data->content_range.empty()) meta["content_range"] = data->content_range;
    ToolResult r;
    r.audit = json::object{{"bytes", static_cast<std::int64_t>(data->bytes.size())}};
    if (text) {
      r.content.push_back(json::object{{"type", "text"}, {"text", std::move(data->bytes)}});
    } else {
      const std::string mime = info.content_type.empty() ? "application/octet-stream" : info.content_type;
      r.content.push_back(json::object{{"type", "text"},
                                       {"text", "Binary object " + t.bucket + "/" + key + " (" +
                                                    std::to_string(data->bytes.size()) + " bytes, " + mime +
                                                    "), attached as a base64 blob resource."}});
      r.content.push_back(json::object{
          {"type", "resource"},
          {"resource", json::object{{"uri", object_uri(*t.store, t.bucket, key)},
                                    {"mimeType", mime},
                                    {"blob", base64_encode(data->bytes)}}}});
    }
    r.structured = std::move(meta);
    return r;
  }

  ToolOutcome head(const json::object& args) {
    Target t = keyed_target(args, false);
    if (!t.error.empty()) return ToolResult::error(t.error);
    auto info = t.store->backend->head(t.bucket, str(args, "key"));
    if (!info) return ToolResult::error(info.error().message);
    json::object body{{"store", t.store->config.name}, {"bucket", t.bucket},          {"key", info->key},
                      {"size", info->size},            {"content_type", info->content_type},
                      {"etag", info->etag},            {"last_modified", info->last_modified}};
    std::string text = json::serialize(body);
    return structured(std::move(body), std::move(text));
  }

  ToolOutcome presign(const json::object& args) {
    Target t = keyed_target(args, false);
    if (!t.error.empty()) return ToolResult::error(t.error);
    long expires = kDefaultPresignSeconds;
    if (auto v = args.if_contains("expires_seconds"); v && v->is_int64()) expires = static_cast<long>(v->get_int64());
    const std::string key = str(args, "key");
    auto url = t.store->backend->presign_get(t.bucket, key, expires);
    if (!url) return ToolResult::error(url.error().message);
    json::object body{{"store", t.store->config.name}, {"bucket", t.bucket},       {"key", key},
                      {"url", *url},                   {"expires_seconds", expires}, {"expires_at", iso_in(expires)}};
    return structured(std::move(body), *url);
  }

  ToolOutcome put(const json::object& args) {
    Target t = keyed_target(args, true);
    if (!t.error.empty()) return ToolResult::error(t.error);
    const std::string key = str(args, "key");
    const bool has_text = args.contains("content"), has_bytes = args.contains("content_base64");
    if (has_text == has_bytes) return ToolResult::error("give exactly one of 'content' (text) and 'content_base64' (bytes)");
    std::string bytes;
    if (has_text) {
      bytes = str(args, "content");
    } else {
      auto decoded = base64_decode(str(args, "content_base64"));
      if (!decoded) return ToolResult::error("'content_base64' is not valid base64; encode the bytes with the standard alphabet");
      bytes = std::move(*decoded);
    }
    if (bytes.size() > config_.max_object_bytes)
      return ToolResult::error("the object is " + std::to_string(bytes.size()) + " bytes, above the " +
                               std::to_string(config_.max_object_bytes) +
                               "-byte limit (max_object_bytes); store it in smaller objects");
    std::string type = str(args, "content_type");
    if (type.empty()) {
      type = guess_content_type(key);
      if (has_text && type == "application/octet-stream") type = "text/plain; charset=utf-8";
    }
    auto done = t.store->backend->put(t.bucket, key, bytes, type);
    if (!done) return ToolResult::error(done.error().message);
    json::object body{{"store", t.store->config.name}, {"bucket", t.bucket}, {"key", key},
                      {"size", done->size},            {"etag", done->etag}, {"content_type", type}};
    ToolResult r = structured(std::move(body), "Stored " + t.bucket + "/" + key + " (" + std::to_string(done->size) + " bytes).");
    r.audit = json::object{{"bytes", static_cast<std::int64_t>(done->size)}};
    return r;
  }

  ToolOutcome remove(const json::object& args) {
    Target t = keyed_target(args, true);
    if (!t.error.empty()) return ToolResult::error(t.error);
    const std::string key = str(args, "key");
    auto done = t.store->backend->remove(t.bucket, key);
    if (!done) return ToolResult::error(done.error().message);
    json::object body{{"store", t.store->config.name}, {"bucket", t.bucket}, {"key", key}, {"deleted", true}};
    ToolResult r = structured(std::move(body), "Deleted " + t.bucket + "/" + key + " (if it existed).");
    r.audit = json::object{{"objects", std::int64_t{1}}};
    return r;
  }

  // "s3" for the only S3 store (the /health shape existing S3 clients read), "s3:<name>" when there are several;
  // "storage:<name>" for local stores.
  void register_health(core::Registry& r) {
    const auto s3_count = std::count_if(stores_.begin(), stores_.end(), [](const auto& s) { return s->config.type == "s3"; });
    for (auto& s : stores_) {
      std::string service = s->config.type == "s3" ? (s3_count == 1 ? "s3" : "s3:" + s->config.name) : "storage:" + s->config.name;
      Store* store = s.get();
      r.add_health_check(std::move(service), [store] {
        core::HealthStatus h;
        h.status = store->backend->health(store->config.bucket);
        return h;
      });
    }
  }

  StorageConfig config_;
  std::vector<std::unique_ptr<Store>> stores_;
  std::size_t default_store_ = 0;
};

std::unique_ptr<core::Pack> make_pack() { return std::make_unique<StoragePack>(); }

}  // namespace mcpd::packs::storage
