// Loading and checking schema migrations.
#include "packs/sql/migrations.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "infra/crypto.hpp"

namespace mcpd::packs::sql {

namespace fs = std::filesystem;

namespace {

constexpr std::uintmax_t kMaxMigrationBytes = 16u << 20;

const char* kPostgresDocumentSchema = R"SQL(
CREATE TABLE IF NOT EXISTS documents (
  id SERIAL PRIMARY KEY,
  s3_key VARCHAR(500) UNIQUE NOT NULL,
  document_type VARCHAR(50) NOT NULL,
  file_name VARCHAR(255) NOT NULL,
  file_size INTEGER,
  status VARCHAR(50) NOT NULL DEFAULT 'pending',
  validation_score DOUBLE PRECISION,
  metadata JSONB,
  extracted_data JSONB,
  error_message TEXT,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS processing_logs (
  id SERIAL PRIMARY KEY,
  document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  agent_name VARCHAR(50) NOT NULL,
  action VARCHAR(100) NOT NULL,
  status VARCHAR(50) NOT NULL,
  details JSONB,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idx_documents_status ON documents (status);
CREATE INDEX IF NOT EXISTS idx_documents_type ON documents (document_type);
CREATE INDEX IF NOT EXISTS idx_processing_logs_document ON processing_logs (document_id);
)SQL";

const char* kSqliteDocumentSchema = R"SQL(
CREATE TABLE IF NOT EXISTS documents (
  id INTEGER PRIMARY KEY,
  s3_key TEXT UNIQUE NOT NULL,
  document_type TEXT NOT NULL,
  file_name TEXT NOT NULL,
  file_size INTEGER,
  status TEXT NOT NULL DEFAULT 'pending',
  validation_score REAL,
  metadata TEXT,
  extracted_data TEXT,
  error_message TEXT,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE TABLE IF NOT EXISTS processing_logs (
  id INTEGER PRIMARY KEY,
  document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  agent_name TEXT NOT NULL,
  action TEXT NOT NULL,
  status TEXT NOT NULL,
  details TEXT,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX IF NOT EXISTS idx_documents_status ON documents (status);
CREATE INDEX IF NOT EXISTS idx_documents_type ON documents (document_type);
CREATE INDEX IF NOT EXISTS idx_processing_logs_document ON processing_logs (document_id);
)SQL";

bool is_transaction_control(const std::vector<Token>& tokens) {
  if (tokens.empty() || tokens[0].kind != TokenKind::word) return false;
  const std::string& w = tokens[0].value;
  if (w == "begin" || w == "commit" || w == "end" || w == "rollback" || w == "abort" || w == "savepoint" ||
      w == "release")
    return true;
  if (w == "start") return tokens.size() > 1 && tokens[1].kind == TokenKind::word && tokens[1].value == "transaction";
  if (w == "prepare") return tokens.size() > 1 && tokens[1].kind == TokenKind::word && tokens[1].value == "transaction";
  return false;
}

// SQLite trigger bodies hold statements between BEGIN and END; the split sees them as statements.
bool starts_sqlite_trigger(const std::vector<Token>& tokens) {
  if (tokens.empty() || tokens[0].kind != TokenKind::word || tokens[0].value != "create") return false;
  for (std::size_t i = 1; i < tokens.size() && i < 5; ++i)
    if (tokens[i].kind == TokenKind::word && tokens[i].value == "trigger") return true;
  return false;
}

}  // namespace

Migration inline_migration(std::string sql) {
  std::string digest = infra::sha256_hex(sql);
  return Migration{digest, digest, std::move(sql)};
}

core::Result<std::vector<Migration>> load_migrations(const std::string& dir) {
  using core::Error;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return Error::invalid_argument("the migrations folder " + dir + " does not exist or is not a folder");
  std::vector<fs::path> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file(ec) && it->path().extension() == ".sql") files.push_back(it->path());
  if (ec) return Error::invalid_argument("cannot read the migrations folder " + dir + ": " + ec.message());
  if (files.empty()) return Error::invalid_argument("the migrations folder " + dir + " holds no *.sql file");
  std::sort(files.begin(), files.end(), [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });
  std::vector<Migration> out;
  for (const auto& f : files) {
    if (fs::file_size(f, ec) > kMaxMigrationBytes || ec)
      return Error::invalid_argument("the migration " + f.filename().string() + " is unreadable or larger than 16 MiB");
    std::ifstream in(f, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) return Error::invalid_argument("cannot read the migration " + f.string());
    std::string sql = text.str();
    out.push_back(Migration{f.filename().string(), infra::sha256_hex(sql), std::move(sql)});
  }
  return out;
}

Migration builtin_document_schema(Dialect dialect) {
  std::string sql = dialect == Dialect::postgres ? kPostgresDocumentSchema : kSqliteDocumentSchema;
  std::string digest = infra::sha256_hex(sql);
  return Migration{"builtin:document_pipeline_v1", digest, std::move(sql)};
}

core::Status check_migration(const Migration& m, Dialect dialect) {
  auto split = split_statements(m.sql, dialect);
  if (!split) return core::Error::refused("the migration " + m.name + " cannot be read as SQL: " + split.error().message);
  bool in_trigger = false;
  for (const auto& statement : *split) {
    auto tokens = tokenize(statement, dialect);
    if (!tokens) return core::Error::refused("the migration " + m.name + " cannot be read as SQL: " + tokens.error().message);
    if (dialect == Dialect::sqlite) {
      if (in_trigger) {
        if (!tokens->empty() && (*tokens)[0].kind == TokenKind::word && (*tokens)[0].value == "end") in_trigger = false;
        continue;
      }
      if (starts_sqlite_trigger(*tokens)) {
        in_trigger = true;
        continue;
      }
    }
    if (is_transaction_control(*tokens))
      return core::Error::refused("the migration " + m.name + " holds transaction control ('" + statement.substr(0, 40) +
                                  "'); remove it: postgres_init_schema runs every migration in one transaction of its own");
  }
  return {};
}

core::Status check_single_write(std::string_view sql, Dialect dialect) {
  auto split = split_statements(sql, dialect);
  if (!split) return core::Error::refused(split.error().message);
  if (split->size() != 1)
    return core::Error::refused("sql_execute runs exactly one statement per call; send the " +
                                std::to_string(split->size()) +
                                " statements one call at a time, or apply a script with postgres_init_schema");
  auto tokens = tokenize(split->front(), dialect);
  if (!tokens) return core::Error::refused(tokens.error().message);
  if (is_transaction_control(*tokens))
    return core::Error::refused(
        "sql_execute runs each statement in a transaction of its own; leave out BEGIN, COMMIT, ROLLBACK and SAVEPOINT");
  return {};
}

}  // namespace mcpd::packs::sql
