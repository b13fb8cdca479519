// The PostgreSQL source: read-only sessions, typed rows, the pool, the breaker and the retries.
//
// Decisions:
//  - Every session starts with default_transaction_read_only=on and statement_timeout (libpq
//    `options`), client_encoding UTF8 and application_name mcpd. sql_query sends exactly one
//    statement through the extended protocol (PQsendQueryParams: several statements cannot even be
//    parsed), after the statement check, inside BEGIN READ ONLY, and the transaction always ends in
//    ROLLBACK: whatever a read-only transaction still lets through (a large object created, a
//    notification, a setting changed) is undone.
//  - Every lease ends with a reset (PgConnection::reset) before the connection goes back to the
//    pool: after a read, ROLLBACK and the release of what outlives a transaction (session advisory
//    locks, prepared statements) in one round trip; after a write, DISCARD ALL. Read-only is
//    checked. sql_query pipelines it: BEGIN READ ONLY, the statement, ROLLBACK and the release go
//    out together and come back in one round trip (PgConnection::send_read), before the answer. A connection that cannot be reset is closed, never reused, so no caller inherits what
//    the previous one left behind (a lock taken by a function the role owns).
//  - The first connection of a source checks the role: superuser, role or database creation, the
//    server file and signalling roles, EXECUTE on functions that write, lock, signal, read server files
//    or open connections. Each finding is a warning (log, /health details), not a refusal: /health
//    stays "ok", since the source works; the README shows the role to use instead.
//  - Only backend failures count against the breaker (and show in /health): a connect that fails, a
//    connection lost, no answer within the call's time limit. An SQL error is the server answering,
//    and so is statement_timeout cancelling a statement: both count as successes, so that one
//    caller's slow queries cannot open the breaker (or fail /health) for everyone.
//  - Only connection-level failures are retried, and only for reads (sql_query, the catalog reads):
//    a write whose connection broke may have been applied.
//  - A connection lost bumps an epoch: idle connections opened before it are suspect (the server
//    may have restarted) and are closed when next picked, rather than failing one call each.
//  - Rows are read one at a time (single-row mode). Past max_rows the rest is read and dropped for a
//    short while (cheaper than reconnecting), then the connection is closed instead.
#include "packs/sql/postgres_source.hpp"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#include "infra/logging.hpp"
#include "infra/resilience/retry.hpp"
#include "packs/sql/migrations.hpp"
#include "packs/sql/pg_types.hpp"
#include "packs/sql/result_format.hpp"
#include "packs/sql/statement_guard.hpp"

namespace mcpd::packs::sql {

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// The connection pool's factory takes no arguments and reports a failure by throwing; the deadline
// of the call that makes it connect reaches it through this scope (the pool connects on the caller's
// thread), and the reason a connect failed comes back the same way, so that no exception is thrown
// while serving: the factory records the reason and returns nothing.
struct ConnectScope;
thread_local ConnectScope* t_connect_scope = nullptr;

struct ConnectScope {
  explicit ConnectScope(Clock::time_point d) : deadline(d), previous_(t_connect_scope) { t_connect_scope = this; }
  ~ConnectScope() { t_connect_scope = previous_; }
  ConnectScope(const ConnectScope&) = delete;
  ConnectScope& operator=(const ConnectScope&) = delete;

  const Clock::time_point deadline;
  std::string failure;  // why the last connect in this scope failed ("connection refused")

 private:
  ConnectScope* previous_;
};

// The factory's way to fail: the reason for the caller, and no connection for the pool.
std::unique_ptr<PgConnection> connect_failed(std::string reason) {
  if (t_connect_scope) t_connect_scope->failure = std::move(reason);
  return nullptr;
}

constexpr std::size_t kDrainRows = 10000;           // rows read and dropped past max_rows at most ...
constexpr milliseconds kDrainTime{250};             // ... and for this long at most
constexpr seconds kProbeEvery{5};                   // maintain() skips its probe after a recent success
constexpr seconds kTablesEvery{30};                 // known_tables() refresh
constexpr milliseconds kMigrationTimeout{60000};    // per statement, at least (migrations may be slow)
constexpr std::int64_t kInitSchemaLock = 0x6d637064;  // "mcpd": serializes concurrent init_schema runs
constexpr milliseconds kResetTime{2000};            // a reset is one or two short round trips; past this, close

// Functions a read-only caller should not be able to execute: they write (large objects, even in a
// read-only transaction), take session locks, signal other backends, read server files, change
// settings or open connections to other servers. Matched by name in any schema, so that every
// overload and an extension installed anywhere count.
constexpr const char* kRiskyFunctions =
    "{lo_create,lo_creat,lo_import,lo_export,lo_unlink,lo_put,lo_from_bytea,"
    "pg_advisory_lock,pg_advisory_lock_shared,pg_try_advisory_lock,pg_try_advisory_lock_shared,"
    "pg_cancel_backend,pg_terminate_backend,pg_read_file,pg_read_binary_file,pg_ls_dir,pg_stat_file,"
    "set_config,pg_reload_conf,dblink,dblink_exec,dblink_connect,dblink_connect_u,dblink_open,dblink_send_query}";

ConnParams build_params(const SourceSettings& s) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(s.url.c_str(), &error);
  if (!options) {
    // libpq's reason quotes the offending value, which can be the password: it is not repeated.
    if (error) PQfreemem(error);
    throw std::invalid_argument("sources." + s.name +
                                ".url: cannot be read as a PostgreSQL URL or key=value string (check its quoting and "
                                "percent-encoding)");
  }
  ConnParams params;
  std::string user_options;
  for (auto* o = options; o->keyword; ++o) {
    if (!o->val) continue;
    std::string key = o->keyword;
    if (key == "options") user_options = o->val;
    else if (key != "application_name" && key != "fallback_application_name" && key != "client_encoding")
      params.emplace_back(key, o->val);
  }
  PQconninfoFree(options);
  // Ours come last: for a setting given twice, the server keeps the last one.
  std::string ours = "-c default_transaction_read_only=on -c statement_timeout=" +
                     std::to_string(s.statement_timeout.count()) + " -c DateStyle=ISO -c bytea_output=hex";
  params.emplace_back("options", user_options.empty() ? ours : user_options + " " + ours);
  params.emplace_back("application_name", "mcpd");
  params.emplace_back("client_encoding", "UTF8");
  return params;
}

std::string param(const ConnParams& params, std::string_view key) {
  for (const auto& [k, v] : params)
    if (k == key) return v;
  return {};
}

std::string target_of(const ConnParams& params) {
  std::string host = param(params, "host");
  if (host.empty()) host = param(params, "hostaddr");
  if (host.empty()) host = "localhost";
  std::string port = param(params, "port");
  std::string user = param(params, "user");
  std::string out = user.empty() ? host : user + "@" + host;
  if (!port.empty()) out += ":" + port;
  if (std::string db = param(params, "dbname"); !db.empty()) out += "/" + db;
  return out;
}

PgParams to_params(const json::array& values) {
  PgParams out;
  out.reserve(values.size());
  for (const auto& v : values) {
    if (v.is_null()) out.emplace_back(std::nullopt);
    else out.emplace_back(pg_param_text(v));
  }
  return out;
}

std::string text(const PGresult* r, int row, int column) {
  if (PQgetisnull(r, row, column)) return {};
  return std::string(PQgetvalue(r, row, column), static_cast<std::size_t>(PQgetlength(r, row, column)));
}

std::string relkind_name(const std::string& kind) {
  if (kind == "v") return "view";
  if (kind == "m") return "materialized view";
  if (kind == "f") return "foreign table";
  return "table";  // r, p (partitioned)
}

}  // namespace

PostgresSource::PostgresSource(SourceSettings settings)
    : settings_(std::move(settings)),
      params_(build_params(settings_)),
      target_(target_of(params_)),
      breaker_("PostgreSQL source '" + settings_.name + "'",
               infra::CircuitBreakerConfig{settings_.breaker_failures, settings_.breaker_open}),
      pool_(
          "PostgreSQL source '" + settings_.name + "'",
          [this]() -> std::unique_ptr<PgConnection> {
            auto deadline = Clock::now() + settings_.connect_timeout;
            if (t_connect_scope && t_connect_scope->deadline < deadline) deadline = t_connect_scope->deadline;
            auto c = PgConnection::open(params_, deadline, epoch_.load());
            if (!c) return connect_failed(c.error().message);
            if (!privileges_claimed_.exchange(true)) check_privileges(**c, deadline);
            if ((*c)->broken()) return connect_failed("the connection broke while checking the role's privileges");
            return std::move(c).value();
          },
          infra::ConnectionPoolConfig{settings_.pool_min, settings_.pool_max, settings_.pool_idle,
                                      settings_.statement_timeout},
          [this](PgConnection& c) { return c.epoch() == epoch_.load() && c.usable(); }) {}

PostgresSource::~PostgresSource() = default;

Clock::time_point PostgresSource::call_deadline() const {
  return Clock::now() + settings_.connect_timeout + settings_.statement_timeout + seconds(1);
}

void PostgresSource::note_success() {
  std::lock_guard lock(mutex_);
  last_error_.clear();
  last_success_ = Clock::now();
}

void PostgresSource::note_failure(const std::string& reason) {
  {
    std::lock_guard lock(mutex_);
    if (last_error_ == reason) return;
    last_error_ = reason;
  }
  infra::log::warn("sql backend failure", {{"source", settings_.name}, {"target", target_}, {"reason", reason}});
}

PostgresSource::Failure PostgresSource::failure(const core::Error& e) const {
  using core::Error;
  const std::string who = "PostgreSQL source '" + settings_.name + "'";
  switch (e.kind) {
    case core::ErrorKind::Unavailable:
      return Failure{Error::unavailable(who + " lost its connection (" + e.message + "); try again").with_code(e.code),
                     Verdict::failed, true, e.message};
    case core::ErrorKind::Timeout:
      // With a SQLSTATE, the server's statement_timeout ended the statement: the backend is fine.
      if (!e.code.empty())
        return Failure{Error::timeout("the statement ran longer than the source's statement_timeout_ms (" +
                                      std::to_string(settings_.statement_timeout.count()) +
                                      " ms) and was cancelled; make it cheaper or ask for fewer rows")
                           .with_code(e.code),
                       Verdict::healthy, false};
      return Failure{Error::timeout(who + " did not answer in time; the call was abandoned"), Verdict::failed, false,
                     "timed out"};
    default:
      // The server answered (it refused or failed the statement): the message and SQLSTATE are its own.
      return Failure{e, Verdict::healthy, false};
  }
}

template <class T>
core::Result<T> PostgresSource::run(const Operation<T>& op, bool idempotent, Clock::time_point deadline) {
  ConnectScope scope(deadline);
  infra::RetryPolicy policy;
  policy.attempts = idempotent ? settings_.retries : 1;
  auto attempt = [&]() -> Step<T> {
    auto permit = breaker_.admit();
    if (!permit) {
      std::string message = permit.error();
      {
        std::lock_guard lock(mutex_);
        if (!last_error_.empty()) message += " (last error: " + last_error_ + ")";
      }
      return Failure{core::Error::unavailable(std::move(message)), Verdict::none, false};
    }
    scope.failure.clear();
    auto lease = pool_.acquire(deadline);
    if (!lease) {
      if (lease.error_kind() != infra::AcquireError::connect_failed)  // every connection busy: not the backend's fault
        return Failure{core::Error::unavailable(lease.error()), Verdict::none, false};
      // The factory's own reason; else (it threw, say out of memory) what the pool made of it.
      std::string reason = scope.failure;
      if (reason.empty()) {
        reason = lease.error();
        constexpr std::string_view kPrefix = "cannot open a connection: ";
        if (auto at = reason.find(kPrefix); at != std::string::npos) reason = reason.substr(at + kPrefix.size());
      }
      permit.record_failure();
      note_failure(reason);
      return Failure{core::Error::unavailable("cannot connect to PostgreSQL source '" + settings_.name + "' (" + target_ +
                                              "): " + reason),
                     Verdict::failed, true, reason};
    }
    Step<T> step = op(*lease, deadline);
    const Failure* failed = std::get_if<Failure>(&step);
    const Verdict verdict = failed ? failed->verdict : Verdict::healthy;
    if (verdict == Verdict::healthy) {
      permit.record_success();
      note_success();
    } else if (verdict == Verdict::failed) {
      permit.record_failure();
      note_failure(failed->reason.empty() ? failed->error.message : failed->reason);
    }
    // Clean before reuse; the reset's own failure does not change the call's answer.
    if (!lease->broken() && !lease->lost()) {
      // Reads (idempotent) ran in a transaction that ends in ROLLBACK; anything else may have committed.
      const auto depth = idempotent ? PgConnection::Reset::after_read : PgConnection::Reset::after_commit;
      if (auto reset = lease->reset(depth, Clock::now() + kResetTime); !reset)
        infra::log::debug("sql connection closed instead of reused",
                          {{"source", settings_.name}, {"reason", reset.error().message}});
    }
    if (lease->lost()) epoch_.fetch_add(1);
    if (lease->broken() || lease->lost()) lease.discard();
    return step;
  };
  auto step = infra::retry_call(
      policy, attempt,
      [](const Step<T>& s) {
        auto* f = std::get_if<Failure>(&s);
        return f && f->retryable;
      },
      deadline);
  if (auto* f = std::get_if<Failure>(&step)) {
    if (f->was_cancelled) return core::Cancelled{};
    return std::move(f->error);
  }
  return std::move(std::get<T>(step));
}

void PostgresSource::type_columns(PgConnection& c, const PGresult* r, std::vector<Column>& columns,
                                  Clock::time_point deadline) {
  const std::size_t n = std::min(columns.size(), static_cast<std::size_t>(PQnfields(r)));
  std::vector<PgOid> missing;
  {
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < n; ++i) {
      const PgOid oid = PQftype(r, static_cast<int>(i));
      columns[i].type = pg_builtin_type_name(oid);
      if (columns[i].type.empty()) {
        if (auto it = type_names_.find(oid); it != type_names_.end()) columns[i].type = it->second;
        else missing.push_back(oid);
      }
    }
  }
  if (missing.empty()) return;
  if (!c.broken()) {
    std::string array = "{";
    for (std::size_t i = 0; i < missing.size(); ++i) array += (i ? "," : "") + std::to_string(missing[i]);
    array += "}";
    auto looked = c.run("SELECT t.oid::int8, pg_catalog.format_type(t.oid, NULL) FROM pg_catalog.pg_type t "
                        "WHERE t.oid = ANY($1::oid[])",
                        PgParams{array}, deadline);
    if (looked && *looked) {
      const PGresult* res = looked->get();
      std::lock_guard lock(mutex_);
      for (int row = 0; row < PQntuples(res); ++row)
        type_names_[static_cast<PgOid>(std::strtoull(PQgetvalue(res, row, 0), nullptr, 10))] = text(res, row, 1);
    }
  }
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < n; ++i)
    if (columns[i].type.empty()) {
      const PgOid oid = PQftype(r, static_cast<int>(i));
      auto it = type_names_.find(oid);
      columns[i].type = it != type_names_.end() ? it->second : "oid " + std::to_string(oid);
    }
}

PostgresSource::Step<QueryResult> PostgresSource::fetch(PgConnection& c, const std::string& sql, const PgParams& params,
                                                        std::size_t max_rows, bool may_abandon, Clock::time_point deadline,
                                                        const std::function<bool()>& cancelled) {
  if (auto sent = c.send(sql, &params, true, deadline); !sent) return failure(sent);
  PgResult shape;
  auto step = read_rows(c, max_rows, may_abandon, deadline, cancelled, shape);
  if (auto* out = std::get_if<QueryResult>(&step); out && shape) type_columns(c, shape.get(), out->columns, deadline);
  return step;
}

PostgresSource::Step<QueryResult> PostgresSource::read_rows(PgConnection& c, std::size_t max_rows, bool may_abandon,
                                                            Clock::time_point deadline,
                                                            const std::function<bool()>& cancelled, PgResult& shape) {
  QueryResult out;
  std::vector<PgOid> oids;
  std::optional<Failure> error;  // the first one
  std::size_t dropped = 0, bytes = 0;
  Clock::time_point cut_at{};
  for (;;) {
    auto step = c.next(deadline, cancelled);
    if (!step) {
      if (!error) error = failure(step);
      if (c.broken()) break;
      continue;
    }
    PgResult r = std::move(*step);
    if (!r) break;
    const auto status = PQresultStatus(r.get());
    if (status != PGRES_SINGLE_TUPLE && status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) continue;
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
      out.command = PQcmdStatus(r.get());
      if (const char* n = PQcmdTuples(r.get()); n && *n) out.rows_affected = std::strtoll(n, nullptr, 10);
    }
    if (status == PGRES_COMMAND_OK) continue;
    if (!shape) {
      for (int i = 0; i < PQnfields(r.get()); ++i) {
        out.columns.push_back(Column{PQfname(r.get(), i), ""});
        oids.push_back(PQftype(r.get(), i));
      }
      make_names_unique(out.columns);  // the rows' keys; type_columns() adds the types
    }
    for (int row = 0; row < PQntuples(r.get()); ++row) {
      if (out.rows.size() >= max_rows || out.truncated_by_size) {
        if (!out.truncated) cut_at = Clock::now();
        out.truncated = true;
        ++dropped;
        continue;
      }
      std::size_t row_bytes = 0;
      for (int col = 0; col < PQnfields(r.get()); ++col) row_bytes += static_cast<std::size_t>(PQgetlength(r.get(), row, col));
      if (bytes + row_bytes > kMaxResultBytes) {
        out.truncated = out.truncated_by_size = true;
        cut_at = Clock::now();
        ++dropped;
        continue;
      }
      bytes += row_bytes;
      json::object o;
      o.reserve(out.columns.size());
      for (std::size_t i = 0; i < out.columns.size(); ++i) {
        const int col = static_cast<int>(i);
        const std::string& name = out.columns[i].name;
        if (PQgetisnull(r.get(), row, col)) o.emplace(name, nullptr);
        else
          o.emplace(name, pg_value(oids[i], std::string_view(PQgetvalue(r.get(), row, col),
                                                                 static_cast<std::size_t>(PQgetlength(r.get(), row, col)))));
      }
      out.rows.push_back(std::move(o));
    }
    if (!shape) shape = std::move(r);
    // Past the size budget nothing more is read: the rest could be as large.
    if (may_abandon && out.truncated &&
        (out.truncated_by_size || dropped > kDrainRows || Clock::now() - cut_at > kDrainTime)) {
      c.abandon();  // closing is cheaper than reading the rest
      break;
    }
  }
  // Enough rows were read before the statement failed or was abandoned: they are the answer.
  if (error && !(out.truncated && may_abandon)) return std::move(*error);
  return out;
}

core::Result<QueryResult> PostgresSource::query(const QueryRequest& request) {
  if (auto checked = check_read_only(request.sql, Dialect::postgres); !checked) return std::move(checked).failure();
  const PgParams params = to_params(request.params);
  const std::size_t max_rows = std::min(request.max_rows, settings_.max_rows);
  Operation<QueryResult> op = [&](PgConnection& c, Clock::time_point deadline) -> Step<QueryResult> {
    // Read-only twice over, never committed: BEGIN READ ONLY, the statement, then ROLLBACK and the
    // reset, in one round trip (three before: measured in docs/benchmarks/sql.md).
    if (auto sent = c.send_read(request.sql, params, true, deadline, request.cancelled); !sent) return failure(sent);
    PgResult shape;
    auto step = read_rows(c, max_rows, true, deadline, request.cancelled, shape);
    // As after any lease, the reset's own failure does not change the answer: the connection is
    // closed instead of reused.
    if (!c.broken())
      if (auto done = c.finish_read(Clock::now() + kResetTime); !done)
        infra::log::debug("sql connection closed instead of reused",
                          {{"source", settings_.name}, {"reason", done.error().message}});
    // After the reset: a type seen for the first time is looked up with one more statement, which
    // the lease's own reset then cleans up after.
    if (auto* out = std::get_if<QueryResult>(&step); out && shape) type_columns(c, shape.get(), out->columns, deadline);
    return step;
  };
  auto out = run(op, true, call_deadline());
  if (out) {
    out->rows_affected.reset();
    out->command.clear();
  }
  return out;
}

core::Result<QueryResult> PostgresSource::execute(const QueryRequest& request) {
  if (!settings_.allow_writes)
    return core::Error::refused("source '" + settings_.name +
                                "' is read-only; set allow_writes = true in its [[packs.sql.sources]] entry to use sql_execute");
  if (auto checked = check_single_write(request.sql, Dialect::postgres); !checked) return std::move(checked).failure();
  const PgParams params = to_params(request.params);
  const std::size_t max_rows = std::min(request.max_rows, settings_.max_rows);
  Operation<QueryResult> op = [&](PgConnection& c, Clock::time_point deadline) -> Step<QueryResult> {
    if (auto begin = c.run("BEGIN READ WRITE", deadline); !begin) return failure(begin);
    // Never abandoned half-way: that would roll the write back without saying so.
    auto step = fetch(c, request.sql, params, max_rows, false, deadline, request.cancelled);
    if (std::holds_alternative<Failure>(step)) {
      // Rolled back, and never reused: the failed statement may have left session state behind
      // (an advisory lock, a setting) that the next caller must not inherit.
      if (!c.broken()) (void)c.run("ROLLBACK", deadline);  // its answer changes nothing: closed either way
      c.abandon();
      return step;
    }
    auto commit = c.run("COMMIT", deadline);
    if (!commit) {
      auto lost = failure(commit);
      lost.retryable = false;
      if (commit.failed() && commit.error().kind != core::ErrorKind::InvalidArgument)
        lost.error.message = "the connection broke while committing, so the write may or may not have been applied; "
                             "check before trying again (" + commit.error().message + ")";
      return lost;
    }
    return step;  // the reset that ends every lease cleans the session for the next caller
  };
  return run(op, false, call_deadline());
}

PostgresSource::Step<std::vector<TableInfo>> PostgresSource::read_tables(PgConnection& c, Clock::time_point deadline) {
  auto r = c.run(
      "SELECT n.nspname, c.relname, c.relkind::text FROM pg_catalog.pg_class c "
      "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
      "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
      "AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%' "
      "AND pg_catalog.has_table_privilege(c.oid, 'SELECT') ORDER BY 1, 2",
      deadline);
  if (!r) return failure(r);
  const PGresult* res = r->get();
  std::vector<TableInfo> tables;
  for (int row = 0; res && row < PQntuples(res); ++row)
    tables.push_back(TableInfo{text(res, row, 0), text(res, row, 1), relkind_name(text(res, row, 2))});
  return tables;
}

void PostgresSource::remember_tables(const std::vector<TableInfo>& tables) {
  std::vector<std::string> names;
  for (const auto& t : tables) names.push_back(t.schema == "public" ? t.name : t.schema + "." + t.name);
  std::lock_guard lock(mutex_);
  tables_ = std::move(names);
  tables_at_ = Clock::now();
}

core::Result<std::vector<TableInfo>> PostgresSource::list_tables() {
  Operation<std::vector<TableInfo>> op = [this](PgConnection& c, Clock::time_point d) { return read_tables(c, d); };
  auto out = run(op, true, call_deadline());
  if (out) remember_tables(*out);
  return out;
}

core::Result<TableSchema> PostgresSource::describe_table(const std::string& table) {
  std::optional<std::string> schema;
  std::string name = table;
  if (auto dot = table.find('.'); dot != std::string::npos) {
    schema = table.substr(0, dot);
    name = table.substr(dot + 1);
  }
  Operation<TableSchema> op = [&](PgConnection& c, Clock::time_point deadline) -> Step<TableSchema> {
    auto found = c.run(
        "SELECT c.oid::int8, n.nspname, c.relname, c.relkind::text FROM pg_catalog.pg_class c "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND "
        "(($1::text IS NULL AND n.nspname = ANY (pg_catalog.current_schemas(false))) OR n.nspname = $1::text) "
        "ORDER BY pg_catalog.array_position(pg_catalog.current_schemas(false), n.nspname) NULLS LAST LIMIT 1",
        PgParams{schema, name}, deadline);
    if (!found) return failure(found);
    const PGresult* res = found->get();
    if (!res || PQntuples(res) == 0)
      return Failure{core::Error::not_found("source '" + settings_.name + "' has no table or view named '" + table +
                                            "' that this role can see; call sql_list_tables for the names"),
                     Verdict::healthy, false};
    TableSchema out;
    const std::string oid = text(res, 0, 0);
    out.schema = text(res, 0, 1);
    out.name = text(res, 0, 2);
    out.type = relkind_name(text(res, 0, 3));
    auto columns = c.run(
        "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), NOT a.attnotnull, "
        "pg_catalog.pg_get_expr(d.adbin, d.adrelid) FROM pg_catalog.pg_attribute a "
        "LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        PgParams{oid}, deadline);
    if (!columns) return failure(columns);
    const PGresult* cols = columns->get();
    for (int row = 0; cols && row < PQntuples(cols); ++row) {
      ColumnInfo info{text(cols, row, 0), text(cols, row, 1), text(cols, row, 2) == "t", std::nullopt};
      if (!PQgetisnull(cols, row, 3)) info.default_value = text(cols, row, 3);
      out.columns.push_back(std::move(info));
    }
    auto key = c.run(
        "SELECT a.attname FROM pg_catalog.pg_index i JOIN pg_catalog.pg_attribute a "
        "ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) "
        "WHERE i.indrelid = $1::oid AND i.indisprimary "
        "ORDER BY pg_catalog.array_position(i.indkey::int2[], a.attnum)",
        PgParams{oid}, deadline);
    if (!key) return failure(key);
    const PGresult* pk = key->get();
    for (int row = 0; pk && row < PQntuples(pk); ++row) out.primary_key.push_back(text(pk, row, 0));
    return out;
  };
  return run(op, true, call_deadline());
}

PostgresSource::Step<InitSchemaResult> PostgresSource::apply(PgConnection& c, const std::vector<Migration>& migrations,
                                                             bool dry_run, Clock::time_point deadline) {
  auto roll_back = [&](Failure f) -> Step<InitSchemaResult> {
    if (!c.broken()) (void)c.run("ROLLBACK", deadline);  // its answer changes nothing: closed either way
    c.abandon();  // as in execute(): a failed change never leaves session state for the next caller
    return f;
  };
  const auto per_statement = std::max(milliseconds(settings_.statement_timeout), kMigrationTimeout);
  for (const std::string& sql :
       {std::string("BEGIN READ WRITE"), "SET LOCAL statement_timeout = " + std::to_string(per_statement.count()),
        "SELECT pg_catalog.pg_advisory_xact_lock(" + std::to_string(kInitSchemaLock) + ")",
        std::string("CREATE TABLE IF NOT EXISTS ") + kMigrationsTable +
            " (name text PRIMARY KEY, sha256 text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"}) {
    if (auto r = c.run(sql, deadline); !r) return roll_back(failure(r));
  }
  auto recorded_rows = c.run(std::string("SELECT name, sha256 FROM ") + kMigrationsTable, deadline);
  if (!recorded_rows) return roll_back(failure(recorded_rows));
  std::map<std::string, std::string> recorded;
  if (const PGresult* res = recorded_rows->get())
    for (int row = 0; row < PQntuples(res); ++row) recorded[text(res, row, 0)] = text(res, row, 1);

  InitSchemaResult out;
  out.dry_run = dry_run;
  for (const auto& m : migrations) {
    if (auto it = recorded.find(m.name); it != recorded.end()) {
      if (it->second != m.sha256)
        return roll_back(Failure{core::Error::invalid_argument(
                                     "the migration " + m.name + " was applied already with other content (sha256 " +
                                     it->second.substr(0, 12) + "… recorded, " + m.sha256.substr(0, 12) +
                                     "… now); applied migrations must not change: add a new file instead"),
                                 Verdict::healthy, false});
      out.already_applied.push_back(m.name);
      continue;
    }
    if (auto sent = c.send(m.sql, nullptr, false, deadline); !sent) return roll_back(failure(sent));
    std::optional<Failure> error;  // the first one
    for (;;) {
      auto step = c.next(deadline, {});
      if (!step) {
        if (!error) error = failure(step);
        if (c.broken()) break;
        continue;
      }
      if (!*step) break;
    }
    if (error) {
      error->error.message = "the migration " + m.name + " failed, and nothing was applied: " + error->error.message;
      return roll_back(std::move(*error));
    }
    auto record = c.run(std::string("INSERT INTO ") + kMigrationsTable + " (name, sha256) VALUES ($1, $2)",
                        PgParams{m.name, m.sha256}, deadline);
    if (!record) return roll_back(failure(record));
    out.applied.push_back(m);
  }
  auto end = c.run(dry_run ? "ROLLBACK" : "COMMIT", deadline);
  if (!end) {
    auto lost = failure(end);
    lost.retryable = false;
    if (end.failed() && end.error().kind != core::ErrorKind::InvalidArgument)
      lost.error.message = "the connection broke while committing the migrations, so they may or may not have been "
                           "applied; run postgres_init_schema again to see (" + end.error().message + ")";
    return lost;
  }
  return out;
}

core::Result<InitSchemaResult> PostgresSource::init_schema(const std::vector<Migration>& migrations, bool dry_run) {
  if (!settings_.allow_writes)
    return core::Error::refused("source '" + settings_.name +
                                "' is read-only; set allow_writes = true in its [[packs.sql.sources]] entry to apply "
                                "schema changes");
  for (const auto& m : migrations)
    if (auto checked = check_migration(m, Dialect::postgres); !checked) return std::move(checked).failure();
  const auto per_statement = std::max(milliseconds(settings_.statement_timeout), kMigrationTimeout);
  const auto deadline = Clock::now() + settings_.connect_timeout + per_statement * (migrations.size() + 1) + seconds(1);
  Operation<InitSchemaResult> op = [&](PgConnection& c, Clock::time_point d) { return apply(c, migrations, dry_run, d); };
  return run(op, false, deadline);
}

void PostgresSource::check_privileges(PgConnection& c, Clock::time_point deadline) {
  auto r = c.run(
      "SELECT r.rolname::text, r.rolsuper, r.rolcreaterole, r.rolcreatedb, "
      "pg_catalog.array_to_string(ARRAY(SELECT g FROM pg_catalog.unnest(ARRAY['pg_execute_server_program', "
      "'pg_write_server_files', 'pg_read_server_files', 'pg_signal_backend']) g "
      "WHERE pg_catalog.pg_has_role(r.oid, g::name, 'MEMBER')), ', '), "
      "pg_catalog.array_to_string(ARRAY(SELECT DISTINCT p.proname::text FROM pg_catalog.pg_proc p "
      "WHERE p.proname::text = ANY ($1::text[]) AND pg_catalog.has_function_privilege(p.oid, 'EXECUTE') ORDER BY 1), "
      "', '), pg_catalog.has_function_privilege('pg_catalog.pg_advisory_unlock_all()', 'EXECUTE') "
      "FROM pg_catalog.pg_roles r WHERE r.rolname = current_user",
      PgParams{std::string(kRiskyFunctions)}, deadline);
  const PGresult* res = r ? r->get() : nullptr;
  if (!res || PQntuples(res) != 1) {
    // Not checked: the next connection tries again.
    infra::log::debug("sql role privileges not checked", {{"source", settings_.name}});
    privileges_claimed_ = false;
    return;
  }
  PrivilegeReport report;
  report.checked = true;
  report.role = text(res, 0, 0);
  if (text(res, 0, 1) == "t") {
    report.warnings.push_back("is a superuser, so nothing but the statement check stops a write");
  } else {
    if (text(res, 0, 2) == "t") report.warnings.push_back("can create roles");
    if (text(res, 0, 3) == "t") report.warnings.push_back("can create databases");
    if (std::string m = text(res, 0, 4); !m.empty()) report.warnings.push_back("is a member of " + m);
    if (std::string f = text(res, 0, 5); !f.empty()) report.warnings.push_back("can execute " + f);
    if (text(res, 0, 6) != "t")
      report.warnings.push_back("cannot execute pg_advisory_unlock_all(), which cleans connections for reuse, so "
                                "each connection is closed after one call");
  }
  if (!report.warnings.empty()) {
    std::string all;
    for (const auto& w : report.warnings) all += (all.empty() ? "" : "; ") + w;
    infra::log::warn("sql source role has more privileges than reading needs",
                     {{"source", settings_.name},
                      {"target", target_},
                      {"role", report.role},
                      {"problems", all},
                      {"hint", "connect as a role like the README's mcpd_reader (see \"A read-only role for sql_query\")"}});
  }
  std::lock_guard lock(mutex_);
  privileges_ = std::move(report);
}

PrivilegeReport PostgresSource::privilege_report() const {
  std::lock_guard lock(mutex_);
  return privileges_;
}

core::HealthStatus PostgresSource::health() const {
  core::HealthStatus h;
  const auto state = breaker_.state();
  const auto stats = pool_.stats();
  h.details = json::object{{"source", settings_.name},
                           {"target", target_},
                           {"breaker", std::string(infra::to_string(state))},
                           {"pool", json::object{{"open", stats.open},
                                                 {"idle", stats.idle},
                                                 {"in_use", stats.in_use},
                                                 {"waiting", stats.waiting}}}};
  {
    // A role with more rights than reading needs is a warning, not an outage: the status stays ok.
    std::lock_guard lock(mutex_);
    if (privileges_.checked) {
      json::array warnings;
      for (const auto& w : privileges_.warnings) warnings.emplace_back("role '" + privileges_.role + "' " + w);
      h.details["privileges"] = json::object{{"role", privileges_.role}, {"warnings", std::move(warnings)}};
    }
  }
  if (state == infra::CircuitBreaker::State::open) {
    const auto left = std::max<long long>(1, std::chrono::ceil<seconds>(breaker_.retry_after()).count());
    h.status = "circuit open after " + std::to_string(breaker_.consecutive_failures()) + " failures; retrying in " +
               std::to_string(left) + " s";
    return h;
  }
  std::lock_guard lock(mutex_);
  if (!last_error_.empty()) h.status = last_error_;
  return h;
}

std::vector<std::string> PostgresSource::known_tables() const {
  std::lock_guard lock(mutex_);
  return tables_;
}

void PostgresSource::maintain() {
  pool_.prune_idle();
  // An open breaker already says the backend is down; probing would only hammer it.
  if (breaker_.state() == infra::CircuitBreaker::State::open) return;
  const auto now = Clock::now();
  bool probe = true;
  {
    std::lock_guard lock(mutex_);
    probe = !last_error_.empty() || now - last_success_ > kProbeEvery || now - tables_at_ > kTablesEvery;
  }
  if (probe) {
    // The probe is a catalog read: it checks the backend and refreshes the table names at once.
    Operation<std::vector<TableInfo>> op = [this](PgConnection& c, Clock::time_point d) { return read_tables(c, d); };
    auto out = run(op, false, now + settings_.connect_timeout + std::min(settings_.statement_timeout, milliseconds(2000)));
    if (!out) return;
    remember_tables(*out);
  }
  const auto deadline = Clock::now() + settings_.connect_timeout;
  ConnectScope scope(deadline);
  std::string error;
  pool_.warm_up(error);  // a failure here shows on the next call or probe
}

}  // namespace mcpd::packs::sql
