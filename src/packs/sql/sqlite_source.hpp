// A SQLite source (the embedded default): reads on read-only connections from a small pool, writes
// and schema changes on one read-write connection, every statement bounded by statement_timeout_ms.
#pragma once
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "infra/resilience/connection_pool.hpp"
#include "infra/sqlite.hpp"
#include "packs/sql/sql_source.hpp"

namespace mcpd::packs::sql {

class SqliteSource : public SqlSource {
 public:
  // Creates the sample database on first start (settings.sample). A missing file is an error
  // (std::invalid_argument) unless the source allows writes, when it is created.
  explicit SqliteSource(SourceSettings settings);
  ~SqliteSource() override;

  const SourceSettings& settings() const override { return settings_; }
  std::string display_target() const override { return "sqlite " + settings_.path; }

  core::Result<QueryResult> query(const QueryRequest& request) override;
  core::Result<QueryResult> execute(const QueryRequest& request) override;
  core::Result<std::vector<TableInfo>> list_tables() override;
  core::Result<TableSchema> describe_table(const std::string& table) override;
  core::Result<InitSchemaResult> init_schema(const std::vector<Migration>& migrations, bool dry_run) override;

  core::HealthStatus health() const override;
  std::vector<std::string> known_tables() const override;
  void maintain() override;

 private:
  using Clock = std::chrono::steady_clock;
  std::unique_ptr<infra::SqliteDatabase> open_reader() const;
  Clock::time_point call_deadline() const { return Clock::now() + settings_.statement_timeout; }
  // A read-only connection for `use`, or the error saying why none could be had.
  template <class T, class Use>
  core::Result<T> with_reader(Use&& use);
  // Remembers an Unavailable error for /health; nullptr (a call that got a connection) clears it.
  void note(const core::Error* error);

  SourceSettings settings_;
  std::mutex writer_mutex_;
  std::unique_ptr<infra::SqliteDatabase> writer_;  // only when the source allows writes
  infra::ConnectionPool<infra::SqliteDatabase> readers_;

  mutable std::mutex mutex_;
  std::string last_error_;
  std::vector<std::string> tables_;
};

}  // namespace mcpd::packs::sql
