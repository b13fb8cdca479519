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

#include "core/annotations.hpp"
#include "core/arguments.hpp"
#include "infra/base64.hpp"
#include "infra/logging.hpp"
#include "infra/text.hpp"
#include "infra/time.hpp"
#include "packs/storage/access_policy.hpp"
#include "packs/storage/local_store.hpp"
#include "packs/storage/s3_store.hpp"
#include "packs/storage/store_config.hpp"

namespace mcpd::packs::storage {

namespace json = boost::json;
using core::Arguments;
using core::CallContext;
using core::Error;
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

// An optional string argument, "" when absent (the input schema has checked its type).
Result<std::string> optional_text(const Arguments& a, std::string_view key) {
  auto value = a.optional_string(key);
  if (!value) return std::move(value).failure();
  return std::move(*value).value_or(std::string());
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
  return infra::iso8601_utc(t);
}

// A configured store with what the tools need around it.
struct Store {
  StoreConfig config;
  std::unique_ptr<ObjectStore> backend;
  AccessPolicy policy;
};

}  // namespace

bool is_text_object(std::string_view bytes, std::string_view content_type) {
  std::string type = infra::ascii_lower(content_type.substr(0, content_type.find(';')));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  static const char* kTextLike[] = {"application/json", "application/xml",  "application/javascript",
                                    "application/yaml", "application/x-yaml", "application/toml",
                                    "application/sql",  "application/graphql", "application/x-sh",
                                    "application/x-www-form-urlencoded", "application/octet-stream",
                                    "binary/octet-stream"};
  const bool text_like = type.empty() || type.starts_with("text/") || type.ends_with("+json") || type.ends_with("+xml") ||
                         std::any_of(std::begin(kTextLike), std::end(kTextLike), [&](const char* t) { return type == t; });
  return text_like && bytes.find('\0') == std::string_view::npos && infra::is_valid_utf8(bytes);
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

  // The default bucket's folder exists; at zero configuration it starts with a README, once (a
  // README that cannot be written is no reason not to start).
  static void seed_bucket(LocalStore& store, const StoreConfig& sc) {
    const bool fresh = sc.seed_readme && !std::filesystem::exists(std::filesystem::path(sc.root) / sc.bucket);
    store.ensure_bucket(sc.bucket);
    if (!fresh) return;
    if (auto written = store.put(sc.bucket, "README.txt", kReadme, "text/plain"); !written)
      infra::log::warn("storage readme not written", {{"store", sc.name}, {"error", written.error().message}});
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

  // What every tool starts with: the store and the bucket, both allowed.
  struct Target {
    Store* store = nullptr;
    std::string bucket;
  };

  Result<Target> target(const Arguments& a) {
    auto name = optional_text(a, "store");
    if (!name) return std::move(name).failure();
    Target t;
    if (name->empty()) {
      t.store = stores_[default_store_].get();
    } else {
      for (auto& s : stores_)
        if (s->config.name == *name) t.store = s.get();
      if (!t.store) return Error::invalid_argument("unknown store '" + *name + "'; configured stores: " + store_names());
    }
    auto bucket = optional_text(a, "bucket");
    if (!bucket) return std::move(bucket).failure();
    t.bucket = bucket->empty() ? t.store->config.bucket : std::move(*bucket);
    if (t.bucket.empty())
      return Error::invalid_argument("give 'bucket': store '" + t.store->config.name + "' has no default bucket");
    if (auto allowed = t.store->policy.check_bucket(t.bucket); !allowed) return std::move(allowed).failure();
    return t;
  }

  // What the tools on one object start with: store, bucket and key, all allowed; `write` also
  // needs the store to accept writes.
  struct KeyedTarget {
    Store* store = nullptr;
    std::string bucket;
    std::string key;
  };

  Result<KeyedTarget> keyed_target(const Arguments& a, bool write) {
    auto t = target(a);
    if (!t) return std::move(t).failure();
    if (write && !t->store->config.allow_writes)
      return Error::refused("store '" + t->store->config.name +
                            "' is read-only; set allow_writes = true on it (or in [packs.storage]) to let s3_put_object "
                            "and s3_delete_object change it");
    auto key = a.string("key");
    if (!key) return std::move(key).failure();
    if (auto allowed = t->store->policy.check_key(*key); !allowed) return std::move(allowed).failure();
    return KeyedTarget{t->store, std::move(t->bucket), std::move(*key)};
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

  // Every tool touches a file or a socket: all run on the worker pool.
  void add_tool(core::Registry& r, std::string name, std::string title, std::string description, json::object schema,
                json::object annotations, std::function<ToolOutcome(const Arguments&)> run) {
    core::Tool t;
    t.name = std::move(name);
    t.title = std::move(title);
    t.description = std::move(description);
    t.input_schema = std::move(schema);
    t.annotations = std::move(annotations);
    t.execution = core::Execution::Pool;
    t.handler = [run = std::move(run)](CallContext&, const json::object& args) -> ToolOutcome { return run(Arguments(args)); };
    r.add_tool(std::move(t));
  }

  void register_tools(core::Registry& r) {
    // The stores are configured by the operator: the tools reach nothing else (a closed world).
    const json::object read_only = core::read_only();
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
             read_only, [this](const Arguments& a) { return list(a); });
    add_tool(r, "s3_get_object", "Get an object",
             "Read an object, whole or a byte range. Text (valid UTF-8 with a text-like content type) comes back as "
             "text; anything else as a base64 blob resource. Objects above max_object_bytes must be read in parts "
             "with range.",
             store_schema(json::object{{"key", key_property()},
                                       {"range", {{"type", "string"},
                                                  {"pattern", "^bytes=([0-9]+-[0-9]*|-[0-9]+)$"},
                                                  {"description", "bytes=FIRST-LAST, bytes=FIRST- or bytes=-COUNT"}}}},
                          {"key"}),
             read_only, [this](const Arguments& a) { return get(a); });
    add_tool(r, "s3_head_object", "Object metadata", "Size, content type, ETag and last-modified time of an object, without its content.",
             store_schema(json::object{{"key", key_property()}}, {"key"}), read_only,
             [this](const Arguments& a) { return head(a); });
    add_tool(r, "s3_presign_url", "Presigned URL",
             "A URL that downloads the object without credentials until it expires (S3 stores only). Treat it as a "
             "secret: anyone holding it can read the object.",
             store_schema(json::object{{"key", key_property()},
                                       {"expires_seconds", {{"type", "integer"}, {"minimum", 1}, {"maximum", 604800},
                                                            {"description", "Lifetime in seconds (default 900, at most 7 days)"}}}},
                          {"key"}),
             read_only, [this](const Arguments& a) { return presign(a); });

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
             core::destructive(),  // replaces an object of the same key; the same put twice changes nothing more
             [this](const Arguments& a) { return put(a); });
    add_tool(r, "s3_delete_object", "Delete an object",
             "Delete an object. Deleting a key that does not exist succeeds. Only on stores that allow writes.",
             store_schema(json::object{{"key", key_property()}}, {"key"}),
             core::destructive(), [this](const Arguments& a) { return remove(a); });
  }

  static Result<ListRequest> list_request(const Arguments& a, std::string bucket) {
    ListRequest request;
    request.bucket = std::move(bucket);
    auto prefix = optional_text(a, "prefix");
    if (!prefix) return std::move(prefix).failure();
    request.prefix = std::move(*prefix);
    auto delimiter = optional_text(a, "delimiter");
    if (!delimiter) return std::move(delimiter).failure();
    request.delimiter = std::move(*delimiter);
    auto token = optional_text(a, "continuation_token");
    if (!token) return std::move(token).failure();
    request.continuation_token = std::move(*token);
    auto max_keys = a.integer("max_keys", request.max_keys, 1, 1000);
    if (!max_keys) return std::move(max_keys).failure();
    request.max_keys = static_cast<int>(*max_keys);
    return request;
  }

  ToolOutcome list(const Arguments& a) {
    auto target_or = target(a);
    if (!target_or) return std::move(target_or).failure();
    const Target& t = *target_or;
    auto request_or = list_request(a, t.bucket);
    if (!request_or) return std::move(request_or).failure();
    const ListRequest& request = *request_or;
    if (auto allowed = t.store->policy.check_list_prefix(request.prefix); !allowed) return std::move(allowed).failure();
    auto page = t.store->backend->list(request);
    if (!page) return std::move(page).failure();
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

  ToolOutcome get(const Arguments& a) {
    auto target_or = keyed_target(a, false);
    if (!target_or) return std::move(target_or).failure();
    const KeyedTarget& t = *target_or;
    const std::string& key = t.key;
    auto range = optional_text(a, "range");
    if (!range) return std::move(range).failure();
    auto data = t.store->backend->get(t.bucket, key, *range);
    if (!data) return std::move(data).failure();
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
                                    {"blob", infra::base64_encode(data->bytes)}}}});
    }
    r.structured = std::move(meta);
    return r;
  }

  ToolOutcome head(const Arguments& a) {
    auto target_or = keyed_target(a, false);
    if (!target_or) return std::move(target_or).failure();
    const KeyedTarget& t = *target_or;
    auto info = t.store->backend->head(t.bucket, t.key);
    if (!info) return std::move(info).failure();
    json::object body{{"store", t.store->config.name}, {"bucket", t.bucket},          {"key", info->key},
                      {"size", info->size},            {"content_type", info->content_type},
                      {"etag", info->etag},            {"last_modified", info->last_modified}};
    std::string text = json::serialize(body);
    return structured(std::move(body), std::move(text));
  }

  ToolOutcome presign(const Arguments& a) {
    auto target_or = keyed_target(a, false);
    if (!target_or) return std::move(target_or).failure();
    const KeyedTarget& t = *target_or;
    auto expires_or = a.integer("expires_seconds", kDefaultPresignSeconds, 1, sigv4::kMaxPresignExpirySeconds);
    if (!expires_or) return std::move(expires_or).failure();
    const long expires = static_cast<long>(*expires_or);
    const std::string& key = t.key;
    auto url = t.store->backend->presign_get(t.bucket, key, expires);
    if (!url) return std::move(url).failure();
    json::object body{{"store", t.store->config.name}, {"bucket", t.bucket},       {"key", key},
                      {"url", *url},                   {"expires_seconds", expires}, {"expires_at", iso_in(expires)}};
    return structured(std::move(body), *url);
  }

  ToolOutcome put(const Arguments& a) {
    auto target_or = keyed_target(a, true);
    if (!target_or) return std::move(target_or).failure();
    const KeyedTarget& t = *target_or;
    const std::string& key = t.key;
    auto text = a.optional_string("content");
    if (!text) return std::move(text).failure();
    auto encoded = a.optional_string("content_base64");
    if (!encoded) return std::move(encoded).failure();
    const bool has_text = text->has_value();
    if (has_text == encoded->has_value())
      return Error::invalid_argument("give exactly one of 'content' (text) and 'content_base64' (bytes)");
    std::string bytes;
    if (has_text) {
      bytes = std::move(**text);
    } else {
      auto decoded = infra::base64_decode(**encoded);
      if (!decoded)
        return Error::invalid_argument("'content_base64' is not valid base64; encode the bytes with the standard alphabet");
      bytes = std::move(*decoded);
    }
    if (bytes.size() > config_.max_object_bytes)
      return Error::invalid_argument("the object is " + std::to_string(bytes.size()) + " bytes, above the " +
                                     std::to_string(config_.max_object_bytes) +
                                     "-byte limit (max_object_bytes); store it in smaller objects");
    auto type_or = optional_text(a, "content_type");
    if (!type_or) return std::move(type_or).failure();
    std::string type = std::move(*type_or);
    if (type.empty()) {
      type = guess_content_type(key);
      if (has_text && type == "application/octet-stream") type = "text/plain; charset=utf-8";
    }
    auto done = t.store->backend->put(t.bucket, key, bytes, type);
    if (!done) return std::move(done).failure();
    json::object body{{"store", t.store->config.name}, {"bucket", t.bucket}, {"key", key},
                      {"size", done->size},            {"etag", done->etag}, {"content_type", type}};
    ToolResult r = structured(std::move(body), "Stored " + t.bucket + "/" + key + " (" + std::to_string(done->size) + " bytes).");
    r.audit = json::object{{"bytes", static_cast<std::int64_t>(done->size)}};
    return r;
  }

  ToolOutcome remove(const Arguments& a) {
    auto target_or = keyed_target(a, true);
    if (!target_or) return std::move(target_or).failure();
    const KeyedTarget& t = *target_or;
    const std::string& key = t.key;
    auto done = t.store->backend->remove(t.bucket, key);
    if (!done) return std::move(done).failure();
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
