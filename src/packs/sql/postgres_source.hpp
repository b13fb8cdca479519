// A PostgreSQL source: libpq connections from a pool (seed 003: 2 to 10), a circuit breaker (opens
// after 5 consecutive backend failures, half-opens after 60 s), retries with backoff and jitter for
// idempotent calls, and a time limit on every call. Reads run in read-only sessions.
#pragma once
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

#include "infra/resilience/circuit_breaker.hpp"
#include "infra/resilience/connection_pool.hpp"
#include "packs/sql/pg_connection.hpp"
#include "packs/sql/pg_types.hpp"
#include "packs/sql/sql_source.hpp"

namespace mcpd::packs::sql {

// What the role a source connects as may do beyond reading, found on its first connection.
struct PrivilegeReport {
  bool checked = false;               // false until a connection succeeded and the check ran
  std::string role;
  std::vector<std::string> warnings;  // "is a superuser", "can execute lo_create, pg_advisory_lock"
};

class PostgresSource : public SqlSource {
 public:
  // Throws std::invalid_argument when the URL cannot be parsed. Connects lazily (and in maintain()),
  // so that a server that is down does not stop mcpd from starting.
  explicit PostgresSource(SourceSettings settings);
  ~PostgresSource() override;

  const SourceSettings& settings() const override { return settings_; }
  std::string display_target() const override { return target_; }

  core::Result<QueryResult> query(const QueryRequest& request) override;
  core::Result<QueryResult> execute(const QueryRequest& request) override;
  core::Result<std::vector<TableInfo>> list_tables() override;
  core::Result<TableSchema> describe_table(const std::string& table) override;
  core::Result<InitSchemaResult> init_schema(const std::vector<Migration>& migrations, bool dry_run) override;

  core::HealthStatus health() const override;
  std::vector<std::string> known_tables() const override;
  void maintain() override;

  // Least privilege: empty warnings once checked means the role is fit for reading only. Warnings
  // never stop the source (they are logged once and shown in /health).
  PrivilegeReport privilege_report() const;

  // Connection parameters for libpq as they will be sent (for tests; holds the password).
  const ConnParams& connection_params() const { return params_; }

 private:
  enum class Verdict { none, healthy, failed };  // what an attempt says about the backend
  // A failed attempt: what the caller gets (an Error, or Cancelled), and what it says about the backend.
  struct Failure {
    Failure(core::Error e, Verdict v, bool can_retry, std::string why = {})
        : error(std::move(e)), verdict(v), retryable(can_retry), reason(std::move(why)) {}
    static Failure cancelled() {
      Failure f(core::Error{}, Verdict::none, false);
      f.was_cancelled = true;
      return f;
    }
    core::Error error;
    bool was_cancelled = false;  // the call was cancelled: `error` is unused
    Verdict verdict = Verdict::none;
    bool retryable = false;
    std::string reason;  // for /health, when the backend failed: "connection refused", "timed out"
  };
  template <class T>
  using Step = std::variant<T, Failure>;
  template <class T>
  using Operation = std::function<Step<T>(PgConnection&, Clock::time_point deadline)>;

  // Admits the attempt through the breaker, leases a connection, runs `op`, records the verdict and
  // returns or discards the connection; retried (when `idempotent`) on connection-level failures.
  template <class T>
  core::Result<T> run(const Operation<T>& op, bool idempotent, Clock::time_point deadline);

  // A failure of the connection layer, worded for the user, with its verdict on the backend.
  Failure failure(const core::Error& e) const;
  template <class T>
  Failure failure(const core::Result<T>& failed) const {
    return failed.cancelled() ? Failure::cancelled() : failure(failed.error());
  }
  // Sends one statement and reads its rows (sql_execute).
  Step<QueryResult> fetch(PgConnection& c, const std::string& sql, const PgParams& params, std::size_t max_rows,
                          bool may_abandon, Clock::time_point deadline, const std::function<bool()>& cancelled);
  // The rows of the statement sent, read up to its null result, keyed by the columns' names (made
  // unique); `shape` keeps the first result with rows, for type_columns() (the types are left empty).
  Step<QueryResult> read_rows(PgConnection& c, std::size_t max_rows, bool may_abandon, Clock::time_point deadline,
                              const std::function<bool()>& cancelled, PgResult& shape);
  // Fills in the columns' type names; a type not seen before is looked up on `c`.
  void type_columns(PgConnection& c, const PGresult* shape, std::vector<Column>& columns, Clock::time_point deadline);
  Step<std::vector<TableInfo>> read_tables(PgConnection& c, Clock::time_point deadline);
  Step<InitSchemaResult> apply(PgConnection& c, const std::vector<Migration>& migrations, bool dry_run,
                               Clock::time_point deadline);
  // The time a call may take: connect, then run the statement, plus a little slack.
  Clock::time_point call_deadline() const;
  void note_success();
  void note_failure(const std::string& reason);
  void remember_tables(const std::vector<TableInfo>& tables);
  // Runs once per source, on the first connection that opens: fills privileges_ and logs a warning.
  void check_privileges(PgConnection& c, Clock::time_point deadline);

  SourceSettings settings_;
  ConnParams params_;
  std::string target_;
  std::atomic<std::uint64_t> epoch_{0};  // bumped when a connection is lost: older idle ones are suspect
  infra::CircuitBreaker breaker_;
  infra::ConnectionPool<PgConnection> pool_;

  mutable std::mutex mutex_;
  std::string last_error_;  // the last backend failure; cleared by the next success
  Clock::time_point last_success_{};
  std::vector<std::string> tables_;
  Clock::time_point tables_at_{};
  std::map<PgOid, std::string> type_names_;  // non-built-in types seen so far (enums, domains, ...)
  std::atomic<bool> privileges_claimed_{false};  // a connection is checking, or has checked, the role
  PrivilegeReport privileges_;
};

}  // namespace mcpd::packs::sql
