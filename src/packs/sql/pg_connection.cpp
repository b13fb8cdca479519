// The nonblocking libpq connection: connect, send, wait and read results against a deadline.
#include "packs/sql/pg_connection.hpp"

#include <poll.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstring>

#include "infra/masking.hpp"

namespace mcpd::packs::sql {

namespace {

// While a cancellable call waits, it looks at its cancellation flag this often.
constexpr std::chrono::milliseconds kCancelPoll{100};

// What a rolled-back read leaves that outlives its transaction, released by the after_read reset:
// session advisory locks, and prepared statements (PREPARE runs in a read-only transaction, and a
// function may EXECUTE it). ROLLBACK undoes the rest (settings, LISTEN, cursors); see
// PgConnection::reset. Sequence state (DISCARD SEQUENCES) cannot arise: nextval() and setval()
// refuse to run in a read-only transaction, whoever calls them, and no temporary sequence can be
// created in one; a lease that may have written ends in DISCARD ALL, which discards it too.
constexpr const char* kReleaseAfterRead[] = {"SELECT pg_catalog.pg_advisory_unlock_all()", "DEALLOCATE ALL"};

// The same statements as one string for the simple protocol, with or without a ROLLBACK first.
std::string release_after_read(bool roll_back) {
  std::string sql = roll_back ? "ROLLBACK" : "";
  for (const char* step : kReleaseAfterRead) {
    if (!sql.empty()) sql += "; ";
    sql += step;
  }
  return sql;
}

int poll_ms(Clock::time_point deadline, bool cancellable) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
  if (cancellable) left = std::min(left, kCancelPoll);
  return static_cast<int>(std::clamp<long long>(left.count(), 0, INT_MAX));
}

std::string field(const PGresult* r, int code) {
  const char* v = PQresultErrorField(r, code);
  return v ? std::string(v) : std::string();
}

struct ConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};

}  // namespace

std::string short_pg_error(std::string_view message) {
  std::string line(message.substr(0, message.find('\n')));
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r' || line.back() == '\t')) line.pop_back();
  if (auto at = line.rfind("failed: "); at != std::string::npos) line = line.substr(at + 8);
  for (std::string_view prefix : {"FATAL:", "ERROR:"})
    if (line.rfind(prefix, 0) == 0) line = line.substr(prefix.size());
  line.erase(0, line.find_first_not_of(' '));
  if (line.size() > 1 && std::isupper(static_cast<unsigned char>(line[0])) &&
      std::islower(static_cast<unsigned char>(line[1])))
    line[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(line[0])));
  if (line.empty()) return "unknown error";
  return infra::mask_text(line);
}

core::Result<std::unique_ptr<PgConnection>> PgConnection::open(const ConnParams& params, Clock::time_point deadline,
                                                               std::uint64_t epoch) {
  using core::Error;
  std::vector<const char*> keys, values;
  for (const auto& [k, v] : params) {
    keys.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  std::unique_ptr<PGconn, ConnDeleter> conn(PQconnectStartParams(keys.data(), values.data(), 0));
  if (!conn) return Error::unavailable("out of memory");
  PGconn* c = conn.get();
  if (PQstatus(c) == CONNECTION_BAD) return Error::unavailable(short_pg_error(PQerrorMessage(c)));
  // Before the first PQconnectPoll, act as if it had asked to wait for writing (libpq's contract).
  PostgresPollingStatusType state = PGRES_POLLING_WRITING;
  while (state != PGRES_POLLING_OK) {
    if (state == PGRES_POLLING_FAILED) return Error::unavailable(short_pg_error(PQerrorMessage(c)));
    if (Clock::now() >= deadline) return Error::timeout("timed out while connecting");
    pollfd p{PQsocket(c), static_cast<short>(state == PGRES_POLLING_READING ? POLLIN : POLLOUT), 0};
    if (p.fd < 0) return Error::unavailable(short_pg_error(PQerrorMessage(c)));
    int r = ::poll(&p, 1, poll_ms(deadline, false));
    if (r < 0 && errno != EINTR) return Error::unavailable(std::string("poll failed: ") + std::strerror(errno));
    if (r > 0) state = PQconnectPoll(c);
  }
  if (PQsetnonblocking(c, 1) != 0) return Error::unavailable(short_pg_error(PQerrorMessage(c)));
  // libpq prints notices ("relation already exists, skipping") on stderr, where our JSON logs go.
  PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);
  // Read-only in depth: refuse a session that did not take our startup options (a pooler such as
  // pgbouncer may drop them). Servers before 14 do not report the setting; sql_query still guards.
  if (const char* ro = PQparameterStatus(c, "default_transaction_read_only"); ro && std::strcmp(ro, "on") != 0)
    return Error::unavailable("the server did not apply default_transaction_read_only=on (a connection pooler may "
                              "drop startup options); connect to PostgreSQL directly");
  // The statement check reads bytes as UTF-8; the server must read the same bytes.
  if (std::strcmp(pg_encoding_to_char(PQclientEncoding(c)), "UTF8") != 0)
    return Error::unavailable("the server did not accept client_encoding UTF8");
  return std::unique_ptr<PgConnection>(new PgConnection(conn.release(), epoch));
}

PgConnection::~PgConnection() { PQfinish(conn_); }

bool PgConnection::usable() {
  if (broken_ || PQstatus(conn_) != CONNECTION_OK || PQtransactionStatus(conn_) != PQTRANS_IDLE ||
      PQpipelineStatus(conn_) != PQ_PIPELINE_OFF)
    return false;
  // An idle server sends nothing unless it is closing the connection (or a notice): readable means
  // look, and a closed socket turns the status bad.
  pollfd p{PQsocket(conn_), POLLIN, 0};
  if (p.fd < 0) return false;
  if (::poll(&p, 1, 0) > 0 && !PQconsumeInput(conn_)) return false;
  if (PQstatus(conn_) != CONNECTION_OK) return false;
  const char* ro = PQparameterStatus(conn_, "default_transaction_read_only");
  return !ro || std::strcmp(ro, "on") == 0;
}

core::Error PgConnection::lost_connection(std::string_view during) {
  broken_ = true;
  std::string reason = short_pg_error(PQerrorMessage(conn_));
  if (reason == "unknown error") reason = "the connection to PostgreSQL was lost " + std::string(during);
  return core::Error::unavailable(std::move(reason));
}

core::Status PgConnection::wait(bool for_write, Clock::time_point deadline, const std::function<bool()>& cancelled) {
  for (;;) {
    if (cancelled && cancelled()) {
      broken_ = true;  // the statement may still run: this connection cannot be reused
      return core::Cancelled{};
    }
    if (Clock::now() >= deadline) {
      broken_ = true;
      return core::Error::timeout("PostgreSQL did not answer within the call's time limit");
    }
    pollfd p{PQsocket(conn_), static_cast<short>(for_write ? (POLLIN | POLLOUT) : POLLIN), 0};
    if (p.fd < 0) return lost_connection("while waiting");
    int r = ::poll(&p, 1, poll_ms(deadline, static_cast<bool>(cancelled)));
    if (r < 0) {
      if (errno == EINTR) continue;
      return lost_connection("while waiting");
    }
    if (r == 0) continue;
    if ((p.revents & (POLLIN | POLLHUP | POLLERR)) && !PQconsumeInput(conn_)) return lost_connection("while reading");
    return {};
  }
}

core::Status PgConnection::send(const std::string& sql, const PgParams* params, bool single_row,
                                Clock::time_point deadline) {
  if (broken_ || PQstatus(conn_) != CONNECTION_OK) return lost_connection("before sending");
  int ok = 0;
  if (params) {
    if (params->size() > 65535)
      return core::Error::invalid_argument("too many parameters: PostgreSQL takes at most 65535");
    std::vector<const char*> values;
    for (const auto& p : *params) values.push_back(p ? p->c_str() : nullptr);
    ok = PQsendQueryParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                           nullptr, 0);
  } else {
    ok = PQsendQuery(conn_, sql.c_str());
  }
  needs_reset_ = true;
  if (!ok) {
    if (PQstatus(conn_) == CONNECTION_BAD) return lost_connection("while sending");
    broken_ = true;
    return core::Error::unavailable(short_pg_error(PQerrorMessage(conn_)));
  }
  if (single_row) PQsetSingleRowMode(conn_);  // if refused, rows arrive in one result: still correct
  return flush(deadline);
}

core::Status PgConnection::flush(Clock::time_point deadline) {
  for (;;) {
    int f = PQflush(conn_);
    if (f == 0) return {};
    if (f < 0) return lost_connection("while sending");
    if (auto waited = wait(true, deadline, {}); !waited) return waited;
  }
}

core::Status PgConnection::send_read(const std::string& sql, const PgParams& params, bool single_row,
                                     Clock::time_point deadline, const std::function<bool()>& cancelled) {
  if (broken_ || PQstatus(conn_) != CONNECTION_OK) return lost_connection("before sending");
  if (params.size() > 65535) return core::Error::invalid_argument("too many parameters: PostgreSQL takes at most 65535");
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  // Every statement goes over the extended protocol (the only one pipeline mode allows), one
  // statement each: the caller's cannot smuggle a second one in.
  auto queue = [this](const char* statement, int n, const char* const* v) {
    return PQsendQueryParams(conn_, statement, n, nullptr, v, nullptr, nullptr, 0) == 1;
  };
  needs_reset_ = true;
  bool ok = PQenterPipelineMode(conn_) == 1 && queue("BEGIN READ ONLY", 0, nullptr) &&
            queue(sql.c_str(), static_cast<int>(values.size()), values.data()) && PQpipelineSync(conn_) == 1 &&
            queue("ROLLBACK", 0, nullptr);
  for (const char* step : kReleaseAfterRead) ok = ok && queue(step, 0, nullptr);
  ok = ok && PQpipelineSync(conn_) == 1;
  if (!ok) {
    if (PQstatus(conn_) == CONNECTION_BAD) return lost_connection("while sending");
    broken_ = true;
    return core::Error::unavailable(short_pg_error(PQerrorMessage(conn_)));
  }
  if (auto sent = flush(deadline); !sent) return sent;
  // BEGIN's answer and the null result that ends it; the statement's come next.
  auto begin = next(deadline, cancelled);
  if (begin && *begin) begin = next(deadline, cancelled);
  if (!begin || *begin) {
    broken_ = true;  // the pipeline is half read: this connection cannot be reused
    if (!begin) return std::move(begin).failure();
    return core::Error::unavailable("PostgreSQL answered BEGIN with more than one result");
  }
  // In pipeline mode, single-row mode is chosen per statement, once the one before it is read.
  if (single_row) PQsetSingleRowMode(conn_);
  return {};
}

core::Status PgConnection::finish_read(Clock::time_point deadline) {
  auto failed = [this](const std::string& why) {
    broken_ = true;
    return core::Error::unavailable("the connection could not be cleaned for reuse: " + why);
  };
  if (broken_ || PQstatus(conn_) != CONNECTION_OK) return failed("it is closed");
  if (PQpipelineStatus(conn_) == PQ_PIPELINE_OFF) return failed("no read was sent");
  // Left to read: the first sync point, then each reset statement's result and the null result
  // after it, then the second sync point. A null result right after another one means libpq has
  // nothing more: the pipeline ended early.
  int syncs = 0;
  bool after_null = false;
  std::optional<std::string> reset_error;
  while (syncs < 2) {
    while (PQisBusy(conn_)) {
      if (PQstatus(conn_) == CONNECTION_BAD) return failed("the connection was lost");
      if (auto waited = wait(false, deadline, {}); !waited) return failed(waited.error().message);
    }
    PgResult r(PQgetResult(conn_));
    if (!r) {
      if (PQstatus(conn_) == CONNECTION_BAD) return failed("the connection was lost");
      if (after_null) return failed("the pipeline ended before its sync point");
      after_null = true;
      continue;
    }
    after_null = false;
    switch (PQresultStatus(r.get())) {
      case PGRES_PIPELINE_SYNC:
        ++syncs;
        break;
      case PGRES_FATAL_ERROR:
      case PGRES_BAD_RESPONSE:
      case PGRES_PIPELINE_ABORTED:
        // Before the first sync point these belong to the caller's statement, which reported them.
        if (syncs == 1 && !reset_error) reset_error = failure_from(r.get()).message;
        break;
      default:
        break;
    }
  }
  if (PQexitPipelineMode(conn_) != 1) return failed(short_pg_error(PQerrorMessage(conn_)));
  if (reset_error) return failed(*reset_error);
  if (auto clean = check_clean(failed); !clean) return clean;
  needs_reset_ = false;
  return {};
}

core::Result<PgResult> PgConnection::next(Clock::time_point deadline, const std::function<bool()>& cancelled) {
  while (PQisBusy(conn_)) {
    if (PQstatus(conn_) == CONNECTION_BAD) return lost_connection("while reading");
    if (auto waited = wait(false, deadline, cancelled); !waited) return std::move(waited).failure();
  }
  PgResult result(PQgetResult(conn_));
  if (!result) {
    if (PQstatus(conn_) == CONNECTION_BAD) return lost_connection("while reading");
    return PgResult();
  }
  switch (PQresultStatus(result.get())) {
    case PGRES_FATAL_ERROR:
    case PGRES_BAD_RESPONSE:
    case PGRES_NONFATAL_ERROR:
      return failure_from(result.get());
    case PGRES_COPY_IN:
    case PGRES_COPY_OUT:
    case PGRES_COPY_BOTH:
      // COPY never passes the statement check; should one arrive, the connection is unusable.
      broken_ = true;
      return core::Error::invalid_argument("COPY is not supported through this tool");
    default:
      return result;
  }
}

core::Result<PgResult> PgConnection::run(const std::string& sql, const PgParams& params, Clock::time_point deadline) {
  if (auto sent = send(sql, &params, false, deadline); !sent) return std::move(sent).failure();
  return collect(deadline);
}

core::Result<PgResult> PgConnection::collect(Clock::time_point deadline) {
  PgResult last;
  std::optional<core::Error> first_failure;
  for (;;) {
    auto step = next(deadline, {});  // not cancellable: never Cancelled
    if (step.failed()) {
      if (!first_failure) first_failure = std::move(step).error();
      if (broken_) break;
      continue;
    }
    if (!step) return std::move(step).failure();
    if (!*step) break;
    last = std::move(*step);
  }
  if (first_failure) return std::move(*first_failure);
  return last;
}

core::Status PgConnection::reset(Reset depth, Clock::time_point deadline) {
  // After a rolled-back read, ROLLBACK has undone every setting, LISTEN, temporary table and cursor;
  // what outlives a transaction is released in the same string: session advisory locks and
  // prepared statements (kReleaseAfterRead). One round trip, where ROLLBACK then DISCARD ALL took two
  // (measured with bench/sql: the extra round trip doubled the time mcpd adds to a call). After a
  // lease that may have committed, settings may persist too: DISCARD ALL, on its own, since it
  // refuses to run in the implicit transaction of a multi-statement string. Its RESET ALL returns
  // every setting to the value of the startup packet (read-only, statement_timeout, DateStyle,
  // bytea_output, UTF8), and the two the server reports are checked. sql_query sends the after_read
  // statements in the round trip of its own statement instead (send_read), and leaves nothing here.
  auto failed = [this](const std::string& why) {
    broken_ = true;
    return core::Error::unavailable("the connection could not be cleaned for reuse: " + why);
  };
  if (broken_ || PQstatus(conn_) != CONNECTION_OK) return failed("it is closed");
  if (PQpipelineStatus(conn_) != PQ_PIPELINE_OFF) return failed("a pipelined read was not finished");
  if (!needs_reset_) return {};  // nothing was sent since the session was last put back
  const bool open = PQtransactionStatus(conn_) != PQTRANS_IDLE;
  std::vector<std::string> steps;
  if (depth == Reset::after_read) {
    steps.push_back(release_after_read(open));
  } else {
    if (open) steps.emplace_back("ROLLBACK");
    steps.emplace_back("DISCARD ALL");
  }
  for (const std::string& sql : steps) {
    if (auto sent = send(sql, nullptr, false, deadline); !sent) return failed(sent.error().message);
    if (auto done = collect(deadline); !done) return failed(done.error().message);
  }
  if (auto clean = check_clean(failed); !clean) return clean;
  needs_reset_ = false;
  return {};
}

core::Status PgConnection::check_clean(const std::function<core::Error(const std::string&)>& failed) {
  if (PQtransactionStatus(conn_) != PQTRANS_IDLE) return failed("a transaction is still open");
  if (const char* ro = PQparameterStatus(conn_, "default_transaction_read_only"); ro && std::strcmp(ro, "on") != 0)
    return failed("the session is no longer read-only");
  if (std::strcmp(pg_encoding_to_char(PQclientEncoding(conn_)), "UTF8") != 0) return failed("client_encoding is not UTF8");
  return {};
}

core::Error PgConnection::failure_from(const PGresult* result) {
  if (PQstatus(conn_) == CONNECTION_BAD) return lost_connection("during the statement");
  std::string state = field(result, PG_DIAG_SQLSTATE);
  std::string primary = field(result, PG_DIAG_MESSAGE_PRIMARY);
  if (primary.empty()) primary = short_pg_error(PQresultErrorMessage(result));
  // Class 57P: the server is shutting down or restarting; it closes the connection next.
  if (state.rfind("57P", 0) == 0) {
    broken_ = true;
    return core::Error::unavailable(std::move(primary)).with_code(std::move(state));
  }
  if (state == "57014" && primary.find("statement timeout") != std::string::npos)
    return core::Error::timeout(std::move(primary)).with_code(std::move(state));
  std::string message = "PostgreSQL error: " + primary + " (SQLSTATE " + state;
  if (std::string position = field(result, PG_DIAG_STATEMENT_POSITION); !position.empty())
    message += ", at character " + position;
  message += ")";
  if (std::string detail = field(result, PG_DIAG_MESSAGE_DETAIL); !detail.empty()) message += ". " + detail;
  if (std::string hint = field(result, PG_DIAG_MESSAGE_HINT); !hint.empty()) message += " Hint: " + hint;
  return core::Error::invalid_argument(std::move(message)).with_code(std::move(state));
}

}  // namespace mcpd::packs::sql
