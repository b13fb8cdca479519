// The storage pack's settings: defaults at zero configuration (a local store, plus S3 from
// S3_BUCKET and the AWS_* variables), explicit stores, and one clear error per bad setting. Also
// the allow-lists.
#include <gtest/gtest.h>

#include <map>
#include <stdexcept>

#include "packs/storage/access_policy.hpp"
#include "packs/storage/store_config.hpp"

using namespace mcpd::packs::storage;
namespace json = boost::json;

namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end() || it->second.empty()) return std::nullopt;
    return it->second;
  };
}

json::object toml_like(const char* text) { return json::parse(text).as_object(); }

std::string error_of(const char* settings, std::map<std::string, std::string> env = {}) {
  try {
    parse_storage_config(toml_like(settings), "/data", env_of(std::move(env)));
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(StoreConfig, ZeroConfigurationIsALocalFolder) {
  auto c = parse_storage_config({}, "/data", env_of({}));
  ASSERT_EQ(c.stores.size(), 1u);
  EXPECT_EQ(c.stores[0].name, "local");
  EXPECT_EQ(c.stores[0].type, "local");
  EXPECT_EQ(c.stores[0].root, "/data/storage");
  EXPECT_EQ(c.stores[0].bucket, "documents");
  EXPECT_TRUE(c.stores[0].seed_readme);
  EXPECT_FALSE(c.stores[0].allow_writes);
  EXPECT_EQ(c.max_object_bytes, 10485760u);
}

TEST(StoreConfig, S3BucketAddsAnS3StoreFromTheEnvironment) {
  auto c = parse_storage_config(toml_like(R"({"allow_writes": true})"), "/data",
                                env_of({{"S3_BUCKET", "ca-a2a-documents"},
                                        {"AWS_REGION", "eu-west-3"},
                                        {"AWS_ACCESS_KEY_ID", "AKID"},
                                        {"AWS_SECRET_ACCESS_KEY", "SECRET"},
                                        {"AWS_SESSION_TOKEN", "TOKEN"},
                                        {"S3_ENDPOINT", "http://minio:9000"}}));
  ASSERT_EQ(c.stores.size(), 2u);
  const auto& s3 = c.stores[1];
  EXPECT_EQ(s3.name, "s3");
  EXPECT_EQ(s3.type, "s3");
  EXPECT_EQ(s3.bucket, "ca-a2a-documents");
  EXPECT_EQ(s3.region, "eu-west-3");
  EXPECT_EQ(s3.endpoint, "http://minio:9000");
  EXPECT_EQ(s3.credentials.access_key_id, "AKID");
  EXPECT_EQ(s3.credentials.secret_access_key, "SECRET");
  EXPECT_EQ(s3.credentials.session_token, "TOKEN");
  EXPECT_TRUE(s3.allow_writes);
  EXPECT_EQ(s3.timeout_ms, 10000);
  EXPECT_EQ(s3.breaker_failures, 5);
  EXPECT_EQ(s3.breaker_open_for, std::chrono::seconds(60));
  EXPECT_EQ(s3.retries, 3);

  auto e = error_of("{}", {{"S3_BUCKET", "b"}});
  EXPECT_NE(e.find("AWS_ACCESS_KEY_ID"), std::string::npos) << e;
}

TEST(StoreConfig, ExplicitStores) {
  auto c = parse_storage_config(toml_like(R"({
    "allow_writes": false, "max_object_bytes": 2048,
    "stores": [
      {"name": "archive", "type": "s3", "endpoint": "http://127.0.0.1:4568", "region": "eu-west-1",
       "path_style": true, "bucket": "b1", "access_key_id": "K", "secret_access_key": "S",
       "buckets": ["b1", "b2"], "prefixes": ["public/"], "allow_writes": true, "timeout_ms": 1500,
       "breaker_failures": 2, "breaker_open_seconds": 1.5, "retries": 1},
      {"name": "files", "type": "local", "root": "/srv/files"}]})"),
                                "/data", env_of({{"S3_BUCKET", "ignored"}, {"AWS_REGION", "us-west-2"}}));
  ASSERT_EQ(c.stores.size(), 2u);  // S3_BUCKET adds nothing once stores are configured
  EXPECT_EQ(c.max_object_bytes, 2048u);
  const auto& a = c.stores[0];
  EXPECT_EQ(a.region, "eu-west-1");
  EXPECT_EQ(a.path_style, std::optional<bool>(true));
  EXPECT_EQ(a.buckets, (std::vector<std::string>{"b1", "b2"}));
  EXPECT_EQ(a.prefixes, (std::vector<std::string>{"public/"}));
  EXPECT_TRUE(a.allow_writes);
  EXPECT_EQ(a.timeout_ms, 1500);
  EXPECT_EQ(a.breaker_failures, 2);
  EXPECT_EQ(a.breaker_open_for, std::chrono::milliseconds(1500));
  EXPECT_EQ(a.retries, 1);
  const auto& f = c.stores[1];
  EXPECT_EQ(f.root, "/srv/files");
  EXPECT_FALSE(f.allow_writes);
  EXPECT_FALSE(f.seed_readme);
}

TEST(StoreConfig, BadSettingsSayWhatIsWrong) {
  EXPECT_NE(error_of(R"({"alow_writes": true})").find("unknown setting 'alow_writes'"), std::string::npos);
  EXPECT_NE(error_of(R"({"allow_writes": "yes"})").find("allow_writes: must be true or false"), std::string::npos);
  EXPECT_NE(error_of(R"({"max_object_bytes": 0})").find("max_object_bytes"), std::string::npos);
  EXPECT_NE(error_of(R"({"stores": []})").find("stores"), std::string::npos);
  EXPECT_NE(error_of(R"({"stores": [{"type": "local", "root": "/x"}]})").find("stores[0].name"), std::string::npos);
  EXPECT_NE(error_of(R"({"stores": [{"name": "a", "type": "ftp"}]})").find("stores.a.type"), std::string::npos);
  EXPECT_NE(error_of(R"({"stores": [{"name": "a", "type": "local"}]})").find("stores.a.root"), std::string::npos);
  EXPECT_NE(error_of(R"({"stores": [{"name": "a", "type": "local", "root": "/x", "endpoint": "http://h"}]})")
                .find("stores.a.endpoint"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"stores": [{"name": "a", "type": "local", "root": "/x", "bukets": []}]})")
                .find("unknown setting 'bukets'"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"stores": [{"name": "a", "type": "local", "root": "/x"}, {"name": "a", "type": "local", "root": "/y"}]})")
                .find("used twice"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"stores": [{"name": "a", "type": "s3", "access_key_id": "K"}]})").find("secret_access_key"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"stores": [{"name": "a", "type": "s3", "access_key_id": "K", "secret_access_key": "S", "timeout_ms": 5}]})")
                .find("stores.a.timeout_ms: must be an integer from 100"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"stores": [{"name": "a", "type": "local", "root": "/x", "bucket": "c", "buckets": ["d"]}]})")
                .find("not in the store's buckets"),
            std::string::npos);
  // Allow-list entries follow the rules every call follows.
  EXPECT_NE(error_of(R"({"stores": [{"name": "a", "type": "local", "root": "/x", "buckets": [".."]}]})")
                .find("stores.a.buckets"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"stores": [{"name": "a", "type": "local", "root": "/x", "prefixes": ["docs/../"]}]})")
                .find("\"..\" segment"),
            std::string::npos);
  // Secrets never appear in messages.
  const auto e = error_of(R"({"stores": [{"name": "a", "type": "s3", "secret_access_key": "hunter2"}]})");
  EXPECT_EQ(e.find("hunter2"), std::string::npos) << e;
}

// The message of a refusal, "" when the check passes.
std::string problem(const mcpd::core::Status& checked) { return checked ? std::string() : checked.error().message; }

TEST(AccessPolicy, AllowListsNameTheAllowedValues) {
  AccessPolicy open("s", {}, {});
  EXPECT_EQ(problem(open.check_bucket("any")), "");
  EXPECT_EQ(problem(open.check_key("any/key")), "");
  EXPECT_EQ(problem(open.check_list_prefix("")), "");

  AccessPolicy p("s", {"docs", "public"}, {"reports/", "shared/"});
  EXPECT_EQ(problem(p.check_bucket("docs")), "");
  EXPECT_NE(problem(p.check_bucket("private")).find("\"docs\", \"public\""), std::string::npos);
  EXPECT_EQ(problem(p.check_key("reports/q1.pdf")), "");
  EXPECT_NE(problem(p.check_key("secrets/x")).find("\"reports/\", \"shared/\""), std::string::npos);
  EXPECT_EQ(problem(p.check_list_prefix("reports/2024/")), "");
  EXPECT_NE(problem(p.check_list_prefix("")), "");
  EXPECT_NE(problem(p.check_list_prefix("rep")), "");  // could list keys outside "reports/"
  // Outside the lists is a refusal; a name no store accepts is a bad argument.
  EXPECT_EQ(p.check_bucket("private").error().kind, mcpd::core::ErrorKind::Refused);
  EXPECT_EQ(p.check_key("secrets/x").error().kind, mcpd::core::ErrorKind::Refused);
  EXPECT_EQ(p.check_list_prefix("rep").error().kind, mcpd::core::ErrorKind::Refused);
  EXPECT_EQ(p.check_bucket("..").error().kind, mcpd::core::ErrorKind::InvalidArgument);
  EXPECT_EQ(p.check_key("reports/../secrets/x").error().kind, mcpd::core::ErrorKind::InvalidArgument);
  // Dot segments could be tidied into another prefix or bucket by a server or proxy: refused
  // whatever the allow-lists (object_key_test.cpp has the whole table).
  EXPECT_NE(problem(p.check_key("reports/../secrets/x")).find("\"..\" segment"), std::string::npos);
  EXPECT_NE(problem(p.check_list_prefix("reports/../")), "");
  EXPECT_NE(problem(open.check_key("../b/secret.txt")).find("\"..\" segment"), std::string::npos);
  EXPECT_NE(problem(open.check_list_prefix("../b/")), "");
  EXPECT_NE(problem(open.check_bucket("..")), "");
  EXPECT_EQ(problem(p.check_key("reports/..hidden")), "");
}

}  // namespace
