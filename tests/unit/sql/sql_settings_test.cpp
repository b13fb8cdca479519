// The sql pack's settings (zero configuration, environment, every bad value named), the typed values
// of PostgreSQL results, result formatting, and a PostgreSQL source whose server is not there:
// connection errors, the breaker opening and answering at once, health, and the session options.
#include <gtest/gtest.h>

#include <map>

#include "packs/sql/migrations.hpp"
#include "packs/sql/pg_types.hpp"
#include "packs/sql/postgres_source.hpp"
#include "packs/sql/result_format.hpp"
#include "packs/sql/source_settings.hpp"

using namespace mcpd::packs::sql;
namespace json = boost::json;

namespace {

GetEnv env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

json::object settings(const char* text) { return json::parse(text).as_object(); }

std::string config_error(const json::object& s, const GetEnv& getenv = env({})) {
  try {
    parse_sources(s, "/data", getenv);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(SqlSettings, ZeroConfigurationIsTheSampleDatabase) {
  auto sources = parse_sources({}, "/data", env({}));
  ASSERT_EQ(sources.size(), 1u);
  EXPECT_EQ(sources[0].name, "sample");
  EXPECT_EQ(sources[0].type, "sqlite");
  EXPECT_TRUE(sources[0].sample);
  EXPECT_FALSE(sources[0].allow_writes);
  EXPECT_EQ(sources[0].path, "/data/sample.db");
}

TEST(SqlSettings, TheSeedEnvironmentAddsAPostgresSourceFirst) {
  auto sources = parse_sources({}, "/data",
                               env({{"POSTGRES_HOST", "db.internal"}, {"POSTGRES_PORT", "5433"}, {"POSTGRES_DB", "documents_db"},
                                    {"POSTGRES_USER", "postgres"}, {"POSTGRES_PASSWORD", "it's s3cret"}}));
  ASSERT_EQ(sources.size(), 2u);
  EXPECT_EQ(sources[0].name, "postgres");
  EXPECT_EQ(sources[0].url, "host='db.internal' port='5433' dbname='documents_db' user='postgres' password='it\\'s s3cret'");
  EXPECT_EQ(sources[1].name, "sample");

  auto url = parse_sources({}, "/data", env({{"DATABASE_URL", "postgresql://u:p@h/db"}, {"POSTGRES_HOST", "ignored"}}));
  EXPECT_EQ(url[0].url, "postgresql://u:p@h/db");
}

TEST(SqlSettings, ReadsEverySourceSetting) {
  auto sources = parse_sources(settings(R"({"sources":[
      {"name":"main","type":"postgres","url":"postgresql://h/db","allow_writes":true,"statement_timeout_ms":250,
       "max_rows":10,"pool_min":0,"pool_max":3,"pool_idle_seconds":9,"breaker_failures":2,"breaker_open_seconds":4,
       "retries":1,"connect_timeout_seconds":2},
      {"name":"local","type":"sqlite","path":"/tmp/x.db"}]})"),
                               "/data", env({}));
  ASSERT_EQ(sources.size(), 2u);  // configured sources replace the zero-configuration ones
  const auto& m = sources[0];
  EXPECT_TRUE(m.allow_writes);
  EXPECT_EQ(m.statement_timeout.count(), 250);
  EXPECT_EQ(m.max_rows, 10u);
  EXPECT_EQ(m.pool_min, 0u);
  EXPECT_EQ(m.pool_max, 3u);
  EXPECT_EQ(m.pool_idle.count(), 9);
  EXPECT_EQ(m.breaker_failures, 2);
  EXPECT_EQ(m.breaker_open.count(), 4);
  EXPECT_EQ(m.retries, 1);
  EXPECT_EQ(m.connect_timeout.count(), 2);
  EXPECT_EQ(sources[1].path, "/tmp/x.db");
  EXPECT_EQ(sources[1].max_rows, 1000u);
}

TEST(SqlSettings, BadSettingsAreNamedInOneSentence) {
  EXPECT_NE(config_error(settings(R"({"source":[]})")).find("unknown setting 'source'"), std::string::npos);
  EXPECT_NE(config_error(settings(R"({"sources":[{"name":"a","type":"sqlite","path":"x","colour":1}]})"))
                .find("sources.a: unknown setting 'colour'"),
            std::string::npos);
  EXPECT_NE(config_error(settings(R"({"sources":[{"name":"a","type":"mysql"}]})")).find("sources.a.type"), std::string::npos);
  EXPECT_NE(config_error(settings(R"({"sources":[{"type":"sqlite","path":"x"}]})")).find("sources[0].name"), std::string::npos);
  EXPECT_NE(config_error(settings(R"({"sources":[{"name":"a b","type":"sqlite","path":"x"}]})")).find("name"), std::string::npos);
  EXPECT_NE(config_error(settings(R"({"sources":[{"name":"a","type":"sqlite"}]})")).find("sources.a.path"), std::string::npos);
  EXPECT_NE(config_error(settings(R"({"sources":[{"name":"a","type":"postgres"}]})")).find("sources.a.url"), std::string::npos);
  EXPECT_NE(config_error(settings(R"({"sources":[{"name":"a","type":"sqlite","path":"x","max_rows":0}]})"))
                .find("sources.a.max_rows: must be an integer from 1"),
            std::string::npos);
  EXPECT_NE(config_error(settings(R"({"sources":[{"name":"a","type":"sqlite","path":"x","allow_writes":"yes"}]})"))
                .find("sources.a.allow_writes: must be true or false"),
            std::string::npos);
  EXPECT_NE(config_error(settings(R"({"sources":[{"name":"a","type":"postgres","url":"u","pool_min":5,"pool_max":2}]})"))
                .find("pool_min"),
            std::string::npos);
  EXPECT_NE(config_error(settings(R"({"sources":[{"name":"a","type":"sqlite","path":"x"},{"name":"a","type":"sqlite","path":"y"}]})"))
                .find("used twice"),
            std::string::npos);
  // A URL libpq cannot read is refused when the source is made, without echoing the password.
  SourceSettings bad;
  bad.name = "bad";
  bad.type = "postgres";
  bad.url = "postgresql://user:hunter2@host/db?nonsense=1";
  try {
    PostgresSource source(bad);
    ADD_FAILURE() << "accepted a bad URL";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("sources.bad.url"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos) << e.what();
  }
}

TEST(PgTypes, MapsTheServersTextToTypedJson) {
  EXPECT_EQ(pg_value(23, "42"), json::value(42));
  EXPECT_EQ(pg_value(20, "9007199254740992"), json::value(9007199254740992LL));
  EXPECT_EQ(pg_value(20, "9007199254740993"), json::value("9007199254740993"));
  EXPECT_EQ(pg_value(20, "-9223372036854775808"), json::value("-9223372036854775808"));
  EXPECT_EQ(pg_value(701, "1.5"), json::value(1.5));
  EXPECT_EQ(pg_value(701, "NaN"), json::value("NaN"));
  EXPECT_EQ(pg_value(700, "-Infinity"), json::value("-Infinity"));
  EXPECT_EQ(pg_value(1700, "12345678901234567890.123"), json::value("12345678901234567890.123"));
  EXPECT_EQ(pg_value(16, "t"), json::value(true));
  EXPECT_EQ(pg_value(16, "f"), json::value(false));
  EXPECT_EQ(pg_value(3802, R"({"a": [1, 2]})"), json::parse(R"({"a":[1,2]})"));
  EXPECT_EQ(pg_value(114, "[1, 2]"), json::parse("[1,2]"));
  EXPECT_EQ(pg_value(17, "\\x4869"), json::value("SGk="));
  EXPECT_EQ(pg_value(1184, "2026-01-02 12:00:00+00"), json::value("2026-01-02 12:00:00+00"));
  EXPECT_EQ(pg_value(2950, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), json::value("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));
  EXPECT_EQ(pg_builtin_type_name(1184), "timestamptz");
  EXPECT_EQ(pg_builtin_type_name(999999), "");
  EXPECT_EQ(pg_param_text(json::value(1.0)), "1");
  EXPECT_EQ(pg_param_text(json::value(2.5)), "2.5");
  EXPECT_EQ(pg_param_text(json::value(true)), "true");
  EXPECT_EQ(pg_param_text(json::parse(R"({"a":1})")), R"({"a":1})");
}

TEST(ResultFormat, UniqueNamesAndAReadableTable) {
  std::vector<Column> columns{{"id", "int4"}, {"id", "int4"}, {"id_2", "text"}, {"?column?", "int4"}, {"?column?", "int4"}};
  make_names_unique(columns);
  EXPECT_EQ(columns[0].name, "id");
  EXPECT_EQ(columns[1].name, "id_3");  // id_2 is a real column
  EXPECT_EQ(columns[2].name, "id_2");
  EXPECT_EQ(columns[4].name, "?column?_2");

  QueryResult r;
  r.columns = {{"id", "int4"}, {"name", "text"}};
  r.rows.push_back(json::object{{"id", 1}, {"name", "Zoë"}});
  r.rows.push_back(json::object{{"id", 22}, {"name", nullptr}});
  r.truncated = true;
  EXPECT_EQ(result_text("pg", r, 2), "id | name\n---+-----\n1  | Zoë\n22 | NULL\n(2 rows, truncated at max_rows=2 from pg)");
  auto j = result_json("pg", r);
  EXPECT_EQ(j.at("row_count"), json::value(2));
  EXPECT_EQ(j.at("truncated"), json::value(true));
  EXPECT_FALSE(j.contains("rows_affected"));
}

TEST(Migrations, WritesAreOneStatementWithoutTransactionControl) {
  EXPECT_TRUE(check_single_write("INSERT INTO t VALUES (1)", Dialect::postgres).ok());
  const auto two = check_single_write("INSERT INTO t VALUES (1); DELETE FROM t", Dialect::postgres);
  ASSERT_TRUE(two.failed());
  EXPECT_EQ(two.error().kind, mcpd::core::ErrorKind::Refused);
  EXPECT_NE(two.error().message.find("exactly one statement"), std::string::npos) << two.error().message;
  EXPECT_TRUE(check_single_write("COMMIT", Dialect::postgres).failed());
  EXPECT_TRUE(check_single_write("start transaction", Dialect::postgres).failed());
  EXPECT_TRUE(check_migration(inline_migration("CREATE TABLE a (x int); CREATE FUNCTION f() RETURNS void AS $$ BEGIN "
                                               "COMMIT; END $$ LANGUAGE plpgsql;"),
                              Dialect::postgres)
                  .ok());
  const auto rollback = check_migration(inline_migration("CREATE TABLE a (x int); ROLLBACK;"), Dialect::postgres);
  ASSERT_TRUE(rollback.failed());
  EXPECT_EQ(rollback.error().kind, mcpd::core::ErrorKind::Refused);
  EXPECT_NE(rollback.error().message.find("holds transaction control"), std::string::npos) << rollback.error().message;
  EXPECT_EQ(inline_migration("SELECT 1").name.size(), 64u);
}

// No server listens on port 1: every connect is refused at once.
TEST(PostgresSource, OpensItsBreakerAfterConsecutiveFailuresAndAnswersAtOnce) {
  SourceSettings s;
  s.name = "down";
  s.type = "postgres";
  s.url = "postgresql://mcpd:secret-password@127.0.0.1:1/db";
  s.breaker_failures = 2;
  s.breaker_open = std::chrono::seconds(60);
  s.retries = 1;
  s.connect_timeout = std::chrono::seconds(2);
  PostgresSource source(s);
  EXPECT_EQ(source.display_target(), "mcpd@127.0.0.1:1/db");

  QueryRequest q;
  q.sql = "SELECT 1";
  using mcpd::core::ErrorKind;
  for (int i = 0; i < 2; ++i) {
    auto out = source.query(q);
    ASSERT_TRUE(out.failed());
    EXPECT_EQ(out.error().kind, ErrorKind::Unavailable);
    // The connect's own reason, carried back from the pool's factory without an exception.
    EXPECT_NE(out.error().message.find("cannot connect to PostgreSQL source 'down' (mcpd@127.0.0.1:1/db): "),
              std::string::npos)
        << out.error().message;
    EXPECT_NE(out.error().message.find("connection refused"), std::string::npos) << out.error().message;
    EXPECT_EQ(out.error().message.find("secret-password"), std::string::npos);
  }
  EXPECT_EQ(source.health().status, "circuit open after 2 failures; retrying in 60 s");
  auto fast = source.query(q);
  ASSERT_TRUE(fast.failed());
  EXPECT_EQ(fast.error().kind, ErrorKind::Unavailable);
  EXPECT_NE(fast.error().message.find("circuit breaker open"), std::string::npos) << fast.error().message;
  EXPECT_NE(fast.error().message.find("connection refused"), std::string::npos) << fast.error().message;
  EXPECT_EQ(source.health().details.at("breaker"), json::value("open"));

  // Refused statements never reach the breaker or the server.
  q.sql = "DELETE FROM t";
  auto read = source.query(q);
  ASSERT_TRUE(read.failed());
  EXPECT_EQ(read.error().kind, ErrorKind::Refused);
  auto write = source.execute(q);  // writes are off
  ASSERT_TRUE(write.failed());
  EXPECT_EQ(write.error().kind, ErrorKind::Refused);
}

TEST(PostgresSource, SessionsAreReadOnlyUtf8AndNamedMcpd) {
  SourceSettings s;
  s.name = "p";
  s.type = "postgres";
  s.url = "postgresql://u@h:5432/db?application_name=other&options=-c%20search_path%3Dapp";
  s.statement_timeout = std::chrono::milliseconds(1234);
  PostgresSource source(s);
  std::map<std::string, std::string> p(source.connection_params().begin(), source.connection_params().end());
  EXPECT_EQ(p["application_name"], "mcpd");
  EXPECT_EQ(p["client_encoding"], "UTF8");
  EXPECT_EQ(p["options"], "-c search_path=app -c default_transaction_read_only=on -c statement_timeout=1234 "
                          "-c DateStyle=ISO -c bytea_output=hex");
}
