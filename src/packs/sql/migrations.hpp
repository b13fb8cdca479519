// The schema changes postgres_init_schema applies: inline SQL (named by its SHA-256), the *.sql
// files of a migrations folder in name order, or the built-in document pipeline schema (seed 003),
// each checked so that it cannot end the one transaction they all run in.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "packs/sql/sql_source.hpp"
#include "packs/sql/statement_guard.hpp"

namespace mcpd::packs::sql {

// The table that records what was applied: (name text primary key, sha256 text, applied_at).
inline constexpr const char* kMigrationsTable = "mcpd_schema_migrations";

Migration inline_migration(std::string sql);

// The *.sql files directly in `dir`, sorted by file name; an InvalidArgument error when there are
// none or one cannot be read.
core::Result<std::vector<Migration>> load_migrations(const std::string& dir);

// The seed's document pipeline: documents and processing_logs, with their indexes (idempotent DDL).
Migration builtin_document_schema(Dialect dialect);

// Succeeds, or a Refused error saying in one sentence why `m` cannot run inside init_schema's
// transaction (it holds BEGIN, COMMIT, ROLLBACK, SAVEPOINT ..., or cannot be read as SQL).
core::Status check_migration(const Migration& m, Dialect dialect);

// Succeeds when `sql` is exactly one statement that is not transaction control (sql_execute runs it
// in a transaction of its own); otherwise a Refused error saying in one sentence why not.
core::Status check_single_write(std::string_view sql, Dialect dialect);

}  // namespace mcpd::packs::sql
