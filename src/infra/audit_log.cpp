// AuditLog implementation: a bounded queue, a writer thread, one SQLite table.
#include "infra/audit_log.hpp"

#include <chrono>
#include <ctime>
#include <filesystem>

#include "infra/logging.hpp"
#include "infra/masking.hpp"
#include "infra/sqlite.hpp"

namespace mcpd::infra {

namespace json = boost::json;

namespace {

constexpr const char* kSchema = R"SQL(
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY,
  time TEXT NOT NULL,
  principal TEXT NOT NULL,
  session TEXT NOT NULL,
  tool TEXT NOT NULL,
  arguments TEXT NOT NULL,
  outcome TEXT NOT NULL,
  error TEXT NOT NULL,
  duration_ms REAL NOT NULL,
  rows INTEGER,
  bytes INTEGER);
)SQL";

constexpr std::size_t kBatch = 1000;
constexpr auto kInterval = std::chrono::milliseconds(200);
constexpr std::size_t kLongString = 256;

// "2026-11-22T10:00:00" (UTC), with ".123Z" when `millis`.
std::string iso_utc(std::chrono::system_clock::time_point when, bool millis) {
  std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out(buf, n);
  if (millis) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count() % 1000;
    char fraction[16];
    std::snprintf(fraction, sizeof fraction, ".%03dZ", static_cast<int>(ms));
    out += fraction;
  }
  return out;
}

// Long strings (object contents, big SQL) are kept as their start and length: the log says what
// was called without becoming a copy of the data.
void shorten(json::value& v) {
  if (v.is_string()) {
    auto& s = v.get_string();
    if (s.size() > kLongString) {
      std::size_t cut = kLongString;
      while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 character
      s = json::string(std::string(s.subview(0, cut)) + "…(" + std::to_string(s.size()) + " bytes)");
    }
  } else if (v.is_array()) {
    for (auto& x : v.get_array()) shorten(x);
  } else if (v.is_object()) {
    for (auto& [k, x] : v.get_object()) shorten(x);
  }
}

}  // namespace

std::string AuditLog::redact(const json::object& arguments) {
  json::value v(arguments);
  shorten(v);  // first: the masking's regular expressions must never see a long string
  mask_json(v);
  return json::serialize(v);
}

AuditLog::AuditLog(const std::string& path, int retention_days, std::size_t max_queue)
    : path_(path), max_queue_(max_queue) {
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  {
    SqliteDatabase db(path);
    db.exec(kSchema);
    // Retention: rows older than `retention_days` go at start-up (a server restarts often enough).
    auto cutoff = std::chrono::system_clock::now() - std::chrono::hours(24) * retention_days;
    db.prepare("DELETE FROM audit WHERE time < ?1").bind(1, iso_utc(cutoff, false)).run();
  }
  writer_ = std::thread([this] { run(); });
}

AuditLog::~AuditLog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  writer_.join();
}

void AuditLog::record(AuditRecord record) {
  if (record.time.empty()) record.at = std::chrono::system_clock::now();
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= max_queue_) {
      dropped_.fetch_add(1);
      return;
    }
    queue_.push_back(std::move(record));
    ++enqueued_;
    if (queue_.size() < kBatch) return;
  }
  wake_.notify_one();
}

void AuditLog::flush() {
  std::unique_lock lock(mutex_);
  const std::uint64_t target = enqueued_;
  flush_requested_ = true;
  wake_.notify_one();
  idle_.wait(lock, [&] { return written_ >= target || stopping_; });
}

void AuditLog::run() {
  std::unique_ptr<SqliteDatabase> opened;
  try {
    opened = std::make_unique<SqliteDatabase>(path_);
  } catch (const std::exception& e) {
    // The constructor opened the same file a moment ago; if it fails now, record nothing rather
    // than end the process (every row is counted as dropped).
    log::error("audit: cannot open the audit log; tool calls are not recorded", {{"file", path_}, {"error", e.what()}});
  }
  auto write_batch = [&](std::deque<AuditRecord>& batch) {
    if (!opened) throw std::runtime_error("the audit log is not open");
    SqliteDatabase& db = *opened;
    SqliteTransaction tx(db);
    auto insert = db.cached(
        "INSERT INTO audit(time, principal, session, tool, arguments, outcome, error, duration_ms, rows, bytes) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    for (auto& r : batch) {
      if (r.time.empty()) r.time = iso_utc(r.at, true);
      if (r.arguments.empty()) r.arguments = r.raw_arguments ? redact(*r.raw_arguments) : "{}";
      if (r.principal.empty()) r.principal = "anonymous";
      insert->bind(1, r.time).bind(2, r.principal).bind(3, r.session).bind(4, r.tool).bind(5, r.arguments);
      insert->bind(6, r.outcome).bind(7, r.error).bind(8, r.duration_ms);
      if (r.rows) insert->bind(9, *r.rows);
      else insert->bind_null(9);
      if (r.bytes) insert->bind(10, *r.bytes);
      else insert->bind_null(10);
      insert->run();
      insert->reset();
    }
    tx.commit();
    stored_.fetch_add(batch.size());
  };

  auto last_warning = std::chrono::steady_clock::now() - std::chrono::minutes(2);
  std::uint64_t dropped_reported = 0;
  for (;;) {
    std::deque<AuditRecord> batch;
    bool stop;
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, kInterval, [&] { return stopping_ || flush_requested_ || queue_.size() >= kBatch; });
      flush_requested_ = false;
      batch.swap(queue_);
      stop = stopping_;
    }
    if (!batch.empty()) {
      try {
        write_batch(batch);
      } catch (const std::exception& e) {
        dropped_.fetch_add(batch.size());
        log::error("audit: could not store tool calls", {{"count", batch.size()}, {"error", e.what()}});
      }
    }
    if (auto d = dropped_.load(); d > dropped_reported && std::chrono::steady_clock::now() - last_warning > std::chrono::minutes(1)) {
      log::warn("audit: tool calls were not recorded (the queue was full or the file unwritable)",
                {{"dropped_total", d}, {"file", path_}});
      dropped_reported = d;
      last_warning = std::chrono::steady_clock::now();
    }
    {
      std::lock_guard lock(mutex_);
      written_ += batch.size();
    }
    idle_.notify_all();
    if (stop) {
      std::lock_guard lock(mutex_);
      if (queue_.empty()) return;
    }
  }
}

std::vector<AuditRecord> AuditLog::read(const std::string& path, const AuditQuery& q) {
  if (!std::filesystem::exists(path)) throw std::runtime_error("no audit log at " + path);
  SqliteDatabase db(path, true);
  std::string sql =
      "SELECT time, principal, session, tool, arguments, outcome, error, duration_ms, rows, bytes FROM audit WHERE 1";
  if (!q.since.empty()) sql += " AND time >= ?1";
  if (!q.until.empty()) sql += " AND time < ?2";
  if (!q.tool.empty()) sql += " AND tool = ?3";
  if (!q.principal.empty()) sql += " AND principal = ?4";
  if (q.outcome == "error") sql += " AND outcome <> 'ok'";
  else if (!q.outcome.empty()) sql += " AND outcome = ?5";
  sql += " ORDER BY id DESC LIMIT ?6";
  auto stmt = db.prepare(sql);
  if (!q.since.empty()) stmt.bind(1, q.since);
  if (!q.until.empty()) stmt.bind(2, q.until);
  if (!q.tool.empty()) stmt.bind(3, q.tool);
  if (!q.principal.empty()) stmt.bind(4, q.principal);
  if (!q.outcome.empty() && q.outcome != "error") stmt.bind(5, q.outcome);
  stmt.bind(6, static_cast<std::int64_t>(q.limit));
  std::vector<AuditRecord> out;
  while (stmt.step()) {
    AuditRecord r;
    r.time = stmt.text(0);
    r.principal = stmt.text(1);
    r.session = stmt.text(2);
    r.tool = stmt.text(3);
    r.arguments = stmt.text(4);
    r.outcome = stmt.text(5);
    r.error = stmt.text(6);
    r.duration_ms = stmt.real(7);
    if (!stmt.is_null(8)) r.rows = stmt.int64(8);
    if (!stmt.is_null(9)) r.bytes = stmt.int64(9);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace mcpd::infra
