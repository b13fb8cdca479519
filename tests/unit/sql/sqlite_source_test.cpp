// The SQLite source: the sample database, typed rows, parameters, truncation, read-only in depth
// (refused statements change nothing), writes only where allowed, schema migrations, timeouts.
#include "packs/sql/sqlite_source.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "packs/sql/migrations.hpp"

using namespace mcpd::packs::sql;
using mcpd::core::Error;
using mcpd::core::ErrorKind;
using mcpd::core::Result;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() / ("mcpd-sql-test-" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

SourceSettings sample_settings(const TempDir& dir) {
  SourceSettings s;
  s.name = "sample";
  s.type = "sqlite";
  s.sample = true;
  s.path = (dir / "sample.db").string();
  return s;
}

SourceSettings writable_settings(const TempDir& dir, const std::string& file = "rw.db") {
  SourceSettings s;
  s.name = "rw";
  s.type = "sqlite";
  s.allow_writes = true;
  s.path = (dir / file).string();
  return s;
}

QueryRequest request(std::string sql, json::array params = {}, std::size_t max_rows = 100) {
  QueryRequest r;
  r.sql = std::move(sql);
  r.params = std::move(params);
  r.max_rows = max_rows;
  return r;
}

// The value of a call expected to succeed (else the test fails, and the value is empty).
template <class T>
T ok(Result<T> outcome) {
  if (outcome.failed()) ADD_FAILURE() << "unexpected error: " << outcome.error().message;
  if (outcome.cancelled()) ADD_FAILURE() << "unexpectedly cancelled";
  return outcome ? std::move(outcome).value() : T{};
}

// The error of a call expected to fail (else the test fails, and the error is an empty Internal one).
template <class T>
Error failed(const Result<T>& outcome) {
  if (outcome.failed()) return outcome.error();
  ADD_FAILURE() << (outcome.cancelled() ? "expected an error, the call was cancelled" : "expected an error, got a value");
  return {};
}

std::int64_t count(SqliteSource& source, const std::string& table) {
  auto r = ok(source.query(request("SELECT count(*) AS n FROM " + table)));
  return r.rows.empty() ? -1 : r.rows[0].as_object().at("n").as_int64();
}

}  // namespace

TEST(SqliteSource, CreatesTheSampleDatabaseOnceWithItsTables) {
  TempDir dir;
  {
    SqliteSource source(sample_settings(dir));
    auto tables = ok(source.list_tables());
    std::vector<std::string> names;
    for (const auto& t : tables) names.push_back(t.name);
    EXPECT_EQ(names, (std::vector<std::string>{"documents", "processing_logs"}));
    EXPECT_EQ(count(source, "documents"), 5);
    EXPECT_EQ(count(source, "processing_logs"), 8);
  }
  SqliteSource again(sample_settings(dir));  // a second start keeps what is there
  EXPECT_EQ(count(again, "documents"), 5);
}

TEST(SqliteSource, ReturnsTypedRowsAndColumnTypes) {
  TempDir dir;
  SqliteSource source(sample_settings(dir));
  auto r = ok(source.query(request(
      "SELECT id, file_name, validation_score, NULL AS nada, x'4869' AS bytes, 9007199254740993 AS big, "
      "1 + 1 AS two, metadata FROM documents WHERE id = 1")));
  ASSERT_EQ(r.rows.size(), 1u);
  const auto& row = r.rows[0].as_object();
  EXPECT_EQ(row.at("id").as_int64(), 1);
  EXPECT_EQ(row.at("file_name").as_string(), "inv-0001.pdf");
  EXPECT_DOUBLE_EQ(row.at("validation_score").as_double(), 0.97);
  EXPECT_TRUE(row.at("nada").is_null());
  EXPECT_EQ(row.at("bytes").as_string(), "SGk=");               // base64 of "Hi"
  EXPECT_EQ(row.at("big").as_string(), "9007199254740993");     // beyond 2^53: exact, as a string
  EXPECT_EQ(row.at("two").as_int64(), 2);
  EXPECT_TRUE(row.at("metadata").is_string());
  ASSERT_EQ(r.columns.size(), 8u);
  EXPECT_EQ(r.columns[0].type, "integer");  // declared
  EXPECT_EQ(r.columns[1].type, "text");
  EXPECT_EQ(r.columns[2].type, "real");
  EXPECT_EQ(r.columns[3].type, "null");     // an expression that is always NULL
  EXPECT_EQ(r.columns[4].type, "blob");     // an expression: its value's storage class
  EXPECT_FALSE(r.truncated);
}

TEST(SqliteSource, BindsParametersInOrderAndChecksTheirNumber) {
  TempDir dir;
  SqliteSource source(sample_settings(dir));
  auto r = ok(source.query(request("SELECT id FROM documents WHERE document_type = ? AND id > ?2 ORDER BY id",
                                   json::array{"invoice", 1})));
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].as_object().at("id").as_int64(), 3);

  auto named = ok(source.query(request("SELECT :a || '-' || :b AS s, ? IS NULL AS n", json::array{"x", true, nullptr})));
  EXPECT_EQ(named.rows[0].as_object().at("s").as_string(), "x-1");
  EXPECT_EQ(named.rows[0].as_object().at("n").as_int64(), 1);

  // An injection attempt through a parameter is only a value.
  auto injected = ok(source.query(request("SELECT count(*) AS n FROM documents WHERE file_name = ?",
                                          json::array{"x'; DROP TABLE documents; --"})));
  EXPECT_EQ(injected.rows[0].as_object().at("n").as_int64(), 0);
  EXPECT_EQ(count(source, "documents"), 5);

  auto wrong = failed(source.query(request("SELECT ? + ?", json::array{1})));
  EXPECT_EQ(wrong.kind, ErrorKind::InvalidArgument);
  EXPECT_NE(wrong.message.find("2 parameter(s)"), std::string::npos) << wrong.message;
}

TEST(SqliteSource, TruncatesAtMaxRowsAndSaysSo) {
  TempDir dir;
  SqliteSource source(sample_settings(dir));
  auto cut = ok(source.query(request("SELECT id FROM documents ORDER BY id", {}, 2)));
  EXPECT_EQ(cut.rows.size(), 2u);
  EXPECT_TRUE(cut.truncated);
  auto whole = ok(source.query(request("SELECT id FROM documents ORDER BY id", {}, 5)));
  EXPECT_EQ(whole.rows.size(), 5u);
  EXPECT_FALSE(whole.truncated);

  // The source's max_rows is a hard cap over what the call asks for.
  auto settings = sample_settings(dir);
  settings.max_rows = 3;
  SqliteSource capped(settings);
  auto r = ok(capped.query(request("SELECT id FROM documents", {}, 1000)));
  EXPECT_EQ(r.rows.size(), 3u);
  EXPECT_TRUE(r.truncated);
}

TEST(SqliteSource, ALargeResultIsCutBySizeAndNoValueMayExceedIt) {
  TempDir dir;
  SqliteSource source(sample_settings(dir));
  // 100 rows of 1 MB: the rows stop at 16 MiB of values, whatever max_rows says.
  auto big = ok(source.query(request(
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 100) SELECT x, zeroblob(1000000) AS b FROM c",
      {}, 100)));
  EXPECT_TRUE(big.truncated);
  EXPECT_TRUE(big.truncated_by_size);
  EXPECT_EQ(big.rows.size(), kMaxResultBytes / 1000000);
  EXPECT_EQ(big.rows[0].as_object().at("x").as_int64(), 1);  // numbers keep their type
  // One value larger than a whole result is refused by SQLite itself, with a clear error.
  auto huge = failed(source.query(request("SELECT randomblob(900000000)", {}, 1)));
  EXPECT_EQ(huge.kind, ErrorKind::InvalidArgument);
  EXPECT_NE(huge.message.find("too big"), std::string::npos) << huge.message;
}

TEST(SqliteSource, RefusedWritesLeaveTheDatabaseUnchanged) {
  TempDir dir;
  SqliteSource source(sample_settings(dir));
  const std::vector<std::string> attempts = {
      "DELETE FROM documents",
      "SELECT 1; DELETE FROM documents",
      "SELECT * FROM documents; --\nDROP TABLE documents",
      "/* a comment */ dElEtE FROM documents",
      "WITH d AS (SELECT 1) INSERT INTO documents (s3_key, document_type, file_name) VALUES ('k', 't', 'f')",
      "UPDATE documents SET status = 'x'",
      "DROP TABLE processing_logs",
      "CREATE TABLE evil (x)",
      "ATTACH DATABASE '" + (dir / "evil.db").string() + "' AS evil",
      "PRAGMA user_version = 42",
      "PRAGMA journal_mode = DELETE",
      "BEGIN; DELETE FROM documents; COMMIT",
      "REPLACE INTO documents (id, s3_key, document_type, file_name) VALUES (1, 'k', 't', 'f')",
      "VACUUM INTO '" + (dir / "copy.db").string() + "'",
  };
  for (const auto& sql : attempts) {
    auto e = failed(source.query(request(sql)));
    EXPECT_EQ(e.kind, ErrorKind::Refused) << sql << " -> " << e.message;
  }
  EXPECT_EQ(count(source, "documents"), 5);
  EXPECT_EQ(count(source, "processing_logs"), 8);
  auto version = ok(source.query(request("PRAGMA user_version")));
  EXPECT_EQ(version.rows[0].as_object().at("user_version").as_int64(), 1);
  EXPECT_FALSE(fs::exists(dir / "evil.db"));
  EXPECT_FALSE(fs::exists(dir / "copy.db"));
}

TEST(SqliteSource, ExecuteIsRefusedWhenWritesAreOff) {
  TempDir dir;
  SqliteSource source(sample_settings(dir));
  auto e = failed(source.execute(request("DELETE FROM documents")));
  EXPECT_EQ(e.kind, ErrorKind::Refused);
  EXPECT_NE(e.message.find("allow_writes = true"), std::string::npos) << e.message;
  EXPECT_EQ(failed(source.init_schema({inline_migration("CREATE TABLE t (x)")}, false)).kind, ErrorKind::Refused);
  EXPECT_EQ(count(source, "documents"), 5);
}

TEST(SqliteSource, ExecuteWritesOneStatementInItsOwnTransaction) {
  TempDir dir;
  SqliteSource source(writable_settings(dir));
  ok(source.execute(request("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")));
  auto inserted = ok(source.execute(request("INSERT INTO notes (body) VALUES (?), (?) RETURNING id", json::array{"a", "b"})));
  ASSERT_TRUE(inserted.rows_affected.has_value());
  EXPECT_EQ(*inserted.rows_affected, 2);
  EXPECT_EQ(inserted.rows.size(), 2u);
  EXPECT_EQ(count(source, "notes"), 2);

  // Reads stay read-only on a writable source.
  EXPECT_EQ(failed(source.query(request("DELETE FROM notes"))).kind, ErrorKind::Refused);
  // One statement, no transaction control.
  EXPECT_EQ(failed(source.execute(request("DELETE FROM notes; DELETE FROM notes"))).kind, ErrorKind::Refused);
  EXPECT_EQ(failed(source.execute(request("BEGIN"))).kind, ErrorKind::Refused);
  // A failing statement changes nothing; the database refused it, so it is the caller's to fix.
  auto e = failed(source.execute(request("INSERT INTO notes (id, body) VALUES (1, 'dup')")));
  EXPECT_EQ(e.kind, ErrorKind::InvalidArgument);
  EXPECT_NE(e.message.find("UNIQUE"), std::string::npos) << e.message;
  EXPECT_EQ(count(source, "notes"), 2);
}

TEST(SqliteSource, DescribesTables) {
  TempDir dir;
  SqliteSource source(sample_settings(dir));
  auto schema = ok(source.describe_table("documents"));
  EXPECT_EQ(schema.name, "documents");
  EXPECT_EQ(schema.primary_key, (std::vector<std::string>{"id"}));
  ASSERT_FALSE(schema.columns.empty());
  EXPECT_EQ(schema.columns[0].name, "id");
  auto status = std::find_if(schema.columns.begin(), schema.columns.end(), [](const ColumnInfo& c) { return c.name == "status"; });
  ASSERT_NE(status, schema.columns.end());
  EXPECT_FALSE(status->nullable);
  EXPECT_EQ(status->default_value.value_or(""), "'pending'");
  auto missing = failed(source.describe_table("nope"));
  EXPECT_EQ(missing.kind, ErrorKind::NotFound);
  EXPECT_NE(missing.message.find("no table or view named 'nope'"), std::string::npos) << missing.message;
}

TEST(SqliteSource, InitSchemaAppliesEachMigrationOnce) {
  TempDir dir;
  SqliteSource source(writable_settings(dir));
  fs::create_directories(dir / "migrations");
  std::ofstream(dir / "migrations" / "001_notes.sql") << "CREATE TABLE notes (id INTEGER PRIMARY KEY);\n";
  std::ofstream(dir / "migrations" / "002_tags.sql")
      << "CREATE TABLE tags (id INTEGER PRIMARY KEY, note_id INTEGER REFERENCES notes(id));\n"
         "CREATE TRIGGER tags_guard BEFORE INSERT ON tags BEGIN SELECT 1; SELECT 2; END;\n";
  auto migrations = ok(load_migrations((dir / "migrations").string()));
  ASSERT_EQ(migrations.size(), 2u);

  auto dry = ok(source.init_schema(migrations, true));
  EXPECT_EQ(dry.applied.size(), 2u);
  EXPECT_EQ(failed(source.describe_table("notes")).kind, ErrorKind::NotFound);  // rolled back

  auto first = ok(source.init_schema(migrations, false));
  EXPECT_EQ(first.applied.size(), 2u);
  EXPECT_TRUE(first.already_applied.empty());
  auto second = ok(source.init_schema(migrations, false));
  EXPECT_TRUE(second.applied.empty());
  EXPECT_EQ(second.already_applied, (std::vector<std::string>{"001_notes.sql", "002_tags.sql"}));

  // An applied file that changed is an error naming it; nothing else is applied with it.
  std::ofstream(dir / "migrations" / "001_notes.sql") << "CREATE TABLE notes (id INTEGER PRIMARY KEY, x TEXT);\n";
  std::ofstream(dir / "migrations" / "003_more.sql") << "CREATE TABLE more (id INTEGER);\n";
  auto changed = failed(source.init_schema(ok(load_migrations((dir / "migrations").string())), false));
  EXPECT_EQ(changed.kind, ErrorKind::InvalidArgument);
  EXPECT_NE(changed.message.find("001_notes.sql"), std::string::npos) << changed.message;
  EXPECT_EQ(failed(source.describe_table("more")).kind, ErrorKind::NotFound);

  // Transaction control inside a migration is refused before anything runs.
  auto sneaky = failed(source.init_schema({inline_migration("CREATE TABLE a (x); COMMIT; CREATE TABLE b (x)")}, false));
  EXPECT_EQ(sneaky.kind, ErrorKind::Refused);
  EXPECT_EQ(failed(source.describe_table("a")).kind, ErrorKind::NotFound);

  // A folder with no migration in it is the caller's mistake, named as such.
  fs::create_directories(dir / "empty");
  auto none = failed(load_migrations((dir / "empty").string()));
  EXPECT_EQ(none.kind, ErrorKind::InvalidArgument);
  EXPECT_NE(none.message.find("holds no *.sql file"), std::string::npos) << none.message;
}

TEST(SqliteSource, StopsAStatementAtItsTimeLimit) {
  TempDir dir;
  auto settings = sample_settings(dir);
  settings.statement_timeout = std::chrono::milliseconds(50);
  SqliteSource source(settings);
  auto e = failed(source.query(request("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                                       "SELECT count(*) FROM c")));
  EXPECT_EQ(e.kind, ErrorKind::Timeout) << e.message;
  EXPECT_EQ(count(source, "documents"), 5);  // the connection is still fine
}

// A cancelled call is not an error: it gets no answer at all (the dispatcher sends none).
TEST(SqliteSource, ACancelledCallStopsItsStatementAndIsNoError) {
  TempDir dir;
  SqliteSource source(sample_settings(dir));  // statement_timeout 5 s bounds the statement should the check fail
  auto endless = request("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c");
  endless.cancelled = [] { return true; };
  auto out = source.query(endless);
  EXPECT_TRUE(out.cancelled()) << (out.failed() ? out.error().message : "it answered");
  EXPECT_EQ(count(source, "documents"), 5);  // the connection is still fine
}

TEST(SqliteSource, AMissingFileIsAConfigurationErrorUnlessWritesAreAllowed) {
  TempDir dir;
  SourceSettings s;
  s.name = "missing";
  s.type = "sqlite";
  s.path = (dir / "nope.db").string();
  EXPECT_THROW(SqliteSource{s}, std::invalid_argument);
  EXPECT_FALSE(fs::exists(dir / "nope.db"));
  s.allow_writes = true;
  SqliteSource created(s);
  EXPECT_TRUE(fs::exists(dir / "nope.db"));
  EXPECT_EQ(created.health().status, "ok");
}
