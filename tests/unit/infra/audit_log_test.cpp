// The audit log: rows stored and read back with filters, secrets redacted, long values shortened,
// a full queue counted instead of growing, rows kept while the database cannot be opened yet,
// pruning by age and by size (the file stays within its cap), bad settings refused.
#include <gtest/gtest.h>

#include <sqlite3.h>

#include <filesystem>

#include "infra/audit_log.hpp"
#include "infra/sqlite.hpp"

using namespace mcpd::infra;
namespace json = boost::json;

namespace {

struct TempFile {
  std::filesystem::path path;
  TempFile() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mcpd-audit-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path = std::filesystem::path(tmpl) / "audit.db";
  }
  ~TempFile() { std::filesystem::remove_all(path.parent_path()); }
};

AuditRecord call(std::string tool, std::string outcome, std::string principal = "key-1") {
  AuditRecord r;
  r.principal = std::move(principal);
  r.tool = std::move(tool);
  r.outcome = std::move(outcome);
  r.arguments = "{}";
  r.duration_ms = 1.5;
  return r;
}

}  // namespace

TEST(AuditLog, StoresEveryCallAndFiltersThem) {
  TempFile f;
  {
    AuditLog log(f.path.string());
    for (int i = 0; i < 2500; ++i) log.record(call(i % 2 ? "sql_query" : "s3_get_object", i % 5 ? "ok" : "tool_error"));
    auto with_rows = call("sql_query", "ok", "key-2");
    with_rows.rows = 42;
    log.record(with_rows);
    log.flush();
    EXPECT_EQ(log.stored(), 2501u);
    EXPECT_EQ(log.dropped(), 0u);
    // Readable while the server still writes.
    auto newest = AuditLog::read(f.path.string(), AuditQuery{.limit = 1});
    ASSERT_EQ(newest.size(), 1u);
    EXPECT_EQ(newest[0].principal, "key-2");
    EXPECT_EQ(newest[0].rows, 42);
    EXPECT_FALSE(newest[0].bytes.has_value());
    EXPECT_EQ(newest[0].time.size(), 24u) << newest[0].time;  // 2026-11-22T10:00:00.123Z
  }
  auto q = [&](AuditQuery query) { return AuditLog::read(f.path.string(), query).size(); };
  EXPECT_EQ(q({.limit = 100000}), 2501u);
  EXPECT_EQ(q({.tool = "sql_query", .limit = 100000}), 1251u);
  EXPECT_EQ(q({.outcome = "error", .limit = 100000}), 500u);
  EXPECT_EQ(q({.outcome = "tool_error", .limit = 100000}), 500u);
  EXPECT_EQ(q({.principal = "key-2", .limit = 100000}), 1u);
  EXPECT_EQ(q({.since = "2999", .limit = 100000}), 0u);
  EXPECT_EQ(q({.until = "2000", .limit = 100000}), 0u);
  EXPECT_EQ(q({.limit = 10}), 10u);
}

TEST(AuditLog, RedactsSecretsAndShortensLongValues) {
  auto args = json::parse(R"({"sql":"SELECT 1","password":"hunter2","nested":{"api_key":"sk-abc"},
                              "content":")" + std::string(5000, 'x') + R"("})").as_object();
  auto stored = json::parse(AuditLog::redact(args)).as_object();
  EXPECT_EQ(stored.at("sql").as_string(), "SELECT 1");
  EXPECT_EQ(AuditLog::redact(args).find("hunter2"), std::string::npos);
  EXPECT_EQ(AuditLog::redact(args).find("sk-abc"), std::string::npos);
  auto content = std::string(stored.at("content").as_string());
  EXPECT_LT(content.size(), 300u);
  EXPECT_NE(content.find("(5000 bytes)"), std::string::npos) << content;
}

TEST(AuditLog, AFullQueueIsCountedNotGrown) {
  TempFile f;
  AuditLog log(f.path.string(), {.max_queue = 0});  // room for nothing
  for (int i = 0; i < 10; ++i) log.record(call("echo", "ok"));
  log.flush();
  EXPECT_EQ(log.dropped(), 10u);
  EXPECT_EQ(log.stored(), 0u);
}

TEST(AuditLog, DropsRowsPastTheirRetention) {
  TempFile f;
  // Rows already in the file, from an earlier run: one far past any retention, one recent.
  {
    AuditLog log(f.path.string());
    log.record(call("echo", "ok"));
  }
  {
    SqliteDatabase db(f.path.string());
    db.exec("INSERT INTO audit(time, principal, session, tool, arguments, outcome, error, duration_ms) "
            "VALUES ('2001-01-01T00:00:00.000Z', 'key-1', '', 'echo', '{}', 'ok', '', 1)");
  }
  ASSERT_EQ(AuditLog::read(f.path.string(), {}).size(), 2u);
  AuditLog log(f.path.string(), {.retention_days = 30});
  // And rows recorded while the server runs: pruning is not only a start-up step. The old row comes
  // after a new one, so pruning follows the time, not the order of insertion.
  log.record(call("echo", "ok"));
  auto old = call("echo", "ok");
  old.time = "2002-01-01T00:00:00.000Z";
  log.record(old);
  log.flush();
  auto left = AuditLog::read(f.path.string(), {});
  ASSERT_EQ(left.size(), 2u);
  for (auto& r : left) EXPECT_GT(r.time, std::string("2020")) << r.time;
  EXPECT_EQ(log.pruned(), 2u);
  EXPECT_EQ(log.dropped(), 0u);
  EXPECT_THROW(AuditLog::read((f.path.parent_path() / "none.db").string(), {}), std::runtime_error);
}

TEST(AuditLog, KeepsWhatIsRecordedBeforeTheDatabaseOpens) {
  TempFile f;
  // Another process holds the file locked (a rollback-journal database in an exclusive
  // transaction: nobody can even read it), as a slow disk or a long VACUUM would.
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(f.path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "PRAGMA journal_mode=DELETE; CREATE TABLE other(a); BEGIN EXCLUSIVE; INSERT INTO other VALUES (1);",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  {
    // The constructor does not wait for the database (it would fail after the busy timeout).
    AuditLog log(f.path.string());
    for (int i = 0; i < 50; ++i) log.record(call("echo", "ok"));
    EXPECT_EQ(log.stored(), 0u);  // nothing can be written while the lock is held
    ASSERT_EQ(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(other);
    log.flush();
    EXPECT_EQ(log.stored(), 50u);
    EXPECT_EQ(log.dropped(), 0u);
  }
  EXPECT_EQ(AuditLog::read(f.path.string(), {.limit = 1000}).size(), 50u);
}

namespace {

std::uintmax_t file_bytes(const std::filesystem::path& p) {
  std::error_code ec;
  auto main = std::filesystem::file_size(p, ec);
  return ec ? 0 : main;
}

// The database's size as a reader sees it: pages in the file and those the WAL adds.
std::int64_t database_bytes(const std::filesystem::path& p) {
  SqliteDatabase db(p.string(), true);
  auto pages = db.prepare("PRAGMA page_count");
  auto size = db.prepare("PRAGMA page_size");
  pages.step();
  size.step();
  return pages.int64(0) * size.int64(0);
}

// A call whose stored arguments take about `bytes` (distinct strings, so nothing compresses).
AuditRecord sized_call(int i, std::size_t bytes) {
  auto r = call("sql_query", "ok");
  std::string text;
  for (std::size_t k = 0; text.size() < bytes; ++k) text += std::to_string(i * 7919 + k) + ",";
  r.arguments = R"({"sql":")" + text + R"("})";
  return r;
}

}  // namespace

TEST(AuditLog, PruningBySizeKeepsTheFileWithinItsCap) {
  TempFile f;
  constexpr std::uint64_t kCap = 2u << 20;  // 2 MiB
  std::int64_t largest = 0, wal_largest = 0;
  int last = 0;
  {
    AuditLog log(f.path.string(), {.max_bytes = kCap});
    // 20 MiB of rows (ten times the cap) in batches of 500; after each, the database's size as a
    // reader sees it (the file with what the WAL adds to it).
    for (int round = 0; round < 40; ++round) {
      for (int i = 0; i < 500; ++i) log.record(sized_call(++last, 1000));
      log.flush();
      largest = std::max(largest, database_bytes(f.path));
      wal_largest = std::max<std::int64_t>(wal_largest, static_cast<std::int64_t>(file_bytes(f.path.string() + "-wal")));
    }
    EXPECT_EQ(log.stored(), 20000u);
    EXPECT_EQ(log.dropped(), 0u);
    EXPECT_GT(log.pruned(), 15000u);
  }
  // Bounded all along, not only at the end: free pages are reused by new rows.
  EXPECT_LE(largest, static_cast<std::int64_t>(kCap));
  EXPECT_LE(wal_largest, 8 << 20);  // the WAL: checkpointed every ~4 MB and cut back to 4 MB
  // Closed, the WAL is folded in and the file itself is within the cap, holding the newest rows.
  auto size_at_end = file_bytes(f.path);
  EXPECT_LE(size_at_end, kCap);
  EXPECT_GT(size_at_end, kCap / 2);  // it kept what fits, rather than deleting everything
  auto rows = AuditLog::read(f.path.string(), {.limit = 100000});
  ASSERT_GT(rows.size(), 500u);
  EXPECT_LT(rows.size(), 2000u);
  EXPECT_EQ(rows.front().arguments, sized_call(last, 1000).arguments);  // the newest call is there
}

TEST(AuditLog, AFileFromBeforeTheCapIsBroughtWithinIt) {
  TempFile f;
  // 6 MiB of rows written without the cap, and without incremental auto-vacuum (as older
  // versions created the file): deleting rows alone would not shrink it.
  {
    SqliteDatabase db(f.path.string());
    db.exec("CREATE TABLE audit (id INTEGER PRIMARY KEY, time TEXT NOT NULL, principal TEXT NOT NULL, session TEXT NOT NULL,"
            " tool TEXT NOT NULL, arguments TEXT NOT NULL, outcome TEXT NOT NULL, error TEXT NOT NULL,"
            " duration_ms REAL NOT NULL, rows INTEGER, bytes INTEGER)");
    db.exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 6000) "
            "INSERT INTO audit(time, principal, session, tool, arguments, outcome, error, duration_ms) "
            "SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'key-1', '', 'echo', hex(randomblob(500)), 'ok', '', 1 FROM n");
  }
  ASSERT_GT(file_bytes(f.path), 6u << 20);
  constexpr std::uint64_t kCap = 2u << 20;
  {
    AuditLog log(f.path.string(), {.max_bytes = kCap});
    log.record(call("echo", "ok"));
    log.flush();
    EXPECT_GT(log.pruned(), 3000u);
  }
  EXPECT_LE(file_bytes(f.path), kCap);
  auto newest = AuditLog::read(f.path.string(), {.limit = 1});
  ASSERT_EQ(newest.size(), 1u);
  EXPECT_EQ(newest[0].principal, "key-1");
  EXPECT_EQ(newest[0].arguments, "{}");
}

TEST(AuditLog, RefusesBadSettingsAndUnusablePaths) {
  TempFile f;
  auto problem = [](AuditSettings s) { return s.problem(); };
  EXPECT_NE(problem({.retention_days = 0}).find("audit.retention_days"), std::string::npos);
  EXPECT_NE(problem({.retention_days = 40000}).find("audit.retention_days"), std::string::npos);
  EXPECT_NE(problem({.max_bytes = 1000}).find("audit.max_bytes"), std::string::npos);
  EXPECT_NE(problem({.max_bytes = AuditSettings::kMaxBytes + 1}).find("audit.max_bytes"), std::string::npos);
  EXPECT_EQ(problem({}), "");
  EXPECT_THROW(AuditLog(f.path.string(), {.max_bytes = 1000}), std::invalid_argument);
  EXPECT_FALSE(std::filesystem::exists(f.path));  // a refused setting changes nothing
  // A folder where the file should be: refused at once, not discovered later by the writer.
  std::filesystem::create_directories(f.path);
  EXPECT_THROW(AuditLog(f.path.string()), std::runtime_error);
}
