// Parsing and defaults of the storage pack's settings; see store_config.hpp.
#include "packs/storage/store_config.hpp"

#include <algorithm>
#include <filesystem>
#include <set>
#include <string_view>

#include "infra/settings.hpp"
#include "packs/storage/object_key.hpp"

namespace mcpd::packs::storage {

namespace json = boost::json;

namespace {

using infra::SettingsReader;

// The settings of s3 stores only; a local store that sets any is refused, naming the first of them.
constexpr std::string_view kS3OnlyKeys[] = {"access_key_id", "breaker_failures", "breaker_open_seconds", "endpoint",
                                            "path_style", "region", "retries", "secret_access_key", "session_token",
                                            "timeout_ms"};

// An S3 store's region, endpoint and credentials: the store's own settings first, then the standard
// AWS variables (S3_ENDPOINT too, as seed 003's deployments use it).
void fill_from_env(StoreConfig& s, const SettingsReader& r, const EnvLookup& env) {
  s.region = r.optional_string("region").value_or(env("AWS_REGION").value_or(env("AWS_DEFAULT_REGION").value_or("us-east-1")));
  s.endpoint = r.optional_string("endpoint")
                   .value_or(env("S3_ENDPOINT").value_or(env("AWS_ENDPOINT_URL_S3").value_or(env("AWS_ENDPOINT_URL").value_or(""))));
  auto key_id = r.optional_string("access_key_id");
  auto secret = r.optional_string("secret_access_key");
  auto token = r.optional_string("session_token");
  if (key_id || secret) {
    if (!key_id || !secret || key_id->empty() || secret->empty())
      r.fail({}, "set both access_key_id and secret_access_key, or neither (then AWS_ACCESS_KEY_ID and "
                 "AWS_SECRET_ACCESS_KEY are used)");
    s.credentials = {*key_id, *secret, token.value_or("")};
  } else {
    auto env_id = env("AWS_ACCESS_KEY_ID");
    auto env_secret = env("AWS_SECRET_ACCESS_KEY");
    if (!env_id || !env_secret)
      r.fail({}, "no S3 credentials: set access_key_id and secret_access_key on the store, or AWS_ACCESS_KEY_ID and "
                 "AWS_SECRET_ACCESS_KEY in the environment");
    s.credentials = {*env_id, *env_secret, token.value_or(env("AWS_SESSION_TOKEN").value_or(""))};
  }
}

StoreConfig parse_store(const json::value& item, std::size_t index, bool pack_writes, const EnvLookup& env) {
  const std::string where = "stores[" + std::to_string(index) + "]";
  if (!item.is_object()) throw infra::SettingsError(where, "each store must be a table ([[packs.storage.stores]])");
  const SettingsReader unnamed(item.get_object(), where);
  StoreConfig s;
  s.name = unnamed.string("name");
  if (!infra::valid_name(s.name)) unnamed.fail("name", "is required: 1 to 64 letters, digits, '-' or '_'");
  const SettingsReader r(item.get_object(), "stores." + s.name);
  r.reject_unknown({"name", "type", "root", "endpoint", "region", "path_style", "bucket", "access_key_id",
                    "secret_access_key", "session_token", "buckets", "prefixes", "allow_writes", "timeout_ms",
                    "breaker_failures", "breaker_open_seconds", "retries"});
  s.type = r.string("type");
  if (s.type != "local" && s.type != "s3") r.fail("type", "must be \"local\" or \"s3\"");
  if (s.type == "local") {
    for (auto k : kS3OnlyKeys)
      if (r.has(k)) r.fail(k, "is a setting of s3 stores, not of local ones");
    s.root = r.string("root");
    if (s.root.empty()) r.fail("root", "is required: the folder that holds the buckets");
  } else {
    if (r.has("root")) r.fail("root", "is a setting of local stores; an s3 store has an endpoint");
    fill_from_env(s, r, env);
    s.path_style = r.optional_boolean("path_style");
    s.timeout_ms = static_cast<long>(r.integer("timeout_ms", s.timeout_ms, 100, 600000));
    s.breaker_failures = static_cast<int>(r.integer("breaker_failures", s.breaker_failures, 1, 1000));
    if (auto v = r.find("breaker_open_seconds")) {
      if (!v->is_number() || v->to_number<double>() < 0.1 || v->to_number<double>() > 86400)
        r.fail("breaker_open_seconds", "must be a number of seconds from 0.1 to 86400");
      s.breaker_open_for = std::chrono::milliseconds(static_cast<long long>(v->to_number<double>() * 1000));
    }
    s.retries = static_cast<int>(r.integer("retries", s.retries, 1, 10));
  }
  s.bucket = r.string("bucket");
  s.buckets = r.strings("buckets");
  s.prefixes = r.strings("prefixes");
  // The rules the tools apply to every call (object_key.hpp), checked at start-up too: an
  // allow-list entry no call could ever match is a mistake to report now.
  if (!s.bucket.empty())
    if (auto problem = bucket_name_problem(s.bucket); !problem.empty()) r.fail("bucket", problem);
  for (const auto& b : s.buckets)
    if (auto problem = bucket_name_problem(b); !problem.empty()) r.fail("buckets", problem);
  for (const auto& p : s.prefixes)
    if (auto problem = list_prefix_problem(p); !problem.empty()) r.fail("prefixes", problem);
  if (!s.bucket.empty() && !s.buckets.empty() && std::find(s.buckets.begin(), s.buckets.end(), s.bucket) == s.buckets.end())
    r.fail("bucket", "the default bucket '" + s.bucket + "' is not in the store's buckets allow-list");
  if (s.bucket.empty() && s.buckets.size() == 1) s.bucket = s.buckets.front();
  s.allow_writes = r.boolean("allow_writes", pack_writes);
  return s;
}

}  // namespace

std::optional<std::string> process_env(const char* name) { return infra::env_value(name); }

StorageConfig parse_storage_config(const json::object& settings, const std::string& data_dir, const EnvLookup& env) {
  const SettingsReader r(settings);
  r.reject_unknown({"allow_writes", "max_object_bytes", "stores"});
  StorageConfig c;
  c.allow_writes = r.boolean("allow_writes", false);
  c.max_object_bytes = static_cast<std::uint64_t>(
      r.integer("max_object_bytes", static_cast<std::int64_t>(c.max_object_bytes), 1, std::int64_t{1} << 40));

  if (auto v = r.find("stores")) {
    if (!v->is_array() || v->get_array().empty()) r.fail("stores", "must be one or more [[packs.storage.stores]] tables");
    std::set<std::string> names;
    for (std::size_t i = 0; i < v->get_array().size(); ++i) {
      StoreConfig s = parse_store(v->get_array()[i], i, c.allow_writes, env);
      if (!names.insert(s.name).second) r.fail("stores." + s.name, "the name '" + s.name + "' is used twice");
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
    const json::object none;
    fill_from_env(s3, SettingsReader(none, "S3_BUCKET (the s3 store from the environment)"), env);
    c.stores.push_back(std::move(s3));
  }
  return c;
}

}  // namespace mcpd::packs::storage
