// The SQLite source: statements with typed rows, read-only in depth, writes in transactions.
//
// sql_query's layers here: the statement check; a connection opened read-only (SQLITE_OPEN_READONLY)
// with query_only on, defensive mode, untrusted schema and an authorizer that refuses ATTACH and
// anything that writes; exactly one prepared statement (the text after it must be empty); and
// sqlite3_stmt_readonly() on what was prepared. A progress handler ends statements at the deadline.
#include "packs/sql/sqlite_source.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>

#include "infra/crypto.hpp"
#include "infra/logging.hpp"
#include "packs/sql/migrations.hpp"
#include "packs/sql/result_format.hpp"
#include "packs/sql/sample_database.hpp"
#include "packs/sql/statement_guard.hpp"

namespace mcpd::packs::sql {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

struct StatementDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Statement = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

// SQLite refused or failed the statement (it has no SQLSTATE).
core::Error sqlite_error(std::string_view what) { return core::Error::invalid_argument("SQLite error: " + std::string(what)); }

// Interrupts the running statement at the deadline or when the call is cancelled, while in scope.
class Watchdog {
 public:
  Watchdog(sqlite3* db, Clock::time_point deadline, const std::function<bool()>& cancelled)
      : db_(db), deadline_(deadline), cancelled_(cancelled) {
    sqlite3_progress_handler(db_, 1000, &Watchdog::tick, this);
  }
  ~Watchdog() { sqlite3_progress_handler(db_, 0, nullptr, nullptr); }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // The failure of a statement that failed with `what`: a timeout or cancellation when this stopped it.
  template <class T>
  core::Result<T> failure(std::string_view what) const {
    if (timed_out_)
      return core::Error::timeout("the statement ran longer than the source's statement_timeout_ms and was stopped; "
                                  "make it cheaper or ask for fewer rows");
    if (cancelled_out_) return core::Cancelled{};
    return sqlite_error(what);
  }

 private:
  static int tick(void* self) {
    auto* w = static_cast<Watchdog*>(self);
    if (Clock::now() >= w->deadline_) w->timed_out_ = true;
    else if (w->cancelled_ && w->cancelled_()) w->cancelled_out_ = true;
    return w->timed_out_ || w->cancelled_out_;
  }

  sqlite3* db_;
  Clock::time_point deadline_;
  const std::function<bool()>& cancelled_;
  bool timed_out_ = false;
  bool cancelled_out_ = false;
};

// Read connections may read, call functions and look at table_info-style pragmas; everything else
// (ATTACH, writes, transactions, settings) is refused before it runs.
int authorize_read(void*, int action, const char* arg1, const char* arg2, const char*, const char*) {
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_FUNCTION:
    case SQLITE_RECURSIVE:
      return SQLITE_OK;
    case SQLITE_PRAGMA: {
      static const std::set<std::string, std::less<>> kWithArgument = {"table_info", "table_xinfo", "index_list",
                                                                        "index_info", "index_xinfo", "foreign_key_list"};
      // A pragma with an argument sets something, except these, whose argument is a table name.
      if (!arg2 || (arg1 && kWithArgument.count(arg1))) return SQLITE_OK;
      return SQLITE_DENY;
    }
    case SQLITE_UPDATE:
      // Preparing a table-valued pragma (SELECT * FROM pragma_table_info('t')) asks this for the
      // schema table's columns; no write gets that far on a connection that is read-only three
      // times over (SQLITE_OPEN_READONLY, query_only, defensive).
      if (arg1 && (std::string_view(arg1) == "sqlite_master" || std::string_view(arg1) == "sqlite_temp_master"))
        return SQLITE_OK;
      return SQLITE_DENY;
    default:
      return SQLITE_DENY;
  }
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

json::value column_value(sqlite3_stmt* s, int i) {
  switch (sqlite3_column_type(s, i)) {
    case SQLITE_INTEGER:
      return integer_json(sqlite3_column_int64(s, i));
    case SQLITE_FLOAT: {
      double d = sqlite3_column_double(s, i);
      if (std::isfinite(d)) return d;
      return json::string(d > 0 ? "Infinity" : d < 0 ? "-Infinity" : "NaN");
    }
    case SQLITE_TEXT:
      return json::string(std::string_view(reinterpret_cast<const char*>(sqlite3_column_text(s, i)),
                                           static_cast<std::size_t>(sqlite3_column_bytes(s, i))));
    case SQLITE_BLOB: {
      const void* p = sqlite3_column_blob(s, i);
      return json::string(infra::base64_encode(
          std::string_view(static_cast<const char*>(p), p ? static_cast<std::size_t>(sqlite3_column_bytes(s, i)) : 0)));
    }
    default:
      return nullptr;
  }
}

const char* storage_class(int sqlite_type) {
  switch (sqlite_type) {
    case SQLITE_INTEGER: return "integer";
    case SQLITE_FLOAT: return "real";
    case SQLITE_TEXT: return "text";
    case SQLITE_BLOB: return "blob";
  }
  return "";
}

core::Status bind(sqlite3* db, sqlite3_stmt* s, const json::array& params) {
  const int wanted = sqlite3_bind_parameter_count(s);
  if (static_cast<std::size_t>(wanted) != params.size())
    return core::Error::invalid_argument("the statement has " + std::to_string(wanted) + " parameter(s) but params holds " +
                                         std::to_string(params.size()) +
                                         " value(s); give one value per ?, ?N or :name, in order");
  for (std::size_t i = 0; i < params.size(); ++i) {
    const int at = static_cast<int>(i) + 1;
    const auto& v = params[i];
    int rc = SQLITE_OK;
    switch (v.kind()) {
      case json::kind::null: rc = sqlite3_bind_null(s, at); break;
      case json::kind::bool_: rc = sqlite3_bind_int64(s, at, v.get_bool() ? 1 : 0); break;
      case json::kind::int64: rc = sqlite3_bind_int64(s, at, v.get_int64()); break;
      case json::kind::uint64:
        rc = v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)
                 ? sqlite3_bind_int64(s, at, static_cast<std::int64_t>(v.get_uint64()))
                 : sqlite3_bind_double(s, at, static_cast<double>(v.get_uint64()));
        break;
      case json::kind::double_: rc = sqlite3_bind_double(s, at, v.get_double()); break;
      case json::kind::string:
        rc = sqlite3_bind_text64(s, at, v.get_string().data(), v.get_string().size(), SQLITE_TRANSIENT, SQLITE_UTF8);
        break;
      default: {
        std::string text = json::serialize(v);  // objects and arrays as JSON text (SQLite's json functions read it)
        rc = sqlite3_bind_text64(s, at, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      }
    }
    if (rc != SQLITE_OK)
      return core::Error::invalid_argument("cannot bind parameter " + std::to_string(at) + ": " + sqlite3_errmsg(db));
  }
  return {};
}

// Runs exactly one statement. `read_only` refuses a prepared statement that would write; `to_end`
// steps past max_rows to the end (a write's RETURNING rows must all be stepped for all of it to apply).
core::Result<QueryResult> run_statement(sqlite3* db, const QueryRequest& request, std::size_t max_rows, bool read_only,
                                        bool to_end, Clock::time_point deadline) {
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v2(db, request.sql.data(), static_cast<int>(request.sql.size()), &raw, &tail);
  Statement stmt(raw);
  if (rc != SQLITE_OK) return sqlite_error(sqlite3_errmsg(db));
  if (!stmt) return core::Error::invalid_argument("the SQL holds no statement");
  // Exactly one statement: what follows the first must be empty (comments and ';' only).
  std::string_view rest(tail, static_cast<std::size_t>(request.sql.data() + request.sql.size() - tail));
  auto tokens = tokenize(rest, Dialect::sqlite);
  if (!tokens || std::any_of(tokens->begin(), tokens->end(), [](const Token& t) { return t.value != ";"; }))
    return core::Error::refused("send exactly one statement per call");
  if (read_only && !sqlite3_stmt_readonly(stmt.get()))
    return core::Error::refused("sql_query is read-only (use sql_execute where the source allows writes)");
  if (auto bound = bind(db, stmt.get(), request.params); !bound) return std::move(bound).failure();

  QueryResult out;
  const int n = sqlite3_column_count(stmt.get());
  std::vector<Column> columns;
  for (int i = 0; i < n; ++i) {
    const char* declared = sqlite3_column_decltype(stmt.get(), i);
    columns.push_back(Column{sqlite3_column_name(stmt.get(), i), declared ? lower(declared) : ""});
  }
  make_names_unique(columns);
  Watchdog watchdog(db, deadline, request.cancelled);
  std::size_t bytes = 0;
  for (;;) {
    rc = sqlite3_step(stmt.get());
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return watchdog.failure<QueryResult>(sqlite3_errmsg(db));
    if (out.rows.size() >= max_rows || out.truncated_by_size) {
      out.truncated = true;
      if (!to_end) break;  // SQLite computes rows lazily: stopping here costs nothing
      continue;
    }
    std::size_t row_bytes = 0;
    for (int i = 0; i < n; ++i) {
      // Only text and blobs: sqlite3_column_bytes() would convert a number to text, after which
      // its type is undefined.
      const int type = sqlite3_column_type(stmt.get(), i);
      if (type == SQLITE_TEXT || type == SQLITE_BLOB) row_bytes += static_cast<std::size_t>(sqlite3_column_bytes(stmt.get(), i));
    }
    if (bytes + row_bytes > kMaxResultBytes) {
      out.truncated = out.truncated_by_size = true;
      if (!to_end) break;
      continue;
    }
    bytes += row_bytes;
    json::object row;
    row.reserve(columns.size());
    for (int i = 0; i < n; ++i) {
      const int type = sqlite3_column_type(stmt.get(), i);
      auto value = column_value(stmt.get(), i);
      // An expression has no declared type: name the storage class of its first non-NULL value.
      if (columns[i].type.empty() && type != SQLITE_NULL) columns[i].type = storage_class(type);
      row.emplace(columns[i].name, std::move(value));
    }
    out.rows.push_back(std::move(row));
  }
  for (auto& c : columns)
    if (c.type.empty()) c.type = "null";
  out.columns = std::move(columns);
  if (!read_only) out.rows_affected = sqlite3_changes64(db);
  return out;
}

void harden(sqlite3* db) {
  sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
}

}  // namespace

SqliteSource::SqliteSource(SourceSettings settings)
    : settings_(std::move(settings)),
      readers_(
          "SQLite source '" + settings_.name + "'", [this] { return open_reader(); },
          infra::ConnectionPoolConfig{0, settings_.pool_max, settings_.pool_idle, settings_.statement_timeout}) {
  std::error_code ec;
  const bool exists = fs::exists(settings_.path, ec);
  if (!exists && !settings_.allow_writes && !settings_.sample)
    throw std::invalid_argument("sources." + settings_.name + ".path: the SQLite file " + settings_.path +
                                " does not exist; create it, or set allow_writes = true to let mcpd create it");
  fs::path parent = fs::path(settings_.path).parent_path();
  if (!parent.empty()) fs::create_directories(parent, ec);
  if (settings_.sample) {
    try {
      infra::SqliteDatabase db(settings_.path);
      if (create_sample_database(db)) infra::log::info("sql sample database created", {{"path", settings_.path}});
      // Readers open the file read-only, which needs no -wal/-shm files in rollback-journal mode.
      if (!settings_.allow_writes) db.exec("PRAGMA journal_mode=DELETE");
    } catch (const infra::SqliteError& e) {
      throw std::invalid_argument("sources." + settings_.name + ": cannot create the sample database: " + e.what());
    }
  }
  if (settings_.allow_writes) {
    try {
      writer_ = std::make_unique<infra::SqliteDatabase>(settings_.path);
      harden(writer_->handle());
    } catch (const infra::SqliteError& e) {
      throw std::invalid_argument("sources." + settings_.name + ": " + e.what());
    }
  }
}

SqliteSource::~SqliteSource() = default;

std::unique_ptr<infra::SqliteDatabase> SqliteSource::open_reader() const {
  auto db = std::make_unique<infra::SqliteDatabase>(settings_.path, true);
  db->exec("PRAGMA query_only = ON");
  // No single string or blob larger than a whole result may be made (randomblob(900000000)).
  sqlite3_limit(db->handle(), SQLITE_LIMIT_LENGTH, static_cast<int>(kMaxResultBytes));
  harden(db->handle());
  sqlite3_set_authorizer(db->handle(), &authorize_read, nullptr);
  return db;
}

void SqliteSource::note(const core::Error* error) {
  std::lock_guard lock(mutex_);
  if (!error) last_error_.clear();
  else if (error->kind == core::ErrorKind::Unavailable) last_error_ = error->message;
}

template <class T, class Use>
core::Result<T> SqliteSource::with_reader(Use&& use) {
  auto lease = readers_.acquire(call_deadline());
  if (!lease) {
    auto error = core::Error::unavailable(lease.error());
    note(&error);
    return error;
  }
  core::Result<T> out = use(*lease);
  note(nullptr);
  return out;
}

core::Result<QueryResult> SqliteSource::query(const QueryRequest& request) {
  if (auto checked = check_read_only(request.sql, Dialect::sqlite); !checked) return std::move(checked).failure();
  const auto deadline = call_deadline();
  const std::size_t max_rows = std::min(request.max_rows, settings_.max_rows);
  return with_reader<QueryResult>([&](infra::SqliteDatabase& db) {
    return run_statement(db.handle(), request, max_rows, true, false, deadline);
  });
}

core::Result<QueryResult> SqliteSource::execute(const QueryRequest& request) {
  if (!settings_.allow_writes || !writer_)
    return core::Error::refused("source '" + settings_.name +
                                "' is read-only; set allow_writes = true in its [[packs.sql.sources]] entry to use sql_execute");
  if (auto checked = check_single_write(request.sql, Dialect::sqlite); !checked) return std::move(checked).failure();
  const auto deadline = call_deadline();
  const std::size_t max_rows = std::min(request.max_rows, settings_.max_rows);
  std::lock_guard lock(writer_mutex_);
  try {
    infra::SqliteTransaction tx(*writer_);
    auto out = run_statement(writer_->handle(), request, max_rows, false, true, deadline);
    if (out) tx.commit();  // else the transaction's destructor rolls back
    return out;
  } catch (const infra::SqliteError& e) {
    return sqlite_error(e.what());
  }
}

core::Result<std::vector<TableInfo>> SqliteSource::list_tables() {
  auto out = with_reader<std::vector<TableInfo>>([&](infra::SqliteDatabase& db) -> core::Result<std::vector<TableInfo>> {
    try {
      auto s = db.prepare("SELECT name, type FROM sqlite_schema WHERE type IN ('table', 'view') "
                          "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name");
      std::vector<TableInfo> tables;
      while (s.step()) tables.push_back(TableInfo{"main", s.text(0), s.text(1)});
      return tables;
    } catch (const infra::SqliteError& e) {
      return sqlite_error(e.what());
    }
  });
  if (out) {
    std::vector<std::string> names;
    for (const auto& t : *out) names.push_back(t.name);
    std::lock_guard lock(mutex_);
    tables_ = std::move(names);
  }
  return out;
}

core::Result<TableSchema> SqliteSource::describe_table(const std::string& table) {
  std::string name = table.rfind("main.", 0) == 0 ? table.substr(5) : table;
  return with_reader<TableSchema>([&](infra::SqliteDatabase& db) -> core::Result<TableSchema> {
    try {
      TableSchema out;
      {
        auto s = db.prepare("SELECT name, type FROM sqlite_schema WHERE type IN ('table', 'view') AND name = ?1 "
                            "COLLATE NOCASE AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'");
        s.bind(1, name);
        if (!s.step())
          return core::Error::not_found("source '" + settings_.name + "' has no table or view named '" + table +
                                        "'; call sql_list_tables for the names");
        out.schema = "main";
        out.name = s.text(0);
        out.type = s.text(1);
      }
      auto s = db.prepare("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1) ORDER BY cid");
      s.bind(1, out.name);
      std::vector<std::pair<std::int64_t, std::string>> key;
      while (s.step()) {
        ColumnInfo c{s.text(0), lower(s.text(1)), s.int64(2) == 0 && s.int64(4) == 0, std::nullopt};
        if (!s.is_null(3)) c.default_value = s.text(3);
        if (s.int64(4) > 0) key.emplace_back(s.int64(4), c.name);
        out.columns.push_back(std::move(c));
      }
      std::sort(key.begin(), key.end());
      for (auto& [position, column] : key) out.primary_key.push_back(column);
      return out;
    } catch (const infra::SqliteError& e) {
      return sqlite_error(e.what());
    }
  });
}

core::Result<InitSchemaResult> SqliteSource::init_schema(const std::vector<Migration>& migrations, bool dry_run) {
  if (!settings_.allow_writes || !writer_)
    return core::Error::refused("source '" + settings_.name +
                                "' is read-only; set allow_writes = true in its [[packs.sql.sources]] entry to apply "
                                "schema changes");
  for (const auto& m : migrations)
    if (auto checked = check_migration(m, Dialect::sqlite); !checked) return std::move(checked).failure();
  std::lock_guard lock(writer_mutex_);
  InitSchemaResult out;
  out.dry_run = dry_run;
  // Migrations may be slow: at least a minute each, like on the PostgreSQL source.
  const auto budget = std::max<std::chrono::milliseconds>(settings_.statement_timeout, std::chrono::minutes(1));
  static const std::function<bool()> kNeverCancelled;
  try {
    infra::SqliteTransaction tx(*writer_);
    writer_->exec(std::string("CREATE TABLE IF NOT EXISTS ") + kMigrationsTable +
                  " (name TEXT PRIMARY KEY, sha256 TEXT NOT NULL, "
                  "applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')))");
    std::map<std::string, std::string> recorded;
    {
      auto s = writer_->prepare(std::string("SELECT name, sha256 FROM ") + kMigrationsTable);
      while (s.step()) recorded[s.text(0)] = s.text(1);
    }
    for (const auto& m : migrations) {
      if (auto it = recorded.find(m.name); it != recorded.end()) {
        if (it->second != m.sha256)
          return core::Error::invalid_argument("the migration " + m.name + " was applied already with other content (sha256 " +
                                               it->second.substr(0, 12) + "… recorded, " + m.sha256.substr(0, 12) +
                                               "… now); applied migrations must not change: add a new file instead");
        out.already_applied.push_back(m.name);
        continue;
      }
      {
        // Armed for the migration only: the rollback after a timeout must not be interrupted too.
        Watchdog watchdog(writer_->handle(), Clock::now() + budget, kNeverCancelled);
        try {
          writer_->exec(m.sql);
        } catch (const infra::SqliteError& e) {
          // Never cancelled (the watchdog polls no cancellation here): a timeout or SQLite's error.
          core::Error error = watchdog.failure<InitSchemaResult>(e.what()).error();
          error.message = "the migration " + m.name + " failed, and nothing was applied: " + error.message;
          return error;
        }
      }
      auto record = writer_->prepare(std::string("INSERT INTO ") + kMigrationsTable + " (name, sha256) VALUES (?1, ?2)");
      record.bind(1, m.name).bind(2, m.sha256).run();
      out.applied.push_back(m);
    }
    if (!dry_run) tx.commit();  // a dry run rolls back in the transaction's destructor
  } catch (const infra::SqliteError& e) {
    return sqlite_error(e.what());
  }
  return out;
}

core::HealthStatus SqliteSource::health() const {
  core::HealthStatus h;
  h.details = json::object{{"source", settings_.name}, {"path", settings_.path}};
  std::lock_guard lock(mutex_);
  if (!last_error_.empty()) h.status = last_error_;
  return h;
}

std::vector<std::string> SqliteSource::known_tables() const {
  std::lock_guard lock(mutex_);
  return tables_;
}

void SqliteSource::maintain() {
  readers_.prune_idle();
  // Also the health probe: it opens (or reuses) a reader and reads the schema; a failure shows in
  // health through the source's own state, so the result itself is not needed here.
  (void)list_tables();
}

}  // namespace mcpd::packs::sql
