// AuditLog implementation: a bounded queue, a writer thread, one SQLite table kept within its
// retention and size cap by small batches of deletes between writes.
#include "infra/audit_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
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
// Pruning: DELETE statements per writer cycle (each of at most kPruneRowsMax rows, so one never
// holds the writer for long), how often rows past their retention are looked for, and how many
// free pages one incremental vacuum gives back.
constexpr int kPruneSteps = 32;
constexpr std::int64_t kPruneRowsMin = 100, kPruneRowsMax = 5000;
constexpr auto kAgePruneEvery = std::chrono::minutes(1);
constexpr std::int64_t kVacuumPages = 4096;
constexpr std::int64_t kWalLimit = 4 << 20;
// What a row costs beyond its text (record header, numbers, the time index's entry), for the estimate
// of the room a batch needs.
constexpr std::int64_t kRowOverhead = 64;

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

std::string AuditSettings::problem() const {
  if (retention_days < 1 || retention_days > kMaxRetentionDays)
    return "audit.retention_days must be from 1 to " + std::to_string(kMaxRetentionDays) + ", got " + std::to_string(retention_days);
  if (max_bytes < kMinBytes || max_bytes > kMaxBytes)
    return "audit.max_bytes must be from " + std::to_string(kMinBytes) + " (1 MiB) to " + std::to_string(kMaxBytes) +
           " (1 TiB), got " + std::to_string(max_bytes);
  return {};
}

AuditLog::AuditLog(const std::string& path, AuditSettings settings) : path_(path), settings_(settings) {
  if (auto problem = settings_.problem(); !problem.empty()) throw std::invalid_argument(problem);
  // The one check start-up waits for (a few system calls): a path that can never be written fails
  // here, loudly, instead of as a stream of dropped rows. Everything slower happens on the writer.
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error(std::strerror(errno));
  ::close(fd);
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
    if (queue_.size() >= settings_.max_queue) {
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

std::unique_ptr<SqliteDatabase> AuditLog::open_database() {
  auto db = std::make_unique<SqliteDatabase>(path_);
  bool fresh = true;
  {
    auto s = db->prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit'");
    fresh = !s.step();
  }
  // A new file gets incremental auto-vacuum, so that pages freed by pruning can be given back when
  // the file is over its cap (a lowered max_bytes). It must be set before the first table; the
  // connection is already in WAL mode, which needs a VACUUM (instant on an empty file) to apply it.
  if (fresh) db->exec("PRAGMA auto_vacuum = INCREMENTAL; VACUUM;");
  db->exec(kSchema);
  // Age pruning walks this index, so it costs the rows it deletes, not a scan of the whole file.
  // (A file from before the index gets it here, once, on this thread.)
  db->exec("CREATE INDEX IF NOT EXISTS audit_time ON audit(time)");
  // The WAL file is emptied at each checkpoint; this keeps it from staying at its largest size.
  db->exec("PRAGMA journal_size_limit = " + std::to_string(kWalLimit));
  return db;
}

std::int64_t AuditLog::prepare_batch(std::deque<AuditRecord>& batch) {
  std::int64_t bytes = 0;
  for (auto& r : batch) {
    if (r.time.empty()) r.time = iso_utc(r.at, true);
    if (r.arguments.empty()) r.arguments = r.raw_arguments ? redact(*r.raw_arguments) : "{}";
    if (r.principal.empty()) r.principal = "anonymous";
    bytes += static_cast<std::int64_t>(r.time.size() * 2 + r.principal.size() + r.session.size() + r.tool.size() +
                                       r.arguments.size() + r.outcome.size() + r.error.size()) + kRowOverhead;
  }
  return bytes;
}

void AuditLog::write_batch(SqliteDatabase& db, const std::deque<AuditRecord>& batch) {
  SqliteTransaction tx(db);
  auto insert = db.cached(
      "INSERT INTO audit(time, principal, session, tool, arguments, outcome, error, duration_ms, rows, bytes) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
  for (const auto& r : batch) {
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
}

namespace {

std::int64_t pragma(SqliteDatabase& db, const char* sql) {
  auto s = db.cached(sql);
  return s->step() ? s->int64(0) : std::int64_t{0};
}

// Bytes in pages that hold data: the file's pages less the free ones new rows will reuse.
std::int64_t used_bytes(SqliteDatabase& db) {
  return (pragma(db, "PRAGMA page_count") - pragma(db, "PRAGMA freelist_count")) * pragma(db, "PRAGMA page_size");
}

}  // namespace

bool AuditLog::prune_by_size(SqliteDatabase& db, std::int64_t incoming) {
  // Room is made before a batch is written, so the file never grows past the cap: when the rows in
  // use plus the batch would pass 90 % of it, the oldest rows go until they fit in 80 % (pruning
  // comes in bursts, not at every write).
  const auto cap = static_cast<std::int64_t>(settings_.max_bytes);
  const std::int64_t high = cap / 10 * 9, low = cap / 10 * 8;
  std::int64_t used = used_bytes(db);
  if (used + incoming <= high) return false;
  auto del = db.cached("DELETE FROM audit WHERE id IN (SELECT id FROM audit ORDER BY id LIMIT ?1)");
  for (int steps = 0; used + incoming > low; ++steps) {
    if (steps == kPruneSteps) return true;
    // Rows to delete, from the average row size (ids are nearly dense: rows go oldest first).
    std::int64_t rows = pragma(db, "SELECT max(id) - min(id) + 1 FROM audit");
    if (rows <= 0) break;  // nothing left to delete
    std::int64_t n = std::clamp<std::int64_t>((used + incoming - low) / std::max<std::int64_t>(1, used / rows) + 1,
                                              kPruneRowsMin, kPruneRowsMax);
    del->bind(1, n);
    del->run();
    auto deleted = db.changes();
    pruned_.fetch_add(static_cast<std::uint64_t>(deleted));
    if (deleted == 0) break;
    used = used_bytes(db);
  }
  return false;
}

bool AuditLog::prune_by_age(SqliteDatabase& db) {
  const std::string cutoff = iso_utc(std::chrono::system_clock::now() - std::chrono::hours(24) * settings_.retention_days, false);
  auto del = db.cached("DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE time < ?1 ORDER BY time LIMIT ?2)");
  for (int steps = 0; steps < kPruneSteps; ++steps) {
    del->bind(1, cutoff).bind(2, kPruneRowsMax);
    del->run();
    auto n = db.changes();
    pruned_.fetch_add(static_cast<std::uint64_t>(n));
    if (n < kPruneRowsMax) return false;
  }
  return true;
}

bool AuditLog::give_back_pages(SqliteDatabase& db, bool may_compact) {
  // Free pages are reused by new rows, so the file only stays over the cap after the cap was
  // lowered, or when it was written before the cap existed.
  const auto cap = static_cast<std::int64_t>(settings_.max_bytes);
  const std::int64_t file_bytes = pragma(db, "PRAGMA page_count") * pragma(db, "PRAGMA page_size");
  const std::int64_t free_pages = pragma(db, "PRAGMA freelist_count");
  if (file_bytes <= cap || free_pages == 0) return false;
  if (pragma(db, "PRAGMA auto_vacuum") == 2) {
    db.exec("PRAGMA incremental_vacuum(" + std::to_string(std::min<std::int64_t>(free_pages, kVacuumPages)) + ")");
    return free_pages > kVacuumPages;
  }
  if (may_compact && !compacted_) {
    // A file from before the cap, without incremental auto-vacuum: one VACUUM rewrites it at its
    // pruned size, with incremental auto-vacuum from then on. Rows recorded meanwhile are queued.
    compacted_ = true;
    log::info("audit: compacting the audit log once to bring it within audit.max_bytes",
              {{"file", path_}, {"bytes", file_bytes}, {"max_bytes", cap}});
    db.exec("PRAGMA auto_vacuum = INCREMENTAL; VACUUM;");
  }
  return false;
}

void AuditLog::run() {
  std::unique_ptr<SqliteDatabase> db;
  auto next_open = std::chrono::steady_clock::now();
  auto next_age_prune = next_open, next_prune = next_open;
  bool prune_more = false;
  auto last_warning = std::chrono::steady_clock::now() - std::chrono::minutes(2);
  std::uint64_t dropped_reported = 0;
  for (;;) {
    std::deque<AuditRecord> batch;
    bool stop;
    {
      // The first wait also keeps the database's opening out of the server's start-up.
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, prune_more ? std::chrono::milliseconds(0) : kInterval,
                     [&] { return stopping_ || flush_requested_ || queue_.size() >= kBatch; });
      flush_requested_ = false;
      batch.swap(queue_);
      stop = stopping_;
    }
    auto now = std::chrono::steady_clock::now();
    if (!db && now >= next_open) {
      try {
        db = open_database();
      } catch (const std::exception& e) {
        // Tried again each minute; meanwhile rows are counted as dropped (and warned about below).
        next_open = now + std::chrono::minutes(1);
        log::error("audit: cannot open the audit log; tool calls are not recorded until it can be opened",
                   {{"file", path_}, {"error", e.what()}});
      }
    }
    // Pruning that fails (a full disk, say) is retried a minute later, with one warning, and never
    // costs the batch its place in the file.
    bool more = false;
    auto pruning = [&](auto step) {
      if (!db || now < next_prune) return;
      try {
        more = step() || more;
      } catch (const std::exception& e) {
        next_prune = now + std::chrono::minutes(1);
        log::warn("audit: could not prune the audit log", {{"file", path_}, {"error", e.what()}});
      }
    };
    if (!batch.empty() && !db) {
      dropped_.fetch_add(batch.size());  // the error above said why; the warning below counts them
    } else if (!batch.empty()) {
      try {
        std::int64_t incoming = prepare_batch(batch);
        pruning([&] { return prune_by_size(*db, incoming); });
        write_batch(*db, batch);
      } catch (const std::exception& e) {
        dropped_.fetch_add(batch.size());
        log::error("audit: could not store tool calls", {{"count", batch.size()}, {"error", e.what()}});
      }
    } else {
      pruning([&] { return prune_by_size(*db, 0); });
    }
    if (now >= next_age_prune)
      pruning([&] {
        bool left = prune_by_age(*db);
        if (!left) next_age_prune = now + kAgePruneEvery;
        return left;
      });
    if (!more) pruning([&] { return give_back_pages(*db, !stop); });
    prune_more = more;
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
  {
    // A server creates the table a moment after it starts; until then there is nothing to show.
    auto s = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit'");
    if (!s.step()) return {};
  }
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
