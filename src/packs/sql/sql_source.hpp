// What the sql pack's tools ask of a database, whatever it is: the interface SQLite and PostgreSQL
// sources implement, their settings, and the values they answer with (typed JSON rows, or one clear
// core::Error saying what went wrong).
//
// How failures read (core::ErrorKind): Refused, not sent (a write through sql_query, writes off,
// several statements); InvalidArgument, the call is wrong or the database refused the statement
// (Error::code holds PostgreSQL's SQLSTATE when the server gave one); NotFound, no such table;
// Unavailable, the backend cannot be reached, its breaker is open or every connection is busy;
// Timeout, the statement or the call ran out of time; core::Cancelled, the client cancelled the call.
#pragma once
#include <boost/json.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/registry.hpp"
#include "core/result.hpp"

namespace mcpd::packs::sql {

namespace json = boost::json;

// One [[packs.sql.sources]] entry, validated (see source_settings.hpp).
struct SourceSettings {
  std::string name;
  std::string type;  // "sqlite" | "postgres"
  std::string path;  // sqlite: the database file
  // postgres: a libpq URL or key=value string. It may hold a password: never log or return it
  // (display_target() is the safe form).
  std::string url;
  bool sample = false;  // the zero-configuration SQLite sample, created with its schema on first start
  bool allow_writes = false;
  std::chrono::milliseconds statement_timeout{5000};
  std::size_t max_rows = 1000;  // hard cap on rows per result
  std::size_t pool_min = 2;
  std::size_t pool_max = 10;
  std::chrono::seconds pool_idle{60};
  int breaker_failures = 5;
  std::chrono::seconds breaker_open{60};
  int retries = 3;  // attempts in total, for idempotent calls only
  std::chrono::seconds connect_timeout{5};
};

struct Column {
  std::string name;
  std::string type;  // the database's type name ("int4", "timestamptz", "TEXT", ...)
};

struct QueryRequest {
  std::string sql;
  json::array params;       // positional: $1.. (PostgreSQL), ?/?N/:name in order (SQLite)
  std::size_t max_rows = 100;
  std::function<bool()> cancelled;  // polled while waiting; may be empty
};

// The most value bytes one result carries: past it the rows stop, as at max_rows (a query such as
// SELECT repeat('x', 100000000) FROM generate_series(1, 100) must not exhaust the server's memory).
inline constexpr std::size_t kMaxResultBytes = 16u << 20;

struct QueryResult {
  std::vector<Column> columns;
  json::array rows;  // one object per row, keyed by column name (made unique: "id", "id_2")
  bool truncated = false;
  bool truncated_by_size = false;  // cut at kMaxResultBytes rather than at max_rows
  std::optional<std::int64_t> rows_affected;  // writes only
  std::string command;                         // the server's command tag ("INSERT 0 1"), when known
};

struct TableInfo {
  std::string schema;
  std::string name;
  std::string type;  // "table" | "view" | "materialized view" | "foreign table"
};

struct ColumnInfo {
  std::string name;
  std::string type;
  bool nullable = true;
  std::optional<std::string> default_value;
};

struct TableSchema {
  std::string schema;
  std::string name;
  std::string type;
  std::vector<ColumnInfo> columns;
  std::vector<std::string> primary_key;
};

// A schema change for postgres_init_schema: a file from a migrations folder, or inline SQL named by
// its SHA-256.
struct Migration {
  std::string name;
  std::string sha256;
  std::string sql;
};

struct InitSchemaResult {
  std::vector<Migration> applied;             // in order (with dry_run: what would be applied)
  std::vector<std::string> already_applied;   // skipped: recorded earlier with the same checksum
  bool dry_run = false;
};

class SqlSource {
 public:
  virtual ~SqlSource() = default;

  virtual const SourceSettings& settings() const = 0;
  const std::string& name() const { return settings().name; }
  bool allows_writes() const { return settings().allow_writes; }
  // Where the source points, without secrets: "sqlite /data/sample.db", "postgres db@host:5432".
  virtual std::string display_target() const = 0;

  // One read-only statement (checked, then run read-only on the server); retried on connection loss.
  virtual core::Result<QueryResult> query(const QueryRequest& request) = 0;
  // One statement in its own read-write transaction, never retried. The caller checks allow_writes.
  virtual core::Result<QueryResult> execute(const QueryRequest& request) = 0;
  virtual core::Result<std::vector<TableInfo>> list_tables() = 0;
  // `table` is "name" or "schema.name"; NotFound when the source has no such table or view.
  virtual core::Result<TableSchema> describe_table(const std::string& table) = 0;
  // Applies the migrations not yet recorded, in one transaction (rolled back when dry_run).
  virtual core::Result<InitSchemaResult> init_schema(const std::vector<Migration>& migrations, bool dry_run) = 0;

  // The backend's health as /health shows it; cheap and non-blocking (it reads what calls and the
  // background probe last saw), since /health is answered on an I/O thread.
  virtual core::HealthStatus health() const = 0;
  // Table names seen last (for completions, which must not block); may be stale or empty.
  virtual std::vector<std::string> known_tables() const = 0;
  // Called every few seconds from the pack's maintenance thread: probe the backend, close idle
  // connections, refresh known_tables().
  virtual void maintain() = 0;
};

}  // namespace mcpd::packs::sql
