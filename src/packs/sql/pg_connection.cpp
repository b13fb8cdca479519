// The nonblocking libpq connection: connect, send, wait and read results against a deadline.
#include "packs/sql/pg_connection.hpp"

#include <poll.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstring>
#include <stdexcept>

#include "infra/masking.hpp"

namespace mcpd::packs::sql {

namespace {

// While a cancellable call waits, it looks at its cancellation flag this often.
constexpr std::chrono::milliseconds kCancelPoll{100};

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

std::unique_ptr<PgConnection> PgConnection::open(const ConnParams& params, Clock::time_point deadline,
                                                 std::uint64_t epoch) {
  std::vector<const char*> keys, values;
  for (const auto& [k, v] : params) {
    keys.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  std::unique_ptr<PGconn, ConnDeleter> conn(PQconnectStartParams(keys.data(), values.data(), 0));
  if (!conn) throw std::runtime_error("out of memory");
  PGconn* c = conn.get();
  if (PQstatus(c) == CONNECTION_BAD) throw std::runtime_error(short_pg_error(PQerrorMessage(c)));
  // Before the first PQconnectPoll, act as if it had asked to wait for writing (libpq's contract).
  PostgresPollingStatusType state = PGRES_POLLING_WRITING;
  while (state != PGRES_POLLING_OK) {
    if (state == PGRES_POLLING_FAILED) throw std::runtime_error(short_pg_error(PQerrorMessage(c)));
    if (Clock::now() >= deadline) throw std::runtime_error("timed out while connecting");
    pollfd p{PQsocket(c), static_cast<short>(state == PGRES_POLLING_READING ? POLLIN : POLLOUT), 0};
    if (p.fd < 0) throw std::runtime_error(short_pg_error(PQerrorMessage(c)));
    int r = ::poll(&p, 1, poll_ms(deadline, false));
    if (r < 0 && errno != EINTR) throw std::runtime_error(std::string("poll failed: ") + std::strerror(errno));
    if (r > 0) state = PQconnectPoll(c);
  }
  if (PQsetnonblocking(c, 1) != 0) throw std::runtime_error(short_pg_error(PQerrorMessage(c)));
  // libpq prints notices ("relation already exists, skipping") on stderr, where our JSON logs go.
  PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);
  // Read-only in depth: refuse a session that did not take our startup options (a pooler such as
  // pgbouncer may drop them). Servers before 14 do not report the setting; sql_query still guards.
  if (const char* ro = PQparameterStatus(c, "default_transaction_read_only"); ro && std::strcmp(ro, "on") != 0)
    throw std::runtime_error("the server did not apply default_transaction_read_only=on (a connection pooler may "
                             "drop startup options); connect to PostgreSQL directly");
  // The statement check reads bytes as UTF-8; the server must read the same bytes.
  if (std::strcmp(pg_encoding_to_char(PQclientEncoding(c)), "UTF8") != 0)
    throw std::runtime_error("the server did not accept client_encoding UTF8");
  return std::unique_ptr<PgConnection>(new PgConnection(conn.release(), epoch));
}

PgConnection::~PgConnection() { PQfinish(conn_); }

bool PgConnection::usable() {
  if (broken_ || PQstatus(conn_) != CONNECTION_OK || PQtransactionStatus(conn_) != PQTRANS_IDLE) return false;
  // An idle server sends nothing unless it is closing the connection (or a notice): readable means
  // look, and a closed socket turns the status bad.
  pollfd p{PQsocket(conn_), POLLIN, 0};
  if (p.fd < 0) return false;
  if (::poll(&p, 1, 0) > 0 && !PQconsumeInput(conn_)) return false;
  if (PQstatus(conn_) != CONNECTION_OK) return false;
  const char* ro = PQparameterStatus(conn_, "default_transaction_read_only");
  return !ro || std::strcmp(ro, "on") == 0;
}

PgFailure PgConnection::lost_connection(std::string_view during) {
  broken_ = true;
  std::string reason = short_pg_error(PQerrorMessage(conn_));
  if (reason == "unknown error") reason = "the connection to PostgreSQL was lost " + std::string(during);
  return PgFailure{PgFailure::Kind::connection, reason, ""};
}

std::optional<PgFailure> PgConnection::wait(bool for_write, Clock::time_point deadline,
                                            const std::function<bool()>& cancelled) {
  for (;;) {
    if (cancelled && cancelled()) {
      broken_ = true;  // the statement may still run: this connection cannot be reused
      return PgFailure{PgFailure::Kind::cancelled, "the call was cancelled", ""};
    }
    if (Clock::now() >= deadline) {
      broken_ = true;
      return PgFailure{PgFailure::Kind::timeout, "PostgreSQL did not answer within the call's time limit", ""};
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
    return std::nullopt;
  }
}

std::optional<PgFailure> PgConnection::send(const std::string& sql, const PgParams* params, bool single_row,
                                            Clock::time_point deadline) {
  if (broken_ || PQstatus(conn_) != CONNECTION_OK) return lost_connection("before sending");
  int ok = 0;
  if (params) {
    if (params->size() > 65535)
      return PgFailure{PgFailure::Kind::sql, "too many parameters: PostgreSQL takes at most 65535", ""};
    std::vector<const char*> values;
    for (const auto& p : *params) values.push_back(p ? p->c_str() : nullptr);
    ok = PQsendQueryParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                           nullptr, 0);
  } else {
    ok = PQsendQuery(conn_, sql.c_str());
  }
  if (!ok) {
    if (PQstatus(conn_) == CONNECTION_BAD) return lost_connection("while sending");
    broken_ = true;
    return PgFailure{PgFailure::Kind::connection, short_pg_error(PQerrorMessage(conn_)), ""};
  }
  if (single_row) PQsetSingleRowMode(conn_);  // if refused, rows arrive in one result: still correct
  for (;;) {
    int f = PQflush(conn_);
    if (f == 0) return std::nullopt;
    if (f < 0) return lost_connection("while sending");
    if (auto failure = wait(true, deadline, {})) return failure;
  }
}

std::variant<PgResult, PgFailure> PgConnection::next(Clock::time_point deadline, const std::function<bool()>& cancelled) {
  while (PQisBusy(conn_)) {
    if (PQstatus(conn_) == CONNECTION_BAD) return lost_connection("while reading");
    if (auto failure = wait(false, deadline, cancelled)) return *failure;
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
      return PgFailure{PgFailure::Kind::sql, "COPY is not supported through this tool", ""};
    default:
      return result;
  }
}

std::variant<PgResult, PgFailure> PgConnection::run(const std::string& sql, const PgParams& params,
                                                    Clock::time_point deadline) {
  if (auto failure = send(sql, &params, false, deadline)) return *failure;
  return collect(deadline);
}

std::variant<PgResult, PgFailure> PgConnection::collect(Clock::time_point deadline) {
  PgResult last;
  std::optional<PgFailure> first_failure;
  for (;;) {
    auto step = next(deadline, {});
    if (auto* f = std::get_if<PgFailure>(&step)) {
      if (!first_failure) first_failure = *f;
      if (broken_) break;
      continue;
    }
    auto& r = std::get<PgResult>(step);
    if (!r) break;
    last = std::move(r);
  }
  if (first_failure) return *first_failure;
  return last;
}

std::optional<PgFailure> PgConnection::reset(Reset depth, Clock::time_point deadline) {
  // After a rolled-back read, ROLLBACK has undone every setting, LISTEN, temporary table and cursor;
  // what outlives a transaction is released in the same string: session advisory locks, prepared
  // statements, cached sequence values. One round trip, where ROLLBACK then DISCARD ALL took two
  // (measured with bench/sql: the extra round trip doubled the time mcpd adds to a call). After a
  // lease that may have committed, settings may persist too: DISCARD ALL, on its own, since it
  // refuses to run in the implicit transaction of a multi-statement string. Its RESET ALL returns
  // every setting to the value of the startup packet (read-only, statement_timeout, DateStyle,
  // bytea_output, UTF8), and the two the server reports are checked.
  auto failed = [this](std::string why) {
    broken_ = true;
    return PgFailure{PgFailure::Kind::connection, "the connection could not be cleaned for reuse: " + why, ""};
  };
  if (broken_ || PQstatus(conn_) != CONNECTION_OK) return failed("it is closed");
  const bool open = PQtransactionStatus(conn_) != PQTRANS_IDLE;
  std::vector<const char*> steps;
  if (depth == Reset::after_read) {
    steps.push_back(open ? "ROLLBACK; SELECT pg_catalog.pg_advisory_unlock_all(); DEALLOCATE ALL; DISCARD SEQUENCES"
                         : "SELECT pg_catalog.pg_advisory_unlock_all(); DEALLOCATE ALL; DISCARD SEQUENCES");
  } else {
    if (open) steps.push_back("ROLLBACK");
    steps.push_back("DISCARD ALL");
  }
  for (const char* sql : steps) {
    if (auto f = send(sql, nullptr, false, deadline)) return failed(f->message);
    auto done = collect(deadline);
    if (auto* f = std::get_if<PgFailure>(&done)) return failed(f->message);
  }
  if (PQtransactionStatus(conn_) != PQTRANS_IDLE) return failed("a transaction is still open");
  if (const char* ro = PQparameterStatus(conn_, "default_transaction_read_only"); ro && std::strcmp(ro, "on") != 0)
    return failed("the session is no longer read-only");
  if (std::strcmp(pg_encoding_to_char(PQclientEncoding(conn_)), "UTF8") != 0) return failed("client_encoding is not UTF8");
  return std::nullopt;
}

PgFailure PgConnection::failure_from(const PGresult* result) {
  if (PQstatus(conn_) == CONNECTION_BAD) return lost_connection("during the statement");
  std::string state = field(result, PG_DIAG_SQLSTATE);
  std::string primary = field(result, PG_DIAG_MESSAGE_PRIMARY);
  if (primary.empty()) primary = short_pg_error(PQresultErrorMessage(result));
  // Class 57P: the server is shutting down or restarting; it closes the connection next.
  if (state.rfind("57P", 0) == 0) {
    broken_ = true;
    return PgFailure{PgFailure::Kind::connection, primary, state};
  }
  if (state == "57014" && primary.find("statement timeout") != std::string::npos)
    return PgFailure{PgFailure::Kind::timeout, primary, state};
  std::string message = "PostgreSQL error: " + primary + " (SQLSTATE " + state;
  if (std::string position = field(result, PG_DIAG_STATEMENT_POSITION); !position.empty())
    message += ", at character " + position;
  message += ")";
  if (std::string detail = field(result, PG_DIAG_MESSAGE_DETAIL); !detail.empty()) message += ". " + detail;
  if (std::string hint = field(result, PG_DIAG_MESSAGE_HINT); !hint.empty()) message += " Hint: " + hint;
  return PgFailure{PgFailure::Kind::sql, message, state};
}

}  // namespace mcpd::packs::sql
