// sql_query's read in one round trip (PgConnection::send_read / finish_read, libpq pipeline mode)
// against a real PostgreSQL: the rows, the errors, the reset that follows even a failed statement,
// and the connection left as clean as reset() leaves it.
#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "packs/sql/pg_connection.hpp"
#include "pg_test_server.hpp"

namespace mcpd::packs::sql {
namespace {

using testing::PgTestServer;

Clock::time_point soon() { return Clock::now() + std::chrono::seconds(10); }

// The statement's results after send_read(), up to its null result: the statuses seen, and the
// first failure.
struct Read {
  std::vector<ExecStatusType> statuses;
  std::vector<std::string> first_column;
  std::optional<core::Error> error;
  bool cancelled = false;
};

Read read_statement(PgConnection& c, const std::function<bool()>& cancelled = {}) {
  Read out;
  for (int guard = 0; guard < 100000; ++guard) {
    auto step = c.next(soon(), cancelled);
    if (step.cancelled()) {
      out.cancelled = true;
      break;
    }
    if (step.failed()) {
      if (!out.error) out.error = step.error();
      if (c.broken()) break;
      continue;
    }
    if (!*step) break;
    const PGresult* r = step->get();
    out.statuses.push_back(PQresultStatus(r));
    for (int row = 0; row < PQntuples(r); ++row) out.first_column.emplace_back(PQgetvalue(r, row, 0));
  }
  return out;
}

// One value, read on another connection (as the superuser: it sees every backend's locks).
std::string scalar(PgConnection& c, const std::string& sql) {
  auto r = c.run(sql, soon());
  if (!r || !*r || PQntuples(r->get()) != 1) return "<failed>";
  std::string v = PQgetvalue(r->get(), 0, 0);
  if (auto reset = c.reset(PgConnection::Reset::after_read, soon()); !reset) return "<reset failed>";
  return v;
}

// Runs SQL as the superuser outside a read-only session (PgConnection only opens read-only ones),
// to set up what a role could own; "" when it worked, else the error.
std::string admin(const PgTestServer& server, const char* sql) {
  PGconn* conn = PQconnectdb(("host=" + server.params()[0].second + " user=postgres dbname=postgres").c_str());
  std::string error = PQstatus(conn) == CONNECTION_OK ? "" : PQerrorMessage(conn);
  if (error.empty()) {
    PGresult* r = PQexec(conn, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) error = PQresultErrorMessage(r);
    PQclear(r);
  }
  PQfinish(conn);
  return error;
}

class PgPipelinedRead : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new PgTestServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static PgTestServer* server_;
};
PgTestServer* PgPipelinedRead::server_ = nullptr;

constexpr const char* kAdvisoryLocks = "SELECT count(*) FROM pg_catalog.pg_locks WHERE locktype = 'advisory'";

TEST_F(PgPipelinedRead, RowsComeOneByOneAndTheSessionIsCleanAfterwards) {
  auto c = server_->connect();
  auto observer = server_->connect();
  // A statement that leaves what a function the role owns could leave: a session lock, a setting
  // made for the session, a prepared statement.
  ASSERT_TRUE(c->send_read("SELECT g, pg_catalog.pg_advisory_lock(7), "
                           "pg_catalog.set_config('search_path', 'pg_catalog', false), "
                           "pg_catalog.set_config('default_transaction_read_only', 'off', false) "
                           "FROM pg_catalog.generate_series(1, 3) g",
                           {}, true, soon(), {}));
  EXPECT_TRUE(c->needs_reset());
  Read read = read_statement(*c);
  ASSERT_FALSE(read.error) << read.error->message;
  EXPECT_EQ(read.statuses, (std::vector<ExecStatusType>{PGRES_SINGLE_TUPLE, PGRES_SINGLE_TUPLE, PGRES_SINGLE_TUPLE,
                                                        PGRES_TUPLES_OK}));
  EXPECT_EQ(read.first_column, (std::vector<std::string>{"1", "2", "3"}));

  ASSERT_TRUE(c->finish_read(soon()));
  EXPECT_FALSE(c->needs_reset());
  EXPECT_FALSE(c->broken());
  EXPECT_EQ(PQpipelineStatus(c->raw()), PQ_PIPELINE_OFF);
  EXPECT_EQ(PQtransactionStatus(c->raw()), PQTRANS_IDLE);
  EXPECT_TRUE(c->usable());
  EXPECT_EQ(scalar(*observer, kAdvisoryLocks), "0");
  EXPECT_STREQ(PQparameterStatus(c->raw(), "default_transaction_read_only"), "on");
  EXPECT_EQ(scalar(*c, "SHOW search_path"), "\"$user\", public");
  // reset() after a finished read has nothing left to do.
  ASSERT_TRUE(c->reset(PgConnection::Reset::after_read, soon()));
}

TEST_F(PgPipelinedRead, AFailedStatementStillGetsItsResetAndTheConnectionServesAgain) {
  auto c = server_->connect();
  auto observer = server_->connect();
  const std::string pid = scalar(*c, "SELECT pg_catalog.pg_backend_pid()");
  // The lock is taken, then the statement fails at run time (division by zero).
  ASSERT_TRUE(c->send_read("SELECT CASE WHEN pg_catalog.pg_advisory_lock(8) IS NULL THEN 0 ELSE 1 / (g - 1) END "
                           "FROM pg_catalog.generate_series(1, 1) g",
                           {}, true, soon(), {}));
  Read read = read_statement(*c);
  ASSERT_TRUE(read.error);
  EXPECT_EQ(read.error->kind, core::ErrorKind::InvalidArgument);
  EXPECT_EQ(read.error->code, "22012");
  EXPECT_FALSE(c->broken());
  ASSERT_TRUE(c->finish_read(soon()));
  EXPECT_EQ(scalar(*observer, kAdvisoryLocks), "0");

  // The same session answers the next read, with bound parameters.
  ASSERT_TRUE(c->send_read("SELECT $1::int + 1, pg_catalog.pg_backend_pid()", PgParams{std::string("41")}, true, soon(), {}));
  read = read_statement(*c);
  ASSERT_FALSE(read.error) << read.error->message;
  EXPECT_EQ(read.first_column, (std::vector<std::string>{"42"}));
  ASSERT_TRUE(c->finish_read(soon()));
  EXPECT_EQ(scalar(*c, "SELECT pg_catalog.pg_backend_pid()"), pid);
}

TEST_F(PgPipelinedRead, AWriteIsRefusedByTheReadOnlyTransactionAndNothingIsLeft) {
  auto c = server_->connect();
  ASSERT_TRUE(c->send_read("CREATE TABLE pipelined_write (x int)", {}, true, soon(), {}));
  Read read = read_statement(*c);
  ASSERT_TRUE(read.error);
  EXPECT_EQ(read.error->code, "25006") << read.error->message;  // read_only_sql_transaction
  ASSERT_TRUE(c->finish_read(soon()));
  EXPECT_EQ(scalar(*c, "SELECT pg_catalog.to_regclass('pipelined_write') IS NULL"), "t");
}

TEST_F(PgPipelinedRead, APreparedStatementLeftByAFunctionIsReleased) {
  ASSERT_EQ(admin(*server_, "CREATE OR REPLACE FUNCTION leave_prepared() RETURNS int LANGUAGE plpgsql AS "
                            "$$ BEGIN EXECUTE 'PREPARE left_behind AS SELECT 1'; RETURN 1; END $$"),
            "");
  auto c = server_->connect();
  ASSERT_TRUE(c->send_read("SELECT leave_prepared()", {}, true, soon(), {}));
  Read read = read_statement(*c);
  ASSERT_FALSE(read.error) << read.error->message;  // PREPARE runs in a read-only transaction
  ASSERT_TRUE(c->finish_read(soon()));
  EXPECT_EQ(scalar(*c, "SELECT count(*) FROM pg_catalog.pg_prepared_statements"), "0");
}

TEST_F(PgPipelinedRead, NoSequenceStateCanOutliveARead) {
  // Why the reset after a read need not DISCARD SEQUENCES: a read-only transaction refuses
  // nextval() and setval() (a superuser's too, and inside a SECURITY DEFINER function), and cannot
  // create a temporary sequence.
  ASSERT_EQ(admin(*server_, "CREATE SEQUENCE IF NOT EXISTS counted; "
                            "CREATE OR REPLACE FUNCTION bump() RETURNS bigint LANGUAGE sql SECURITY DEFINER AS "
                            "'SELECT pg_catalog.nextval(''counted'')'"),
            "");
  for (const char* sql : {"SELECT pg_catalog.nextval('counted')", "SELECT pg_catalog.setval('counted', 5)",
                          "SELECT bump()", "CREATE TEMPORARY SEQUENCE left_behind"}) {
    auto c = server_->connect();
    ASSERT_TRUE(c->send_read(sql, {}, true, soon(), {}));
    Read read = read_statement(*c);
    ASSERT_TRUE(read.error) << sql;
    EXPECT_EQ(read.error->code, "25006") << sql << ": " << read.error->message;
    EXPECT_TRUE(c->finish_read(soon())) << sql;
  }
}

TEST_F(PgPipelinedRead, ACancelledReadBreaksTheConnectionRatherThanReusingIt) {
  auto c = server_->connect();
  std::atomic<int> polls{0};
  // The server answers BEGIN only at the sync point, after the statement: send_read() waits for
  // the statement too, and is where a cancellation lands (here at its second look at the flag).
  auto sent = c->send_read("SELECT pg_catalog.pg_sleep(2)", {}, true, soon(), [&] { return ++polls > 1; });
  EXPECT_TRUE(sent.cancelled());
  EXPECT_TRUE(c->broken());
  EXPECT_FALSE(c->finish_read(soon()));
  EXPECT_FALSE(c->reset(PgConnection::Reset::after_read, soon()));
  EXPECT_FALSE(c->usable());
}

TEST_F(PgPipelinedRead, TooManyParametersAreRefusedBeforeAnythingIsSent) {
  auto c = server_->connect();
  PgParams params(65536, std::string("1"));
  auto sent = c->send_read("SELECT 1", params, true, soon(), {});
  ASSERT_TRUE(sent.failed());
  EXPECT_EQ(sent.error().kind, core::ErrorKind::InvalidArgument);
  EXPECT_FALSE(c->broken());
  EXPECT_FALSE(c->needs_reset());
  EXPECT_TRUE(c->usable());
}

}  // namespace
}  // namespace mcpd::packs::sql
