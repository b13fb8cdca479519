// The schema changes postgres_init_schema applies: inline SQL (named by its SHA-256), the *.sql
// files of a migrations folder in name order, or the built-in document pipeline schema (seed 003),
// each checked so that it cannot end the one transaction they all run in.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "packs/sql/sql_source.hpp"
#include "packs/sql/statement_guard.hpp"

namespace mcpd::packs::sql {

// The table that records what was applied: (name text primary key, sha256 text, applied_at).
inline constexpr const char* kMigrationsTable = "mcpd_schema_migrations";

Migration inline_migration(std::string sql);

// The *.sql files directly in `dir`, sorted by file name; an error when there are none.
Outcome<std::vector<Migration>> load_migrations(const std::string& dir);

// The seed's document pipeline: documents and processing_logs, with their indexes (idempotent DDL).
Migration builtin_document_schema(Dialect dialect);

// nullopt, or one sentence saying why `m` cannot run inside init_schema's transaction (it holds
// BEGIN, COMMIT, ROLLBACK, SAVEPOINT ..., or cannot be read as SQL).
std::optional<std::string> check_migration(const Migration& m, Dialect dialect);

// nullopt when `sql` is exactly one statement that is not transaction control (sql_execute runs it
// in a transaction of its own); otherwise one sentence saying why not.
std::optional<std::string> check_single_write(std::string_view sql, Dialect dialect);

}  // namespace mcpd::packs::sql
