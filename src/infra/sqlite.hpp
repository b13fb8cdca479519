// Thin RAII wrappers over the SQLite C API: a connection, prepared statements, transactions.
#pragma once
#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace mcpd::infra {

struct SqliteError : std::runtime_error {
  SqliteError(const std::string& what, int code) : std::runtime_error(what), code(code) {}
  int code;
};

class SqliteStatement {
 public:
  SqliteStatement(sqlite3* db, std::string_view sql);
  ~SqliteStatement();
  SqliteStatement(SqliteStatement&& other) noexcept;
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  // Binding is 1-based, as in SQLite. Text and blobs are copied (SQLITE_TRANSIENT).
  SqliteStatement& bind(int index, std::int64_t value);
  SqliteStatement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  SqliteStatement& bind(int index, double value);
  SqliteStatement& bind(int index, std::string_view text);
  SqliteStatement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  SqliteStatement& bind(int index, const std::string& text) { return bind(index, std::string_view(text)); }
  SqliteStatement& bind_blob(int index, const void* data, std::size_t size);
  SqliteStatement& bind_null(int index);

  // True while there is a row; false when done.
  bool step();
  // Runs to completion (for statements without rows).
  void run();
  void reset();

  std::int64_t int64(int column) const { return sqlite3_column_int64(stmt_, column); }
  double real(int column) const { return sqlite3_column_double(stmt_, column); }
  std::string text(int column) const;
  std::string_view blob(int column) const;
  bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// A statement from SqliteDatabase::cached(): reset, with its bindings cleared, when this goes out of
// scope, so a cached statement never holds a read transaction open between uses.
class SqliteCachedStatement {
 public:
  explicit SqliteCachedStatement(SqliteStatement& s) : s_(s) {}
  ~SqliteCachedStatement() { s_.reset(); }
  SqliteCachedStatement(const SqliteCachedStatement&) = delete;
  SqliteCachedStatement& operator=(const SqliteCachedStatement&) = delete;
  SqliteStatement* operator->() { return &s_; }
  SqliteStatement& operator*() { return s_; }

 private:
  SqliteStatement& s_;
};

class SqliteDatabase {
 public:
  // Opens (creating) the file in WAL mode with a busy timeout; ":memory:" works too.
  explicit SqliteDatabase(const std::string& path, bool read_only = false);
  ~SqliteDatabase();
  SqliteDatabase(const SqliteDatabase&) = delete;
  SqliteDatabase& operator=(const SqliteDatabase&) = delete;

  void exec(std::string_view sql);
  SqliteStatement prepare(std::string_view sql) { return SqliteStatement(db_, sql); }
  // The statement for `sql`, prepared once per connection and reused (for SQL run often).
  SqliteCachedStatement cached(std::string_view sql);
  std::int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
  int changes() const { return sqlite3_changes(db_); }
  sqlite3* handle() { return db_; }

 private:
  sqlite3* db_ = nullptr;
  std::map<std::string, std::unique_ptr<SqliteStatement>, std::less<>> cache_;
};

// BEGIN IMMEDIATE ... COMMIT; rolls back unless committed (exceptions leave nothing half-written).
class SqliteTransaction {
 public:
  explicit SqliteTransaction(SqliteDatabase& db);
  ~SqliteTransaction();
  void commit();

 private:
  SqliteDatabase& db_;
  bool done_ = false;
};

}  // namespace mcpd::infra
