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
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace mcpd::packs::sql {

using Clock = std::chrono::steady_clock;
using ConnParams = std::vector<std::pair<std::string, std::string>>;  // libpq keyword -> value

// How a failure reads here (core::Error): InvalidArgument, the server answered with an error and the
// connection is fine (code: the SQLSTATE); Unavailable, cannot connect, or the connection was lost
// (code: the SQLSTATE when the server said it is shutting down); Timeout, statement_timeout on the
// server (code 57014) or our own deadline (no code); core::Cancelled, the caller gave up. Messages are
// short reasons without secrets, which PostgresSource words for the user.

struct PgResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

using PgParams = std::vector<std::optional<std::string>>;  // text format; nullopt is SQL NULL

class PgConnection {
 public:
  // Connects no later than `deadline`, or fails with a short reason ("connection refused",
  // "password authentication failed for user \"x\"", "timed out while connecting").
  // The server must confirm that the session is read-only by default and speaks UTF-8.
  static core::Result<std::unique_ptr<PgConnection>> open(const ConnParams& params, Clock::time_point deadline,
                                                          std::uint64_t epoch);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Cheap check before reuse, with no round trip: still connected (a closed socket shows up as
  // readable), idle, out of pipeline mode, and still read-only by default.
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
  core::Status send(const std::string& sql, const PgParams* params, bool single_row, Clock::time_point deadline);
  // The next result of the command sent, or a null result once there are no more. An error result
  // comes back as a failure (the caller still reads on until the null result).
  core::Result<PgResult> next(Clock::time_point deadline, const std::function<bool()>& cancelled);
  // send() + every next(): the last result, or the first failure. For the pack's own statements.
  core::Result<PgResult> run(const std::string& sql, const PgParams& params, Clock::time_point deadline);
  core::Result<PgResult> run(const std::string& sql, Clock::time_point deadline) {
    return run(sql, PgParams{}, deadline);
  }

  // A read in one round trip (libpq's pipeline mode), sent at once: BEGIN READ ONLY and `sql` (with
  // bound parameters), a sync point, then ROLLBACK and the after_read reset, and a second sync
  // point. The sync point between them makes the reset run even when the statement fails. Returns
  // once BEGIN has answered, which the server sends at the first sync point (or once its output
  // buffer fills): the wait covers the statement's run, hence `cancelled`. Then read the
  // statement's results with next() up to its null result, as after send(), and call
  // finish_read(). A failure here marks the connection broken.
  core::Status send_read(const std::string& sql, const PgParams& params, bool single_row, Clock::time_point deadline,
                         const std::function<bool()>& cancelled);
  // Reads what send_read() queued after the statement (the reset's results), leaves pipeline mode
  // and checks the session as reset() does; the connection is then clean, and reset() has nothing
  // to do. A failure marks the connection broken: close it.
  core::Status finish_read(Clock::time_point deadline);

  // How much of the session a reset must undo: after_read when every statement the caller sent ran
  // in a transaction that ends in ROLLBACK, after_commit when one may have committed.
  enum class Reset { after_read, after_commit };
  // Puts the session back as open() left it before the connection goes back to the pool: rolls back
  // any transaction and releases what outlives one (session advisory locks, prepared statements;
  // a read-only transaction cannot touch sequences); after_commit, DISCARD ALL instead (every
  // setting back to its startup value, LISTENs, cursors, temporary tables, sequence state too).
  // Checks read-only and UTF-8. Nothing to do (no round trip) when no statement was sent since
  // open() or the last reset or finish_read(). A failure marks the connection broken: close it.
  core::Status reset(Reset depth, Clock::time_point deadline);
  // True once a statement was sent since open() or the last successful reset or finish_read().
  bool needs_reset() const { return needs_reset_; }

  // "PostgreSQL error: <message> (SQLSTATE xxxxx, at character n). <detail> Hint: <hint>", from an
  // error result (or the Unavailable / Timeout error it stands for).
  core::Error failure_from(const PGresult* result);

 private:
  PgConnection(PGconn* conn, std::uint64_t epoch) : conn_(conn), epoch_(epoch) {}
  // Waits until the socket is readable (or writable), the deadline passes, or the call is cancelled.
  core::Status wait(bool for_write, Clock::time_point deadline, const std::function<bool()>& cancelled);
  core::Error lost_connection(std::string_view during);
  // Every result of the command sent: the last one, or the first failure.
  core::Result<PgResult> collect(Clock::time_point deadline);
  // Sends what libpq holds, reading meanwhile (the server may be answering already).
  core::Status flush(Clock::time_point deadline);
  // The checks that end a reset: no transaction open, still read-only by default, still UTF-8.
  core::Status check_clean(const std::function<core::Error(const std::string&)>& failed);

  PGconn* conn_;
  std::uint64_t epoch_;
  bool broken_ = false;
  bool needs_reset_ = false;
};

// The first line of a libpq error without its "connection to server at ... failed: " and "FATAL:"
// prefixes, lowercased at the start: "connection refused".
std::string short_pg_error(std::string_view message);

}  // namespace mcpd::packs::sql
