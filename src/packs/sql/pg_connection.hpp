// One libpq connection driven in nonblocking mode, so that every wait (connect, send, results) ends
// at a deadline or when the call is cancelled, whatever the server or the network does.
#pragma once
#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace mcpd::packs::sql {

using Clock = std::chrono::steady_clock;
using ConnParams = std::vector<std::pair<std::string, std::string>>;  // libpq keyword -> value

struct PgFailure {
  enum class Kind {
    sql,         // the server answered with an error; the connection is fine
    connection,  // cannot connect, or the connection was lost (the server went away)
    timeout,     // statement_timeout on the server, or our own deadline
    cancelled,   // the caller gave up
  };
  Kind kind = Kind::sql;
  std::string message;  // a short reason, no secrets
  std::string sqlstate;
};

struct PgResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

using PgParams = std::vector<std::optional<std::string>>;  // text format; nullopt is SQL NULL

class PgConnection {
 public:
  // Connects no later than `deadline`; throws std::runtime_error with a short reason ("connection
  // refused", "password authentication failed for user \"x\"", "timed out after 5 s").
  // The server must confirm that the session is read-only by default and speaks UTF-8.
  static std::unique_ptr<PgConnection> open(const ConnParams& params, Clock::time_point deadline, std::uint64_t epoch);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Cheap check before reuse, with no round trip: still connected (a closed socket shows up as
  // readable), idle, and still read-only by default.
  bool usable();
  // Set after a timeout, a cancellation, a lost connection or an abandoned result: the owner must
  // close it rather than return it to the pool.
  bool broken() const { return broken_; }
  void abandon() { broken_ = true; }
  bool lost() const { return PQstatus(conn_) == CONNECTION_BAD; }
  std::uint64_t epoch() const { return epoch_; }
  PGconn* raw() { return conn_; }

  // Sends one command. With `params`, over the extended protocol (exactly one statement, bound
  // parameters); without, over the simple protocol (several statements: migrations only).
  // `single_row` hands rows over one at a time (PGRES_SINGLE_TUPLE), so memory stays bounded.
  std::optional<PgFailure> send(const std::string& sql, const PgParams* params, bool single_row,
                                Clock::time_point deadline);
  // The next result of the command sent, or a null result once there are no more. An error result
  // comes back as a failure (the caller still reads on until the null result).
  std::variant<PgResult, PgFailure> next(Clock::time_point deadline, const std::function<bool()>& cancelled);
  // send() + every next(): the last result, or the first failure. For the pack's own statements.
  std::variant<PgResult, PgFailure> run(const std::string& sql, const PgParams& params, Clock::time_point deadline);
  std::variant<PgResult, PgFailure> run(const std::string& sql, Clock::time_point deadline) {
    return run(sql, PgParams{}, deadline);
  }

  // How much of the session a reset must undo: after_read when every statement the caller sent ran
  // in a transaction that ends in ROLLBACK, after_commit when one may have committed.
  enum class Reset { after_read, after_commit };
  // Puts the session back as open() left it before the connection goes back to the pool: rolls back
  // any transaction and releases what outlives one (session advisory locks, prepared statements,
  // cached sequence values); after_commit, DISCARD ALL instead (every setting back to its startup
  // value, LISTENs, cursors, temporary tables too). Checks read-only and UTF-8. A failure marks the
  // connection broken: close it.
  std::optional<PgFailure> reset(Reset depth, Clock::time_point deadline);

  // "PostgreSQL refused the statement: <message> (SQLSTATE xxxxx)", from an error result.
  PgFailure failure_from(const PGresult* result);

 private:
  PgConnection(PGconn* conn, std::uint64_t epoch) : conn_(conn), epoch_(epoch) {}
  // Waits until the socket is readable (or writable), the deadline passes, or the call is cancelled.
  std::optional<PgFailure> wait(bool for_write, Clock::time_point deadline, const std::function<bool()>& cancelled);
  PgFailure lost_connection(std::string_view during);
  // Every result of the command sent: the last one, or the first failure.
  std::variant<PgResult, PgFailure> collect(Clock::time_point deadline);

  PGconn* conn_;
  std::uint64_t epoch_;
  bool broken_ = false;
};

// The first line of a libpq error without its "connection to server at ... failed: " and "FATAL:"
// prefixes, lowercased at the start: "connection refused".
std::string short_pg_error(std::string_view message);

}  // namespace mcpd::packs::sql
