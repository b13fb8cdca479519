// Parsing and defaults of the storage pack's settings; see store_config.hpp.
#include "packs/storage/store_config.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <stdexcept>

namespace mcpd::packs::storage {

namespace json = boost::json;

namespace {

const std::set<std::string> kPackKeys = {"allow_writes", "max_object_bytes", "stores"};
const std::set<std::string> kStoreKeys = {
    "name",      "type",          "root",           "endpoint", "region",     "path_style",
    "bucket",    "access_key_id", "secret_access_key", "session_token", "buckets", "prefixes",
    "allow_writes", "timeout_ms", "breaker_failures", "breaker_open_seconds", "retries"};
const std::set<std::string> kS3OnlyKeys = {"endpoint", "region", "path_style", "access_key_id", "secret_access_key",
                                           "session_token", "timeout_ms", "breaker_failures", "breaker_open_seconds",
                                           "retries"};

std::string join(const std::set<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::string at(const std::string& where, const char* key) { return where.empty() ? key : where + "." + key; }

[[noreturn]] void bad(const std::string& where, const std::string& problem) {
  throw std::invalid_argument(where + ": " + problem);
}

void reject_unknown(const json::object& o, const std::set<std::string>& known, const std::string& where) {
  for (const auto& [k, v] : o)
    if (!known.count(std::string(k)))
      throw std::invalid_argument((where.empty() ? "" : where + ": ") + "unknown setting '" + std::string(k) + "' (known: " +
                                  join(known) + ")");
}

std::optional<std::string> get_string(const json::object& o, const char* key, const std::string& where) {
  auto v = o.if_contains(key);
  if (!v) return std::nullopt;
  if (!v->is_string()) bad(at(where, key), "must be a string");
  return std::string(v->get_string());
}

std::optional<bool> get_bool(const json::object& o, const char* key, const std::string& where) {
  auto v = o.if_contains(key);
  if (!v) return std::nullopt;
  if (!v->is_bool()) bad(at(where, key), "must be true or false");
  return v->get_bool();
}

std::optional<std::int64_t> get_int(const json::object& o, const char* key, const std::string& where, std::int64_t lo,
                                    std::int64_t hi) {
  auto v = o.if_contains(key);
  if (!v) return std::nullopt;
  if (!v->is_int64() || v->get_int64() < lo || v->get_int64() > hi)
    bad(at(where, key), "must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
  return v->get_int64();
}

std::vector<std::string> get_strings(const json::object& o, const char* key, const std::string& where) {
  std::vector<std::string> out;
  auto v = o.if_contains(key);
  if (!v) return out;
  if (!v->is_array()) bad(at(where, key), "must be a list of strings");
  for (const auto& s : v->get_array()) {
    if (!s.is_string() || s.get_string().empty()) bad(at(where, key), "must be a list of non-empty strings");
    out.emplace_back(s.get_string());
  }
  return out;
}

bool valid_name(const std::string& name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

// An S3 store's region, endpoint and credentials: the store's own settings first, then the standard
// AWS variables (S3_ENDPOINT too, as seed 003's deployments use it).
void fill_from_env(StoreConfig& s, const json::object& o, const std::string& where, const EnvLookup& env) {
  s.region = get_string(o, "region", where)
                 .value_or(env("AWS_REGION").value_or(env("AWS_DEFAULT_REGION").value_or("us-east-1")));
  s.endpoint = get_string(o, "endpoint", where)
                   .value_or(env("S3_ENDPOINT").value_or(env("AWS_ENDPOINT_URL_S3").value_or(env("AWS_ENDPOINT_URL").value_or(""))));
  auto key_id = get_string(o, "access_key_id", where);
  auto secret = get_string(o, "secret_access_key", where);
  auto token = get_string(o, "session_token", where);
  if (key_id || secret) {
    if (!key_id || !secret || key_id->empty() || secret->empty())
      bad(where, "set both access_key_id and secret_access_key, or neither (then AWS_ACCESS_KEY_ID and "
                 "AWS_SECRET_ACCESS_KEY are used)");
    s.credentials = {*key_id, *secret, token.value_or("")};
  } else {
    auto env_id = env("AWS_ACCESS_KEY_ID");
    auto env_secret = env("AWS_SECRET_ACCESS_KEY");
    if (!env_id || !env_secret)
      bad(where, "no S3 credentials: set access_key_id and secret_access_key on the store, or AWS_ACCESS_KEY_ID and "
                 "AWS_SECRET_ACCESS_KEY in the environment");
    s.credentials = {*env_id, *env_secret, token.value_or(env("AWS_SESSION_TOKEN").value_or(""))};
  }
}

StoreConfig parse_store(const json::value& item, std::size_t index, bool pack_writes, const EnvLookup& env) {
  std::string where = "stores[" + std::to_string(index) + "]";
  if (!item.is_object()) bad(where, "each store must be a table ([[packs.storage.stores]])");
  const auto& o = item.get_object();
  StoreConfig s;
  s.name = get_string(o, "name", where).value_or("");
  if (!valid_name(s.name)) bad(where + ".name", "is required: 1 to 64 letters, digits, '-' or '_'");
  where = "stores." + s.name;
  reject_unknown(o, kStoreKeys, where);
  s.type = get_string(o, "type", where).value_or("");
  if (s.type != "local" && s.type != "s3") bad(where + ".type", "must be \"local\" or \"s3\"");
  if (s.type == "local") {
    for (const auto& k : kS3OnlyKeys)
      if (o.contains(k)) bad(where + "." + k, "is a setting of s3 stores, not of local ones");
    s.root = get_string(o, "root", where).value_or("");
    if (s.root.empty()) bad(where + ".root", "is required: the folder that holds the buckets");
  } else {
    if (o.contains("root")) bad(where + ".root", "is a setting of local stores; an s3 store has an endpoint");
    fill_from_env(s, o, where, env);
    s.path_style = get_bool(o, "path_style", where);
    if (auto v = get_int(o, "timeout_ms", where, 100, 600000)) s.timeout_ms = static_cast<long>(*v);
    if (auto v = get_int(o, "breaker_failures", where, 1, 1000)) s.breaker_failures = static_cast<int>(*v);
    if (auto v = o.if_contains("breaker_open_seconds")) {
      if (!v->is_number() || v->to_number<double>() < 0.1 || v->to_number<double>() > 86400)
        bad(where + ".breaker_open_seconds", "must be a number of seconds from 0.1 to 86400");
      s.breaker_open_for = std::chrono::milliseconds(static_cast<long long>(v->to_number<double>() * 1000));
    }
    if (auto v = get_int(o, "retries", where, 1, 10)) s.retries = static_cast<int>(*v);
  }
  s.bucket = get_string(o, "bucket", where).value_or("");
  s.buckets = get_strings(o, "buckets", where);
  s.prefixes = get_strings(o, "prefixes", where);
  if (!s.bucket.empty() && !s.buckets.empty() && std::find(s.buckets.begin(), s.buckets.end(), s.bucket) == s.buckets.end())
    bad(where + ".bucket", "the default bucket '" + s.bucket + "' is not in the store's buckets allow-list");
  if (s.bucket.empty() && s.buckets.size() == 1) s.bucket = s.buckets.front();
  s.allow_writes = get_bool(o, "allow_writes", where).value_or(pack_writes);
  return s;
}

}  // namespace

std::optional<std::string> process_env(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::nullopt;
  return std::string(v);
}

StorageConfig parse_storage_config(const json::object& settings, const std::string& data_dir, const EnvLookup& env) {
  reject_unknown(settings, kPackKeys, "");
  StorageConfig c;
  c.allow_writes = get_bool(settings, "allow_writes", "").value_or(false);
  if (auto v = get_int(settings, "max_object_bytes", "", 1, std::int64_t{1} << 40))
    c.max_object_bytes = static_cast<std::uint64_t>(*v);

  if (auto v = settings.if_contains("stores")) {
    if (!v->is_array() || v->get_array().empty())
      bad("stores", "must be one or more [[packs.storage.stores]] tables");
    std::set<std::string> names;
    for (std::size_t i = 0; i < v->get_array().size(); ++i) {
      StoreConfig s = parse_store(v->get_array()[i], i, c.allow_writes, env);
      if (!names.insert(s.name).second) bad("stores." + s.name, "the name '" + s.name + "' is used twice");
      c.stores.push_back(std::move(s));
    }
    return c;
  }

  // Zero configuration: a local folder with something in it, and S3 when seed 003's variables say so.
  StoreConfig local;
  local.name = "local";
  local.type = "local";
  local.root = (std::filesystem::path(data_dir.empty() ? std::string("data") : data_dir) / "storage").string();
  local.bucket = "documents";
  local.allow_writes = c.allow_writes;
  local.seed_readme = true;
  c.stores.push_back(std::move(local));
  if (auto bucket = env("S3_BUCKET")) {
    StoreConfig s3;
    s3.name = "s3";
    s3.type = "s3";
    s3.bucket = *bucket;
    s3.allow_writes = c.allow_writes;
    fill_from_env(s3, json::object{}, "S3_BUCKET (the s3 store from the environment)", env);
    c.stores.push_back(std::move(s3));
  }
  return c;
}

}  // namespace mcpd::packs::storage
