// The packs' settings reader: typed values with defaults, ranges, unknown keys, and messages that
// name the key path; env_value and valid_name.
#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>

#include "infra/settings.hpp"

using namespace mcpd::infra;
namespace json = boost::json;

namespace {

json::object parse(const char* text) { return json::parse(text).as_object(); }

// The message of the SettingsError that `f` throws, or "" when it throws none.
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const SettingsError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(SettingsReader, MissingKeysGiveTheFallback) {
  const json::object o;
  const SettingsReader r(o, "stores.a");
  EXPECT_EQ(r.string("root"), "");
  EXPECT_EQ(r.string("region", "us-east-1"), "us-east-1");
  EXPECT_EQ(r.optional_string("region"), std::nullopt);
  EXPECT_TRUE(r.boolean("allow_writes", true));
  EXPECT_EQ(r.optional_boolean("path_style"), std::nullopt);
  EXPECT_EQ(r.integer("timeout_ms", 10000, 100, 600000), 10000);
  EXPECT_TRUE(r.strings("buckets").empty());
  EXPECT_FALSE(r.has("root"));
  EXPECT_EQ(r.find("root"), nullptr);
}

TEST(SettingsReader, ReadsTypedValues) {
  const auto o = parse(R"({"root": "/srv", "allow_writes": false, "timeout_ms": 100, "retries": 10,
                           "buckets": ["a", "b"], "path_style": true})");
  const SettingsReader r(o, "stores.a");
  EXPECT_EQ(r.string("root", "/x"), "/srv");
  EXPECT_EQ(r.optional_string("root"), "/srv");
  EXPECT_FALSE(r.boolean("allow_writes", true));
  EXPECT_EQ(r.optional_boolean("path_style"), true);
  EXPECT_EQ(r.integer("timeout_ms", 5, 100, 600000), 100);  // the bounds are included
  EXPECT_EQ(r.integer("retries", 3, 1, 10), 10);
  EXPECT_EQ(r.strings("buckets"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(r.has("root"));
  ASSERT_NE(r.find("root"), nullptr);
  EXPECT_TRUE(r.find("root")->is_string());
}

TEST(SettingsReader, WrongTypesNameTheKeyPath) {
  const auto o = parse(R"({"root": 1, "allow_writes": "yes", "timeout_ms": "5", "buckets": "a", "prefixes": ["p", ""],
                           "keys": ["k", 2]})");
  const SettingsReader r(o, "stores.a");
  EXPECT_EQ(error_of([&] { r.string("root"); }), "stores.a.root: must be a string");
  EXPECT_EQ(error_of([&] { r.optional_string("root"); }), "stores.a.root: must be a string");
  EXPECT_EQ(error_of([&] { r.boolean("allow_writes", false); }), "stores.a.allow_writes: must be true or false");
  EXPECT_EQ(error_of([&] { r.optional_boolean("allow_writes"); }), "stores.a.allow_writes: must be true or false");
  EXPECT_EQ(error_of([&] { r.integer("timeout_ms", 10000, 100, 600000); }),
            "stores.a.timeout_ms: must be an integer from 100 to 600000");
  EXPECT_EQ(error_of([&] { r.strings("buckets"); }), "stores.a.buckets: must be a list of strings");
  EXPECT_EQ(error_of([&] { r.strings("prefixes"); }), "stores.a.prefixes: must be a list of non-empty strings");
  EXPECT_EQ(error_of([&] { r.strings("keys"); }), "stores.a.keys: must be a list of non-empty strings");
}

TEST(SettingsReader, IntegersOutsideTheirRangeAreRefused) {
  const auto o = parse(R"({"low": 99, "high": 600001, "fraction": 1.5, "negative": -1, "huge": 18446744073709551615})");
  const SettingsReader r(o, "stores.a");
  EXPECT_EQ(error_of([&] { r.integer("low", 10000, 100, 600000); }), "stores.a.low: must be an integer from 100 to 600000");
  EXPECT_EQ(error_of([&] { r.integer("high", 10000, 100, 600000); }), "stores.a.high: must be an integer from 100 to 600000");
  EXPECT_EQ(error_of([&] { r.integer("fraction", 1, 1, 10); }), "stores.a.fraction: must be an integer from 1 to 10");
  EXPECT_EQ(error_of([&] { r.integer("negative", 0, 0, 1000); }), "stores.a.negative: must be an integer from 0 to 1000");
  EXPECT_EQ(error_of([&] { r.integer("huge", 1, 1, std::int64_t{1} << 40); }),
            "stores.a.huge: must be an integer from 1 to 1099511627776");
  EXPECT_EQ(r.integer("negative", 0, -5, 5), -1);
}

TEST(SettingsReader, UnknownKeysAreNamedWithTheKnownOnesSorted) {
  const auto o = parse(R"({"name": "a", "bukets": []})");
  EXPECT_EQ(error_of([&] { SettingsReader(o, "stores.a").reject_unknown({"name", "buckets", "allow_writes"}); }),
            "stores.a: unknown setting 'bukets' (known: allow_writes, buckets, name)");
  // The pack's own table has no path.
  EXPECT_EQ(error_of([&] { SettingsReader(o).reject_unknown({"name", "stores"}); }),
            "unknown setting 'bukets' (known: name, stores)");
  // A hint replaces the list.
  EXPECT_EQ(error_of([&] { SettingsReader(o).reject_unknown({"name"}, "only [[packs.x.stores]] entries"); }),
            "unknown setting 'bukets' (only [[packs.x.stores]] entries)");
  EXPECT_EQ(error_of([&] { SettingsReader(o).reject_unknown({}); }), "unknown setting 'name' (known: none)");
  EXPECT_EQ(error_of([&] { SettingsReader(o).reject_unknown({"name", "bukets"}); }), "");
  const json::object empty;
  EXPECT_EQ(error_of([&] { SettingsReader(empty).reject_unknown({}); }), "");
}

TEST(SettingsReader, NestedTablesExtendThePath) {
  const auto o = parse(R"({"vector_index": {"m": 100, "colour": 1}, "search": 3})");
  const SettingsReader r(o, "packs.knowledge");
  const auto index = r.table("vector_index");
  EXPECT_EQ(index.path(), "packs.knowledge.vector_index");
  EXPECT_EQ(error_of([&] { index.integer("m", 16, 4, 64); }), "packs.knowledge.vector_index.m: must be an integer from 4 to 64");
  EXPECT_EQ(error_of([&] { index.reject_unknown({"m"}); }), "packs.knowledge.vector_index: unknown setting 'colour' (known: m)");
  EXPECT_EQ(error_of([&] { r.table("search"); }), "packs.knowledge.search: must be a table");
  // A missing table reads as an empty one: every value falls back.
  const auto embeddings = r.table("embeddings");
  EXPECT_EQ(embeddings.path(), "packs.knowledge.embeddings");
  EXPECT_EQ(embeddings.integer("threads", 0, 0, 256), 0);
  // From the pack's own table, the nested path starts at the key.
  EXPECT_EQ(SettingsReader(o).table("vector_index").path(), "vector_index");
}

TEST(SettingsReader, FailNamesTheKeyOrTheTable) {
  const json::object o;
  const SettingsReader r(o, "stores.a");
  EXPECT_EQ(r.path_of("root"), "stores.a.root");
  EXPECT_EQ(r.path_of(""), "stores.a");
  EXPECT_EQ(SettingsReader(o).path_of("stores"), "stores");
  EXPECT_EQ(error_of([&] { r.fail("root", "is required"); }), "stores.a.root: is required");
  EXPECT_EQ(error_of([&] { r.fail({}, "set both or neither"); }), "stores.a: set both or neither");
  EXPECT_EQ(error_of([&] { SettingsReader(o).fail({}, "no path"); }), "no path");
}

TEST(SettingsReader, ErrorsAreInvalidArgumentsWithPathAndProblem) {
  try {
    SettingsError e("sources.a.max_rows", "must be an integer from 1 to 1000000");
    throw e;
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "sources.a.max_rows: must be an integer from 1 to 1000000");
    const auto* s = dynamic_cast<const SettingsError*>(&e);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->path(), "sources.a.max_rows");
    EXPECT_EQ(s->problem(), "must be an integer from 1 to 1000000");
  }
  EXPECT_STREQ(SettingsError("", "unknown setting 'x'").what(), "unknown setting 'x'");
}

TEST(SettingsHelpers, EnvValueTreatsEmptyAsUnset) {
  ::setenv("MCPD_SETTINGS_TEST_SET", "value", 1);
  ::setenv("MCPD_SETTINGS_TEST_EMPTY", "", 1);
  ::unsetenv("MCPD_SETTINGS_TEST_UNSET");
  EXPECT_EQ(env_value("MCPD_SETTINGS_TEST_SET"), "value");
  EXPECT_EQ(env_value("MCPD_SETTINGS_TEST_EMPTY"), std::nullopt);
  EXPECT_EQ(env_value("MCPD_SETTINGS_TEST_UNSET"), std::nullopt);
  ::unsetenv("MCPD_SETTINGS_TEST_SET");
  ::unsetenv("MCPD_SETTINGS_TEST_EMPTY");
}

TEST(SettingsHelpers, ValidNamesAreShortAsciiWords) {
  EXPECT_TRUE(valid_name("main"));
  EXPECT_TRUE(valid_name("Main_DB-2"));
  EXPECT_TRUE(valid_name(std::string(64, 'a')));
  EXPECT_FALSE(valid_name(""));
  EXPECT_FALSE(valid_name(std::string(65, 'a')));
  EXPECT_FALSE(valid_name("a b"));
  EXPECT_FALSE(valid_name("a.b"));
  EXPECT_FALSE(valid_name("a/b"));
  EXPECT_FALSE(valid_name("caf\xc3\xa9"));
}
