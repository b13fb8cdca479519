// The audit log: rows stored and read back with filters, secrets redacted, long values shortened,
// a full queue counted instead of growing, retention at start-up.
#include <gtest/gtest.h>

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
  AuditLog log(f.path.string(), 90, 0);  // room for nothing
  for (int i = 0; i < 10; ++i) log.record(call("echo", "ok"));
  log.flush();
  EXPECT_EQ(log.dropped(), 10u);
  EXPECT_EQ(log.stored(), 0u);
}

TEST(AuditLog, DropsRowsPastTheirRetentionAtStart) {
  TempFile f;
  {
    AuditLog log(f.path.string());
    auto old = call("echo", "ok");
    old.time = "2001-01-01T00:00:00.000Z";
    log.record(old);
    log.record(call("echo", "ok"));
  }
  EXPECT_EQ(AuditLog::read(f.path.string(), {}).size(), 2u);
  { AuditLog reopened(f.path.string(), 30); }
  auto left = AuditLog::read(f.path.string(), {});
  ASSERT_EQ(left.size(), 1u);
  EXPECT_NE(left[0].time.substr(0, 4), "2001");
  EXPECT_THROW(AuditLog::read((f.path.parent_path() / "none.db").string(), {}), std::runtime_error);
}
