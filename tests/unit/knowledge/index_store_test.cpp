// The SQLite index: atomic replacement, FTS5 search with filters, safe query building, search args.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "temp_dir.hpp"
#include "packs/knowledge/directory_source.hpp"
#include "packs/knowledge/index_store.hpp"
#include "packs/knowledge/search.hpp"
#include "packs/knowledge/sync_engine.hpp"

using namespace mcpd::packs::knowledge;
namespace fs = std::filesystem;
namespace json = boost::json;

using mcpd::test::TempDir;
using mcpd::test::write_file;

namespace {

Chunk make_chunk(std::string text, std::string heading = "", int line = 1) {
  return Chunk{std::move(text), std::move(heading), line, line, "h-" + std::to_string(line)};
}

}  // namespace

TEST(IndexStore, ReplacesDocumentsAndSearchesWithFilters) {
  TempDir dir;
  IndexStore store((dir.path() / "kb.db").string());
  store.ensure_source("a", "directory");
  DocumentInput doc{"docs/x.md", "X", "markdown", "v1", "", 10, "alpha beta"};
  store.put_document("a", doc, {make_chunk("alpha beta", "Intro", 1)});
  auto hits = store.search(parse_lexical_query("alpha"), {}, 10, 0);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].path, "docs/x.md");
  EXPECT_EQ(hits[0].heading, "Intro");
  EXPECT_EQ(hits[0].snippet, "");  // made for the hits shown only
  store.add_snippets(parse_lexical_query("alpha"), hits);
  EXPECT_NE(hits[0].snippet.find("**alpha**"), std::string::npos);
  EXPECT_GT(hits[0].score, 0);

  doc.version = "v2";
  doc.text = "gamma";
  store.put_document("a", doc, {make_chunk("gamma", "", 1)});  // replaces, never duplicates
  EXPECT_TRUE(store.search(parse_lexical_query("alpha"), {}, 10, 0).empty());
  EXPECT_EQ(store.search(parse_lexical_query("gamma"), {}, 10, 0).size(), 1u);
  EXPECT_EQ(store.versions("a").at("docs/x.md"), "v2");

  store.put_document("a", {"src/y.cpp", "y.cpp", "code", "v1", "", 5, "gamma"}, {make_chunk("gamma", "", 1)});
  Filters by_prefix;
  by_prefix.path_prefix = "src/";
  EXPECT_EQ(store.search(parse_lexical_query("gamma"), by_prefix, 10, 0).size(), 1u);
  Filters by_type;
  by_type.file_type = "md";
  EXPECT_EQ(store.search(parse_lexical_query("gamma"), by_type, 10, 0).at(0).path, "docs/x.md");
  Filters by_source;
  by_source.source = "b";
  EXPECT_TRUE(store.search(parse_lexical_query("gamma"), by_source, 10, 0).empty());

  store.delete_document("a", "docs/x.md");
  EXPECT_EQ(store.search(parse_lexical_query("gamma"), {}, 10, 0).size(), 1u);
  std::int64_t total = 0;
  EXPECT_EQ(store.list({}, 10, 0, total).size(), 1u);
  EXPECT_EQ(total, 1);
}

TEST(Searcher, ValidatesArgumentsWithClearMessages) {
  TempDir dir;
  IndexStore store((dir.path() / "kb.db").string());
  Searcher s(store);
  auto err = [&](const char* args) {
    auto r = s.search(json::parse(args).as_object());
    return std::holds_alternative<std::string>(r) ? std::get<std::string>(r) : std::string("<no error>");
  };
  EXPECT_EQ(err(R"({})"), "'query' is required and must be a string");
  EXPECT_EQ(err(R"({"query":""})"), "'query' must not be empty");
  EXPECT_EQ(err(R"({"query":"x","limit":0})"), "'limit' must be between 1 and 100, got 0");
  EXPECT_EQ(err(R"({"query":"x","top_k":1000000})"), "'limit' must be between 1 and 100, got 1000000");
  EXPECT_EQ(err(R"({"query":"x","offset":-1})"), "'offset' must be between 0 and 10000, got -1");
  EXPECT_EQ(err(R"({"query":"x","cursor":"bogus"})"), "'cursor' is not a cursor this server issued");
  EXPECT_EQ(err(R"({"query":"x","similarity_threshold":2})"), "'similarity_threshold' must be a number between 0 and 1");
  EXPECT_NE(err(R"({"query":"x","mode":"semantic"})").find("embedding provider"), std::string::npos);
  EXPECT_EQ(err(R"({"query":"!!!"})"), "'query' has no searchable words");
  auto ok = s.search(json::parse(R"({"q":"nothing indexed"})").as_object());
  ASSERT_TRUE(std::holds_alternative<json::object>(ok));
  EXPECT_EQ(std::get<json::object>(ok).at("mode").as_string(), "lexical");
}

TEST(Searcher, CapsHitsPerDocumentAndPaginates) {
  TempDir dir;
  IndexStore store((dir.path() / "kb.db").string());
  store.ensure_source("a", "directory");
  std::vector<Chunk> chunks;
  for (int i = 1; i <= 6; ++i) chunks.push_back(make_chunk("needle number " + std::to_string(i), "", i));
  store.put_document("a", {"one.md", "one", "markdown", "v", "", 1, "x"}, chunks);
  store.put_document("a", {"two.md", "two", "markdown", "v", "", 1, "x"}, {make_chunk("needle", "", 1)});
  Searcher s(store);
  auto page = std::get<json::object>(s.search(json::parse(R"({"query":"needle","limit":2,"max_per_document":2})").as_object()));
  EXPECT_EQ(page.at("results").as_array().size(), 2u);
  ASSERT_TRUE(page.contains("next_cursor"));
  json::object next{{"query", "needle"}, {"limit", 2}, {"max_per_document", 2}, {"cursor", page.at("next_cursor")}};
  auto rest = std::get<json::object>(s.search(next));
  EXPECT_EQ(rest.at("results").as_array().size(), 1u);  // 3 hits in all: 2 from one.md, 1 from two.md
  EXPECT_FALSE(rest.contains("next_cursor"));
}

TEST(SyncEngine, IncrementalAndDeletionsWithADirectory) {
  TempDir dir;
  auto root = dir.path() / "root";
  write_file(root / "a.md", "# A\n\nfirst apple\n");
  write_file(root / "b.txt", "banana\n");
  write_file(root / "c.bin", std::string("\0\1\2", 3));
  IndexStore store((dir.path() / "kb.db").string());
  SyncEngine engine(store, {}, {});
  auto source = make_directory_source({"docs", root.string(), {}, {}});
  auto first = engine.sync(*source);
  ASSERT_TRUE(first.ok) << first.error;
  EXPECT_EQ(first.counts.added, 2u);
  EXPECT_EQ(first.counts.skipped, 1u);  // c.bin: unsupported type, recorded
  EXPECT_EQ(store.skipped("docs", 10).at(0).path, "c.bin");

  auto again = engine.sync(*source);
  EXPECT_EQ(again.counts.unchanged, 2u);
  EXPECT_EQ(again.counts.added + again.counts.updated, 0u);

  write_file(root / "a.md", "# A\n\nsecond apricot, longer now\n");
  fs::remove(root / "b.txt");
  auto third = engine.sync(*source);
  EXPECT_EQ(third.counts.updated, 1u);
  EXPECT_EQ(third.counts.deleted, 1u);
  EXPECT_TRUE(store.search(parse_lexical_query("banana"), {}, 10, 0).empty());
  EXPECT_EQ(store.search(parse_lexical_query("apricot"), {}, 10, 0).size(), 1u);

  auto missing = make_directory_source({"gone", (dir.path() / "nope").string(), {}, {}});
  auto failed = engine.sync(*missing);
  EXPECT_FALSE(failed.ok);
  EXPECT_FALSE(failed.error.empty());
  auto states = store.sources();
  auto gone = std::find_if(states.begin(), states.end(), [](const SourceState& s) { return s.name == "gone"; });
  ASSERT_NE(gone, states.end());
  EXPECT_FALSE(gone->last_error.empty());
}
