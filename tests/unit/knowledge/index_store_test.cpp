// The SQLite index: atomic replacement, FTS5 search with filters, safe query building, search args,
// and its failures as Errors (a search or a sync that meets a broken index answers, never throws).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <tuple>

#include "infra/sqlite.hpp"
#include "temp_dir.hpp"
#include "packs/knowledge/index/index_errors.hpp"
#include "packs/knowledge/index/index_store.hpp"
#include "packs/knowledge/search/search.hpp"
#include "packs/knowledge/sources/directory_source.hpp"
#include "packs/knowledge/sync/sync_engine.hpp"

using namespace mcpd::packs::knowledge;
namespace fs = std::filesystem;
namespace json = boost::json;

using mcpd::test::TempDir;
using mcpd::test::write_file;

namespace {

Chunk make_chunk(std::string text, std::string heading = "", int line = 1) {
  return Chunk{std::move(text), std::move(heading), line, line, "h-" + std::to_string(line)};
}

// A source with one file whose read throws, as a buggy source might.
class ThrowingSource final : public Source {
 public:
  std::string name() const override { return "broken"; }
  std::string kind() const override { return "directory"; }
  mcpd::core::Result<Snapshot> snapshot() override {
    Snapshot s;
    s.entries.push_back({"a.md", "v1", 5});
    return s;
  }
  mcpd::core::Result<std::string> read(const std::string&) override { throw std::runtime_error("disk on fire at /secret/path"); }
};

std::string last_error(IndexStore& store, const std::string& source) {
  for (const auto& s : store.sources())
    if (s.name == source) return s.last_error;
  return "<no such source>";
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
    if (!r.failed()) return std::string("<no error>");
    EXPECT_EQ(r.error().kind, mcpd::core::ErrorKind::InvalidArgument) << args;
    return r.error().message;
  };
  EXPECT_EQ(err(R"({})"), "'query' is required and must be a string");
  EXPECT_EQ(err(R"({"query":""})"), "'query' must not be empty");
  EXPECT_EQ(err(R"({"query":"x","limit":0})"), "'limit' must be between 1 and 100, got 0");
  EXPECT_EQ(err(R"({"query":"x","top_k":1000000})"), "'limit' must be between 1 and 100, got 1000000");
  EXPECT_EQ(err(R"({"query":"x","offset":-1})"), "'offset' must be between 0 and 10000, got -1");
  EXPECT_EQ(err(R"({"query":"x","limit":1e300})"), "'limit' must be an integer");
  EXPECT_EQ(err(R"({"query":"x","limit":2.5})"), "'limit' must be an integer");
  EXPECT_EQ(err(R"({"query":"x","source":7})"), "'source' must be a string");
  EXPECT_EQ(err(R"({"query":"x","cursor":"bogus"})"), "'cursor' is not a cursor this server issued");
  EXPECT_EQ(err(R"({"query":"x","similarity_threshold":2})"), "'similarity_threshold' must be a number between 0 and 1");
  EXPECT_NE(err(R"({"query":"x","mode":"semantic"})").find("embedding provider"), std::string::npos);
  EXPECT_EQ(err(R"({"query":"!!!"})"), "'query' has no searchable words");
  auto ok = s.search(json::parse(R"({"q":"nothing indexed"})").as_object());
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->at("mode").as_string(), "lexical");
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
  auto page = s.search(json::parse(R"({"query":"needle","limit":2,"max_per_document":2})").as_object()).value();
  EXPECT_EQ(page.at("results").as_array().size(), 2u);
  ASSERT_TRUE(page.contains("next_cursor"));
  json::object next{{"query", "needle"}, {"limit", 2}, {"max_per_document", 2}, {"cursor", page.at("next_cursor")}};
  auto rest = s.search(next).value();
  EXPECT_EQ(rest.at("results").as_array().size(), 1u);  // 3 hits in all: 2 from one.md, 1 from two.md
  EXPECT_FALSE(rest.contains("next_cursor"));
}

// get_document's lines are the text's: a final newline ends the last line (it does not start another),
// and the whole document's text is the stored text.
TEST(Searcher, GetDocumentCountsTheLinesOfTheText) {
  TempDir dir;
  IndexStore store((dir.path() / "kb.db").string());
  store.ensure_source("a", "directory");
  const std::vector<std::tuple<std::string, std::string, std::int64_t>> cases{
      {"nine.md", "1\n2\n3\n4\n5\n6\n7\n8\n9\n", 9}, {"open.txt", "first\nsecond", 2}, {"blank.txt", "words\n\n", 2},
      {"one.txt", "x", 1},                             {"empty.txt", "", 0},             {"newline.txt", "\n", 1}};
  for (const auto& [path, text, lines] : cases)
    store.put_document("a", {path, path, "text", "v1", "", text.size(), text}, {make_chunk(text.empty() ? "empty" : text)});
  Searcher s(store);
  for (const auto& [path, text, lines] : cases) {
    auto whole = s.get(json::object{{"source", "a"}, {"path", path}});
    ASSERT_TRUE(whole) << path;
    EXPECT_EQ(whole->at("total_lines").as_int64(), lines) << path;
    EXPECT_EQ(whole->at("line_end").as_int64(), lines) << path;
    EXPECT_EQ(whole->at("text").as_string(), text) << path;
  }
  auto range = [&](const char* path, int first, int last) {
    auto r = s.get(json::object{{"source", "a"}, {"path", path}, {"line_start", first}, {"line_end", last}});
    return r ? std::string(r->at("text").as_string()) + "|" + std::to_string(r->at("line_end").as_int64())
             : (r.failed() ? r.error().message : "cancelled");
  };
  EXPECT_EQ(range("nine.md", 9, 9), "9\n|9");
  EXPECT_EQ(range("nine.md", 8, 20), "8\n9\n|9");
  EXPECT_EQ(range("open.txt", 2, 2), "second|2");
  EXPECT_EQ(range("blank.txt", 2, 2), "\n|2");
  EXPECT_EQ(range("nine.md", 10, 10), "'line_start' is past the end of the document (9 lines)");
  EXPECT_EQ(range("empty.txt", 2, 2), "'line_start' is past the end of the document (0 lines)");
}

// updated_after is an ISO-8601 date or time, compared as a time with the indexing time whatever its
// offset; anything else is refused naming the argument, by search and list alike.
TEST(Searcher, UpdatedAfterIsAnIsoDateOrTime) {
  TempDir dir;
  const std::string db = (dir.path() / "kb.db").string();
  IndexStore store(db);
  store.ensure_source("a", "directory");
  store.put_document("a", {"x.md", "X", "markdown", "v1", "", 5, "alpha"}, {make_chunk("alpha")});
  mcpd::infra::SqliteDatabase(db).exec("UPDATE documents SET indexed_at = '2026-01-31T12:00:00Z'");
  Searcher s(store);
  const std::string expected = "'updated_after' must be an ISO-8601 date or time such as 2026-01-31 or 2026-01-31T12:00:00Z";
  for (std::string bad : {"yesterday", "2026-02-29", "2026-13-01", "2026-1-31", "2026-01-31T", "2026-01-31T12",
                          "2026-01-31T24:00", "2026-01-31T12:60", "2026-01-31T12:00:00.", "2026-01-31T12:00+2",
                          "2026-01-31T12:00+02:", "2026-01-31T12:00+24:00", "2026-01-31Z", " 2026-01-31", "2026-01-31T12:00Zulu"}) {
    for (bool search : {true, false}) {
      json::object args{{"updated_after", bad}};
      if (search) args["query"] = "alpha";
      auto r = search ? s.search(args) : s.list(args);
      ASSERT_TRUE(r.failed()) << bad;
      EXPECT_EQ(r.error().kind, mcpd::core::ErrorKind::InvalidArgument);
      EXPECT_EQ(r.error().message, expected + ", got '" + bad + "'");
    }
  }
  // A long value is not repeated back.
  auto long_value = s.list(json::object{{"updated_after", std::string(100, '9')}});
  ASSERT_TRUE(long_value.failed());
  EXPECT_EQ(long_value.error().message, expected);

  auto count = [&](const std::string& when) -> std::int64_t {
    auto listed = s.list(json::object{{"updated_after", when}});
    auto found = s.search(json::object{{"query", "alpha"}, {"updated_after", when}});
    if (!listed || !found) {
      ADD_FAILURE() << when;
      return -1;
    }
    EXPECT_EQ(listed->at("total").as_int64(), static_cast<std::int64_t>(found->at("count").as_uint64())) << when;
    return listed->at("total").as_int64();
  };
  // Indexed at 2026-01-31T12:00:00Z.
  EXPECT_EQ(count(""), 1);
  EXPECT_EQ(count("2026-01-31"), 1);
  EXPECT_EQ(count("2026-02-01"), 0);
  EXPECT_EQ(count("2024-02-29"), 1);
  EXPECT_EQ(count("2026-01-31T12:00"), 1);
  EXPECT_EQ(count("2026-01-31T12:00:00Z"), 1);
  EXPECT_EQ(count("2026-01-31t12:00:00z"), 1);
  EXPECT_EQ(count("2026-01-31 12:00:00"), 1);
  EXPECT_EQ(count("2026-01-31T12:00:00.999999Z"), 1);  // within the indexing second
  EXPECT_EQ(count("2026-01-31T12:00:01Z"), 0);
  EXPECT_EQ(count("2026-01-31T14:00:00+02:00"), 1);  // the same instant
  EXPECT_EQ(count("2026-01-31T14:00:01+02:00"), 0);
  EXPECT_EQ(count("2026-01-31T14:00:01+0200"), 0);
  EXPECT_EQ(count("2026-01-31T14:00+02"), 1);
  EXPECT_EQ(count("2026-01-31T07:00:00-05:00"), 1);
  EXPECT_EQ(count("2026-01-31T07:00:01-05:00"), 0);
  EXPECT_EQ(count("2026-01-30T23:30:00-12:30"), 1);   // 12:00:00Z
  EXPECT_EQ(count("2026-02-01T00:30:00+12:30"), 1);   // 12:00:00Z too, on the next day's date
  EXPECT_EQ(count("2026-02-01T00:30:01+12:30"), 0);
  EXPECT_EQ(count("0000-01-01T00:00:00+01:00"), 1);   // before the index's years: every document
  EXPECT_EQ(count("9999-12-31T23:59:59-12:00"), 0);   // after them: none
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

TEST(IndexErrors, SqliteFailuresBecomeErrorsOfTheRightKind) {
  using mcpd::core::ErrorKind;
  auto busy = index_error("searching", mcpd::infra::SqliteError("SQL step: database is locked", SQLITE_BUSY));
  EXPECT_EQ(busy.kind, ErrorKind::Unavailable);
  EXPECT_NE(busy.message.find("busy"), std::string::npos) << busy.message;
  EXPECT_EQ(busy.detail, "searching: SQL step: database is locked");  // SQLite's words: the log only
  EXPECT_EQ(busy.code, std::to_string(SQLITE_BUSY));
  EXPECT_EQ(index_error("x", mcpd::infra::SqliteError("", SQLITE_IOERR_SHORT_READ)).kind, ErrorKind::Unavailable);
  EXPECT_EQ(index_error("x", mcpd::infra::SqliteError("", SQLITE_FULL)).kind, ErrorKind::Unavailable);
  auto corrupt = index_error("x", mcpd::infra::SqliteError("database disk image is malformed", SQLITE_CORRUPT));
  EXPECT_EQ(corrupt.kind, ErrorKind::Internal);
  EXPECT_NE(corrupt.message.find("mcpd kb check"), std::string::npos) << corrupt.message;
  auto other = index_error("listing", mcpd::infra::SqliteError("no such table: documents", SQLITE_ERROR));
  EXPECT_EQ(other.kind, ErrorKind::Internal);
  EXPECT_EQ(other.message.find("no such table"), std::string::npos) << "the message carries an id, not SQLite's text";
  EXPECT_NE(other.message.find("(id "), std::string::npos) << other.message;
}

TEST(Searcher, ABrokenIndexIsAnErrorNotAnException) {
  TempDir dir;
  const std::string path = (dir.path() / "kb.db").string();
  IndexStore store(path);
  store.ensure_source("a", "directory");
  store.put_document("a", {"x.md", "X", "markdown", "v1", "", 5, "alpha"}, {make_chunk("alpha")});
  Searcher s(store);
  ASSERT_TRUE(s.list(json::object{}));
  // Another connection takes the table away (as a damaged or foreign file would).
  mcpd::infra::SqliteDatabase other(path);
  other.exec("DROP TABLE documents");
  mcpd::core::Result<json::object> listed = json::object{};
  ASSERT_NO_THROW(listed = s.list(json::object{}));
  ASSERT_TRUE(listed.failed());
  EXPECT_EQ(listed.error().kind, mcpd::core::ErrorKind::Internal);
  mcpd::core::Result<json::object> got = json::object{};
  ASSERT_NO_THROW(got = s.get(json::object{{"source", "a"}, {"path", "x.md"}}));
  EXPECT_TRUE(got.failed());
}

TEST(SyncEngine, AFailureOnTheJobThreadIsRecordedNotThrown) {
  TempDir dir;
  IndexStore store((dir.path() / "kb.db").string());
  SyncEngine engine(store, {}, {});
  ThrowingSource broken;
  SyncResult r;
  ASSERT_NO_THROW(r = engine.sync(broken));  // an exception here would end the job's thread, and the process
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.cancelled);
  EXPECT_NE(r.error.find("Internal error"), std::string::npos) << r.error;
  EXPECT_EQ(r.error.find("/secret/path"), std::string::npos) << "the exception's text goes to the log only";
  EXPECT_EQ(last_error(store, "broken"), r.error);

  // The index refusing a write: the same, and nothing half-written.
  TempDir root;
  write_file(root.path() / "a.md", "# A\n\napple\n");
  auto source = make_directory_source({"docs", root.path().string(), {}, {}});
  mcpd::infra::SqliteDatabase other((dir.path() / "kb.db").string());
  other.exec("CREATE TRIGGER refuse BEFORE INSERT ON documents BEGIN SELECT RAISE(FAIL, 'refused by a trigger'); END");
  SyncResult refused;
  ASSERT_NO_THROW(refused = engine.sync(*source));
  EXPECT_FALSE(refused.ok);
  EXPECT_NE(refused.error.find("Internal error"), std::string::npos) << refused.error;
  EXPECT_EQ(last_error(store, "docs"), refused.error);
  std::int64_t total = -1;
  EXPECT_TRUE(store.list({}, 10, 0, total).empty());
  EXPECT_EQ(total, 0);
  other.exec("DROP TRIGGER refuse");
  auto fixed = engine.sync(*source);
  EXPECT_TRUE(fixed.ok) << fixed.error;
  EXPECT_EQ(fixed.counts.added, 1u);
}

TEST(SyncEngine, ASourceThatCannotBeListedIsRecordedWithItsReason) {
  TempDir dir;
  IndexStore store((dir.path() / "kb.db").string());
  SyncEngine engine(store, {}, {});
  auto missing = make_directory_source({"gone", (dir.path() / "nope").string(), {}, {}});
  auto r = engine.sync(*missing);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("does not exist"), std::string::npos) << r.error;
  EXPECT_EQ(last_error(store, "gone"), r.error);
  // A cancelled run says so.
  std::atomic<bool> cancel{true};
  TempDir root;
  write_file(root.path() / "a.md", "# A\n\napple\n");
  auto source = make_directory_source({"docs", root.path().string(), {}, {}});
  auto cancelled = engine.sync(*source, {}, &cancel);
  EXPECT_FALSE(cancelled.ok);
  EXPECT_TRUE(cancelled.cancelled);
  EXPECT_EQ(cancelled.error, "cancelled");
  EXPECT_EQ(last_error(store, "docs"), "sync cancelled");
}
