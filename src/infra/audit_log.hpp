// The audit log: one row per tool call (time, principal, tool, arguments with secrets redacted,
// outcome, duration, rows/bytes touched) in a SQLite file, queried by `mcpd audit`.
//
// record() never touches the disk: it queues, and a writer thread stores the queue every 200 ms
// (or when 1,000 rows wait) in one transaction, so auditing costs a tool call about a
// microsecond. The queue is bounded (max_queue): when the disk cannot keep up, rows are dropped and
// counted (dropped(), the mcpd_audit_dropped_total metric, one warning per minute) rather than
// letting memory grow or calls wait.
//
// Start-up never waits for the database either: the constructor only checks that the file can be
// opened for writing; the writer thread opens it, creates the table, and keeps it within its
// retention and size cap by deleting the oldest rows in small batches between writes. Rows recorded
// before the database is open wait in the same bounded queue.
#pragma once
#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace mcpd::infra {

class SqliteDatabase;

struct AuditRecord {
  std::string time;        // ISO-8601 UTC with milliseconds; when empty, the writer formats `at`
  std::string principal;   // API key id, or "anonymous"
  std::string session;     // MCP session id (empty for one-shot REST calls)
  std::string tool;
  std::string arguments;   // JSON, secrets redacted, long strings shortened
  std::string outcome;     // ok, tool_error, busy, cancelled, unknown_tool
  std::string error;       // the error's first sentence (masked), when not ok
  double duration_ms = 0;
  std::optional<std::int64_t> rows;
  std::optional<std::int64_t> bytes;
  // Work left to the writer thread, off the caller's path: when `arguments` is empty,
  // redact(*raw_arguments) fills it; `at` (set by record()) becomes `time`.
  std::shared_ptr<const boost::json::object> raw_arguments;
  std::chrono::system_clock::time_point at{};
};

struct AuditQuery {
  std::string since{};     // ISO-8601 prefix compare (e.g. "2026-11-22" or "2026-11-22T10:00")
  std::string until{};
  std::string tool{};
  std::string principal{};
  std::string outcome{};   // "ok", "error" (every failure), or an exact outcome
  std::size_t limit = 100;
};

struct AuditSettings {
  static constexpr int kMaxRetentionDays = 36500;
  static constexpr std::uint64_t kMinBytes = 1ull << 20;   // 1 MiB
  static constexpr std::uint64_t kMaxBytes = 1ull << 40;   // 1 TiB

  int retention_days = 90;                 // rows older than this are deleted
  std::uint64_t max_bytes = 256ull << 20;  // the file is kept within this (plus one write batch)
  std::size_t max_queue = 100000;          // rows waiting to be stored; past it they are dropped

  // What is wrong with these settings, in one sentence naming the setting; empty when nothing is.
  std::string problem() const;
};

class AuditLog {
 public:
  // Checks that `path` can be opened for writing (creating its folder and an empty file), starts
  // the writer thread and returns: the database itself is opened, created and pruned there.
  // Throws std::invalid_argument on bad settings and std::runtime_error on an unusable path.
  explicit AuditLog(const std::string& path, AuditSettings settings = {});
  ~AuditLog();  // stores what is queued
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  void record(AuditRecord record);
  void flush();  // returns when everything recorded so far is stored (or dropped)
  std::uint64_t dropped() const { return dropped_.load(); }
  std::uint64_t stored() const { return stored_.load(); }
  std::uint64_t pruned() const { return pruned_.load(); }  // rows deleted for age or size

  // `arguments` as stored: secret values masked, strings over 256 characters shortened.
  static std::string redact(const boost::json::object& arguments);
  // The newest rows matching `query`, newest first (read-only; works while a server writes).
  static std::vector<AuditRecord> read(const std::string& path, const AuditQuery& query);

 private:
  void run();
  std::unique_ptr<SqliteDatabase> open_database();
  // Fills in what record() left to the writer; returns about how many bytes the rows will take.
  static std::int64_t prepare_batch(std::deque<AuditRecord>& batch);
  void write_batch(SqliteDatabase& db, const std::deque<AuditRecord>& batch);
  // Pruning, a bounded amount per call; each returns true when more is left to do.
  // Makes room for `incoming` bytes within the size cap by deleting the oldest rows.
  bool prune_by_size(SqliteDatabase& db, std::int64_t incoming);
  // Deletes rows past their retention.
  bool prune_by_age(SqliteDatabase& db);
  // Gives free pages back while the file is over the cap (a whole VACUUM, for a file from before
  // the cap, only when `may_compact`: not while shutting down).
  bool give_back_pages(SqliteDatabase& db, bool may_compact);

  std::string path_;
  AuditSettings settings_;
  std::mutex mutex_;
  std::condition_variable wake_, idle_;
  std::deque<AuditRecord> queue_;
  std::uint64_t enqueued_ = 0, written_ = 0;  // under mutex_: flush() waits for written_ == enqueued_
  bool stopping_ = false;
  bool flush_requested_ = false;
  std::atomic<std::uint64_t> dropped_{0}, stored_{0}, pruned_{0};
  bool compacted_ = false;  // writer thread only
  std::thread writer_;
};

}  // namespace mcpd::infra
