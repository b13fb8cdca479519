// The read-only statement check: what sql_query accepts, and every known way to slip a write past it.
#include "packs/sql/statement_guard.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

using namespace mcpd::packs::sql;

namespace {

constexpr Dialect kPg = Dialect::postgres;
constexpr Dialect kLite = Dialect::sqlite;

void expect_accepted(std::string_view sql, Dialect dialect = kPg) {
  const auto refused = check_read_only(sql, dialect);
  EXPECT_FALSE(refused.has_value()) << "SQL: " << sql << "\nrefused: " << refused.value_or("");
}

// `reason` is a part of the expected sentence.
void expect_refused(std::string_view sql, std::string_view reason, Dialect dialect = kPg) {
  const auto refused = check_read_only(sql, dialect);
  ASSERT_TRUE(refused.has_value()) << "SQL was accepted: " << sql;
  EXPECT_NE(refused->find(reason), std::string::npos)
      << "SQL: " << sql << "\nreason: " << *refused << "\nexpected it to contain: " << reason;
}

}  // namespace

// ---- accepted ----------------------------------------------------------------------------------

TEST(StatementGuard, AcceptsPlainReads) {
  expect_accepted("SELECT 1");
  expect_accepted("select * from users where id = $1 and name = $2");
  expect_accepted("SELECT u.name, o.total FROM users u JOIN orders o ON o.user_id = u.id LEFT JOIN x ON true");
  expect_accepted("SELECT count(*) FROM t GROUP BY a HAVING count(*) > 1 ORDER BY 1 DESC LIMIT 10 OFFSET 5");
  expect_accepted("SELECT * FROM t FETCH FIRST 5 ROWS ONLY");
  expect_accepted("SELECT substring(name FROM 1 FOR 3), x::text, '1'::int, .5, 1e-3, 0x1F FROM t");
  expect_accepted("VALUES (1, 'a'), (2, 'b')");
  expect_accepted("TABLE users");
  expect_accepted("(SELECT 1) UNION ALL (SELECT 2)");
  expect_accepted("SHOW search_path");
  expect_accepted("SELECT 'héllo', \"naïve\" FROM t");
  expect_accepted("SELECT a$b, c$ FROM t");
}

TEST(StatementGuard, AcceptsCommonTableExpressions) {
  expect_accepted(
      "WITH recent AS (SELECT * FROM orders WHERE created_at > now() - interval '1 day') "
      "SELECT count(*) FROM recent");
  expect_accepted("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10) SELECT * FROM n");
  expect_accepted("WITH a AS MATERIALIZED (SELECT 1) SELECT * FROM a");
}

TEST(StatementGuard, AcceptsKeywordsInsideStringsCommentsAndQuotedNames) {
  expect_accepted("SELECT 'DROP TABLE x'");
  expect_accepted("SELECT 'it''s; DELETE FROM t'");
  expect_accepted("SELECT E'\\'; DELETE FROM t' AS s");
  expect_accepted("SELECT 1 -- DROP TABLE t");
  expect_accepted("SELECT /* DELETE FROM t; */ 1");
  expect_accepted("SELECT /* outer /* DROP */ still a comment; DELETE */ 1");
  expect_accepted("SELECT $$DROP TABLE t; DELETE FROM u$$");
  expect_accepted("SELECT $tag$ it's $$ DROP $$ ; $tag$");
  expect_accepted("SELECT \"delete\", \"drop\" FROM \"update\"");
  expect_accepted("SELECT * FROM pg_proc WHERE proname = 'set_config'");
}

TEST(StatementGuard, AcceptsTrailingSemicolonAndComments) {
  expect_accepted("SELECT 1;");
  expect_accepted("SELECT 1 ;  -- done\n");
  expect_accepted("SELECT 1; /* tail */ ;");
  expect_accepted("-- leading comment\nSELECT 1");
}

TEST(StatementGuard, AcceptsExplainOfAReadAndItsOptions) {
  expect_accepted("EXPLAIN SELECT * FROM t");
  expect_accepted("EXPLAIN ANALYZE VERBOSE SELECT * FROM t");
  expect_accepted("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT 1");
  expect_accepted("EXPLAIN (SELECT 1)");
  expect_accepted("EXPLAIN QUERY PLAN SELECT * FROM t", kLite);
}

TEST(StatementGuard, AcceptsFunctionsThatOnlyRead) {
  expect_accepted("SELECT replace(name, 'a', 'b') FROM t");     // REPLACE is a write only as a statement
  expect_accepted("SELECT lo_price, edit, nextval FROM bars");  // names of refused functions, not calls
  expect_accepted("SELECT currval('s'), txid_current_if_assigned(), pg_sleep(0.1)");
  expect_accepted("SELECT * FROM pg_file_settings");
}

TEST(StatementGuard, AcceptsSqliteSyntax) {
  expect_accepted("SELECT * FROM [order] WHERE `group` = ?1 AND a = ? AND b = :name AND c = @v AND d = $w", kLite);
  expect_accepted("SELECT 'a\\' FROM t", kLite);  // no backslash escapes in SQLite
  expect_accepted("PRAGMA table_info(users)", kLite);
  expect_accepted("PRAGMA main.index_list('users')", kLite);
  expect_accepted("PRAGMA user_version", kLite);
  expect_accepted("SELECT * FROM pragma_table_info('users')", kLite);
  // SQLite comments do not nest: this one ends at the first */.
  expect_accepted("SELECT /* /* */ 1", kLite);
}

// ---- refused: more than one statement ------------------------------------------------------------

TEST(StatementGuard, RefusesSeveralStatements) {
  expect_refused("COMMIT; DROP TABLE users", "only one statement may be sent; found 2");
  expect_refused("SELECT 1; SELECT 2", "found 2");
  expect_refused("SELECT 1;; SELECT 2; SELECT 3;", "found 3");
  expect_refused("SELECT 1; -- \n DROP TABLE t", "found 2");
  expect_refused("SELECT 1 /**/ ; DELETE FROM t", "found 2");
}

TEST(StatementGuard, RefusesStatementsHiddenByMislexing) {
  // In PostgreSQL "a$$" is one name, so the text after ';' is not inside a $$ string.
  expect_refused("SELECT 1 AS a$$; DELETE FROM t; SELECT 1 AS b$$", "found 3");
  // PostgreSQL ends a -- comment at \r as well.
  expect_refused("SELECT 1 -- c\rDELETE FROM t", "'DELETE' is a write");
  // SQLite: [name] hides a quote; comments do not nest.
  expect_refused("SELECT [a'] FROM t; DELETE FROM t; --']", "only one statement", kLite);
  expect_refused("SELECT 1 /* /* */ ; DELETE FROM t; /* */ */", "only one statement", kLite);
  // With standard_conforming_strings off, '\'' does not end the string: both readings must pass.
  expect_refused("SELECT '\\' , ' ; DELETE FROM t; --'", "standard_conforming_strings");
  expect_accepted("SELECT 'a\\d+' ~ x FROM t");
  expect_accepted("SELECT 'C:\\' AS path");  // does not lex with backslash escapes: such a server rejects it
}

// PostgreSQL joins string constants separated by a line break into one, and the joined part keeps
// the first part's escapes: here the second line's \' is an escaped quote, so lo_create is a call.
TEST(StatementGuard, ReadsJoinedStringsAsTheServerDoes) {
  for (const char* sql : {"SELECT E'x'\n'\\'' , lo_create(0) --'", "SELECT E'x' -- c\r\n\t'\\'' , lo_create(0) --'",
                          "SELECT E'x'\n-- c\n'a' \n'\\'' , lo_create(0) --'"}) {
    const auto refused = check_read_only(sql, kPg);
    ASSERT_TRUE(refused.has_value()) << sql;
    EXPECT_NE(refused->find("function 'lo_create'"), std::string::npos) << *refused;
    // Refused on the server's own reading, not only on the standard_conforming_strings=off one.
    EXPECT_EQ(refused->find("standard_conforming_strings"), std::string::npos) << *refused;
  }
  // Without a line break the parts are not joined: the next '…' is a fresh string, read without escapes.
  expect_refused("SELECT E'x' '\\' , lo_create(0) --'", "function 'lo_create'");
  expect_accepted("SELECT E'C:\\\\'\n'dir' AS path, 'a'\n  -- note\n'b' AS s");
}

// ---- refused: writes and everything else that is not a read ----------------------------------------

TEST(StatementGuard, RefusesWritableCtes) {
  expect_refused("WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x",
                 "'DELETE' is a write: sql_query is read-only (use sql_execute where the source allows writes)");
  expect_refused("WITH x AS (INSERT INTO t VALUES (1) RETURNING id) SELECT * FROM x", "'INSERT' is a write");
  expect_refused("WITH x AS (UPDATE t SET a = 1 RETURNING *) SELECT 1", "'UPDATE' is a write");
  expect_refused("WITH x AS (SELECT 1) DELETE FROM t", "'DELETE' is a write");
}

TEST(StatementGuard, RefusesSelectIntoAndRowLocks) {
  expect_refused("SELECT * INTO backup FROM users", "'SELECT … INTO' creates a table");
  expect_refused("SELECT * FROM t FOR UPDATE", "'FOR UPDATE' locks rows");
  expect_refused("SELECT * FROM t FOR NO KEY UPDATE SKIP LOCKED", "'FOR NO KEY UPDATE' locks rows");
  expect_refused("SELECT * FROM t FOR SHARE", "'FOR SHARE' locks rows");
  expect_refused("SELECT * FROM t FOR KEY SHARE", "'FOR KEY SHARE' locks rows");
}

TEST(StatementGuard, RefusesSessionAndTransactionChanges) {
  expect_refused("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE", "'SET' changes a session setting");
  expect_refused("SET default_transaction_read_only = off", "'SET'");
  expect_refused("set transaction read write", "'SET'");
  expect_refused("RESET ALL", "'RESET'");
  expect_refused("BEGIN READ WRITE", "'BEGIN' controls the transaction");
  expect_refused("START TRANSACTION READ WRITE", "'START' controls the transaction");
  expect_refused("COMMIT", "'COMMIT'");
  expect_refused("ROLLBACK", "'ROLLBACK'");
  expect_refused("SAVEPOINT s", "'SAVEPOINT'");
  expect_refused("RELEASE SAVEPOINT s", "'RELEASE'");
  expect_refused("DISCARD ALL", "'DISCARD'");
  expect_refused("PREPARE p AS DELETE FROM t", "'PREPARE' works with prepared statements");
  expect_refused("EXECUTE p", "'EXECUTE' works with prepared statements");
  expect_refused("DEALLOCATE p", "'DEALLOCATE'");
  expect_refused("LISTEN ch", "'LISTEN'");
  expect_refused("NOTIFY ch", "'NOTIFY'");
  expect_refused("UNLISTEN *", "'UNLISTEN'");
}

TEST(StatementGuard, RefusesWritesAndAdministration) {
  expect_refused("COPY (SELECT 1) TO PROGRAM 'rm -rf /'",
                 "'COPY' moves data between tables and files or programs");
  expect_refused("COPY t FROM '/etc/passwd'", "'COPY'");
  expect_refused("DO $$ BEGIN DELETE FROM t; END $$", "'DO' runs a code block");
  expect_refused("CALL p()", "'CALL' runs a procedure");
  expect_refused("INSERT INTO t VALUES (1)", "'INSERT' is a write");
  expect_refused("UPDATE t SET a = 1", "'UPDATE' is a write");
  expect_refused("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE", "'MERGE' is a write");
  expect_refused("TRUNCATE t", "'TRUNCATE'");
  expect_refused("CREATE TABLE t (a int)", "'CREATE' is a write");
  expect_refused("CREATE TABLE t AS SELECT 1", "'CREATE'");
  expect_refused("DROP TABLE t", "'DROP'");
  expect_refused("ALTER TABLE t ADD COLUMN b int", "'ALTER'");
  expect_refused("GRANT ALL ON t TO PUBLIC", "'GRANT'");
  expect_refused("REVOKE ALL ON t FROM PUBLIC", "'REVOKE'");
  expect_refused("LOCK TABLE t IN ACCESS EXCLUSIVE MODE", "'LOCK' takes table locks");
  expect_refused("VACUUM FULL", "'VACUUM'");
  expect_refused("ANALYZE t", "'ANALYZE'");
  expect_refused("REINDEX TABLE t", "'REINDEX'");
  expect_refused("CLUSTER t", "'CLUSTER'");
  expect_refused("REFRESH MATERIALIZED VIEW v", "'REFRESH'");
  // Not on the keyword list, but not a read either.
  expect_refused("COMMENT ON TABLE t IS 'x'",
                 "'COMMENT' is not a read: sql_query accepts statements starting with");
  expect_refused("LOAD 'plpython3u'", "'LOAD' is not a read");
  expect_refused("CHECKPOINT", "'CHECKPOINT' is not a read");
  expect_refused("DECLARE c CURSOR FOR SELECT 1", "'DECLARE' is not a read");
  expect_refused("PRAGMA table_info(t)", "'PRAGMA' is not a read");  // PostgreSQL has no PRAGMA
  expect_refused("'abc'", "a statement must start with SELECT");
}

TEST(StatementGuard, RefusesExplainOfAWrite) {
  expect_refused("EXPLAIN ANALYZE DELETE FROM t", "'DELETE' is a write");
  expect_refused("EXPLAIN (ANALYZE true) INSERT INTO t VALUES (1)", "'INSERT' is a write");
  expect_refused("EXPLAIN ANALYZE CREATE TABLE t AS SELECT 1", "'CREATE' is a write");
  expect_refused("EXPLAIN EXECUTE p", "'EXECUTE'");
  expect_refused("EXPLAIN ANALYZE SELECT * INTO b FROM t", "'SELECT … INTO'");
  expect_refused("EXPLAIN", "EXPLAIN needs a statement");
  expect_refused("EXPLAIN (ANALYZE SELECT 1", "EXPLAIN's option list is not closed");
  expect_refused("EXPLAIN QUERY PLAN DELETE FROM t", "'DELETE' is a write", kLite);
}

TEST(StatementGuard, RefusesKeywordsHiddenByCaseAndComments) {
  expect_refused("/* x */ dRoP table t", "'DROP' is a write");
  expect_refused("dElEtE FROM t", "'DELETE' is a write");
  expect_refused("SELECT 1 FROM t WHERE x IN (/* */ DeLeTe FROM t)", "'DELETE' is a write");
  expect_refused("DEL/**/ETE FROM t", "'DEL' is not a read");  // two words: still refused
  expect_refused("SELECT 1delete", "'DELETE' is a write");
}

TEST(StatementGuard, SuggestsQuotingWhereAKeywordMayBeAName) {
  expect_refused("SELECT start, stop FROM events",
                 "'START' controls the transaction, which sql_query runs itself, read-only; if it is a name here, "
                 "write it in double quotes (\"start\")");
  expect_accepted("SELECT \"start\", stop FROM events");
  // Where a statement starts, it is a keyword: no suggestion.
  for (const char* sql :
       {"WITH x AS (DELETE FROM t) SELECT 1", "WITH x AS (SELECT 1) DELETE FROM t", "DELETE FROM t"}) {
    const auto refused = check_read_only(sql, kPg);
    ASSERT_TRUE(refused.has_value()) << sql;
    EXPECT_EQ(refused->find("double quotes"), std::string::npos) << *refused;
  }
}

TEST(StatementGuard, RefusesSideEffectFunctions) {
  expect_refused("SELECT pg_terminate_backend(1)", "function 'pg_terminate_backend' acts on other sessions");
  expect_refused("SELECT pg_cancel_backend(pid) FROM pg_stat_activity", "'pg_cancel_backend'");
  expect_refused("SELECT lo_import('/etc/passwd')", "function 'lo_import'");
  expect_refused("SELECT lo_export(1, '/tmp/x')", "'lo_export'");
  expect_refused("SELECT set_config('default_transaction_read_only','off',false)",
                 "function 'set_config' has side effects");
  expect_refused("SELECT pg_catalog.set_config('a','b',false)", "'set_config'");
  expect_refused("SELECT PG_CATALOG.SET_CONFIG('a','b',false)", "'set_config'");
  expect_refused("SELECT \"pg_catalog\".\"set_config\"('a','b',false)", "'set_config'");
  expect_refused("SELECT set_config /* hidden */ ('a','b',false)", "'set_config'");
  expect_refused("SELECT * FROM t WHERE nextval('s') > 0", "'nextval'");
  expect_refused("SELECT setval('s', 1)", "'setval'");
  expect_refused("SELECT pg_reload_conf()", "'pg_reload_conf'");
  expect_refused("SELECT pg_rotate_logfile()", "'pg_rotate_logfile'");
  expect_refused("SELECT pg_read_file('/etc/passwd')",
                 "function 'pg_read_file' reads the database server's files");
  expect_refused("SELECT pg_read_binary_file('x')", "'pg_read_binary_file'");
  expect_refused("SELECT * FROM pg_ls_dir('.')", "'pg_ls_dir'");
  expect_refused("SELECT pg_stat_file('x')", "'pg_stat_file'");
  expect_refused("SELECT * FROM dblink('host=x', 'DELETE FROM t') AS t(a int)",
                 "function 'dblink' runs SQL given as text");
  expect_refused("SELECT dblink_exec('DELETE FROM t')", "'dblink_exec'");
  expect_refused("SELECT pg_advisory_lock(1)", "'pg_advisory_lock' takes or releases advisory locks");
  expect_refused("SELECT pg_try_advisory_xact_lock(1)", "'pg_try_advisory_xact_lock'");
  expect_refused("SELECT pg_switch_wal()", "'pg_switch_wal'");
  expect_refused("SELECT pg_create_restore_point('x')", "'pg_create_restore_point'");
  expect_refused("SELECT pg_promote()", "'pg_promote'");
  expect_refused("SELECT txid_current()", "'txid_current' assigns a transaction id");
  expect_refused("SELECT pg_current_xact_id()", "'pg_current_xact_id'");
  expect_refused("SELECT lo_from_bytea(0, 'x'), lo_put(1, 0, 'x'), lo_unlink(1), lo_create(0)", "'lo_from_bytea'");
  expect_refused("SELECT query_to_xml('DELETE FROM t RETURNING *', true, false, '')", "runs SQL given as text");
  // ts_rewrite runs its second argument as a query inside the server.
  expect_refused("SELECT ts_rewrite('a'::tsquery, 'SELECT set_config(''default_transaction_read_only'',''off'',false)::tsquery, ''a''::tsquery')",
                 "runs SQL given as text");
  expect_refused("SELECT pg_notify('ch', 'x')", "'pg_notify'");
  expect_refused("SELECT U&\"\\0073et_config\"('a','b',false)", "U&\"…\" names are not accepted");
  expect_refused("SELECT load_extension('/tmp/evil.so')", "'load_extension' loads native code", kLite);
}

// PostgreSQL reads x.f as f(x) when x has no column f (field-call notation), whatever stands before
// the dot and however the name is spelled.
TEST(StatementGuard, RefusesFieldCallNotation) {
  expect_refused("SELECT (0::oid).lo_create",
                 "'(…).lo_create' is a call of function 'lo_create' (PostgreSQL reads x.f as f(x) when x has no "
                 "column f), and that function works with large objects");
  expect_refused("SELECT (42::bigint).pg_advisory_lock", "'(…).pg_advisory_lock' is a call of function");
  expect_refused("SELECT (pid).pg_cancel_backend FROM pg_stat_activity", "function 'pg_cancel_backend'");
  expect_refused("SELECT (pid).pg_terminate_backend FROM pg_stat_activity", "function 'pg_terminate_backend'");
  expect_refused("SELECT ('DELETE FROM t').dblink_exec", "runs SQL given as text");
  expect_refused("SELECT ('s').nextval", "function 'nextval'");
  expect_refused("SELECT ('s'::regclass).\"setval\"", "function 'setval'");
  expect_refused("SELECT (1).\"lo_unlink\"", "'(…).lo_unlink' is a call of function 'lo_unlink'");
  expect_refused("SELECT (1).\"LO_UNLINK\"", "function 'lo_unlink'");  // quoted names compared without case
  expect_refused("SELECT (1). /* c */ lo_unlink", "function 'lo_unlink'");
  expect_refused("SELECT (1) /* c */ . -- c\n Lo_UnLink", "function 'lo_unlink'");
  expect_refused("SELECT (1).\n\tpg_advisory_xact_lock", "function 'pg_advisory_xact_lock'");
  expect_refused("SELECT $1.pg_advisory_lock", "'$1.pg_advisory_lock' is a call of function");
  expect_refused("SELECT arr[1].lo_unlink FROM t", "'…[…].lo_unlink' is a call of function");
  expect_refused("SELECT t.lo_create FROM t", "'t.lo_create' is a call of function 'lo_create'");
  expect_refused("SELECT \"T\".lo_create FROM \"T\"", "'\"T\".lo_create' is a call of function");
  expect_refused("SELECT x.LO_CREATE FROM t AS x", "function 'lo_create'");
  expect_refused("SELECT s.t.pg_advisory_lock FROM s.t", "function 'pg_advisory_lock'");
  expect_refused("SELECT db.s.t.lo_create FROM s.t", "function 'lo_create'");
  expect_refused("SELECT 1 FROM t WHERE (t.id).pg_try_advisory_lock", "function 'pg_try_advisory_lock'");
  expect_refused("SELECT ('x').pg_read_file", "reads the database server's files");
  expect_refused("SELECT (0.5).setseed", "changes session state that later calls on the same connection");
  expect_refused("SELECT ('select 1').crosstab", "runs SQL given as text");
  expect_refused("SELECT t.lo_create FROM t",
                 "if it is a column, name it without the prefix or rename it in a subquery");
  // Call syntax, schema-qualified with the dot and the name apart.
  expect_refused("SELECT pg_catalog . /* c */ lo_create (0)", "function 'lo_create'");
  // SQLite has no field-call notation: a name after '.' is a column there.
  expect_accepted("SELECT t.lo_create, t.edit, t.load_extension FROM t", kLite);
}

// In a single-byte database encoding PostgreSQL lowercases non-ASCII letters of unquoted names with
// the locale's rules: in LATIN5 under tr_TR 'İ' becomes 'i', so these call the denied functions.
TEST(StatementGuard, RefusesNonAsciiLettersTheServerMayFoldToAscii) {
  expect_refused("SELECT PG_TERMİNATE_BACKEND(pid) FROM pg_stat_activity",
                 "function 'pg_termİnate_backend' (which a server with a single-byte encoding may read as "
                 "'pg_terminate_backend'; if it names another function, write the name in double quotes) acts on "
                 "other sessions");
  expect_refused("SELECT PG_ADVİSORY_LOCK(4242)", "may read as 'pg_advisory_lock'");
  expect_refused("SELECT pg_catalog.SET_CONFİG('work_mem', '1MB', false)", "'set_config'");
  expect_refused("SELECT * FROM DBLİNK('c', 'DELETE FROM t') AS r(a int)", "runs SQL given as text");
  expect_refused("SELECT (4242::bigint).PG_ADVİSORY_LOCK", "is a call of function 'pg_advisory_lock'");
  expect_refused("SELECT (pid).PG_TERMİNATE_BACKEND FROM pg_stat_activity", "function 'pg_terminate_backend'");
  expect_refused("SELECT ('/etc/passwd').PG_READ_FİLE", "function 'pg_read_file'");
  // Any non-ASCII letter may fold to any ASCII one, whatever the locale; families by prefix too.
  expect_refused("SELECT lÖ_create(0)", "may read as 'lo_create'");
  expect_refused("SELECT PG_ADVİSORY_SOMETHİNG_NEW(1)", "advisory locks");
  // Quoted names are never folded, and a longer or shorter name reaches nothing.
  expect_accepted("SELECT \"pg_termİnate_backend\"(1), t.\"PG_ADVİSORY_LOCK\" FROM t");
  expect_accepted("SELECT pg_terminate_backendé(1), sét_configs(1), t.lé_price, naïve(1) FROM t");
  // Non-ASCII names as columns and in strings are reads.
  expect_accepted("SELECT PG_TERMİNATE_BACKEND, 'PG_ADVİSORY_LOCK(1)' FROM t");
}

TEST(StatementGuard, RefusesEveryFamilyOfDeniedFunctions) {
  expect_refused("SELECT setseed(0.5)", "changes session state");
  expect_refused("SELECT set_limit(0.5)", "changes session state");
  expect_refused("SELECT * FROM crosstab('SELECT 1') AS c(a int)", "runs SQL given as text");
  expect_refused("SELECT * FROM connectby('t', 'id', 'parent', '1', 0) AS c(a int, b int, l int)",
                 "runs SQL given as text");
  expect_refused("SELECT * FROM xpath_table('id', 'doc', 't', '/a', 'true') AS x(id int, a text)",
                 "runs SQL given as text");
  expect_refused("SELECT cursor_to_xml('c', 1, true, false, '')", "runs SQL given as text");
  expect_refused("SELECT query_to_xml_and_xmlschema('SELECT 1', true, false, '')", "runs SQL given as text");
  expect_refused("SELECT postgres_fdw_disconnect_all()", "opens or manages connections to other servers");
  expect_refused("SELECT dblink_connect('host=x')", "opens or manages connections");
  expect_refused("SELECT heap_force_kill('t', ARRAY['(0,1)'::tid])", "writes tables, indexes or the catalog");
  expect_refused("SELECT pg_truncate_visibility_map('t')", "writes tables");
  expect_refused("SELECT brin_summarize_new_values('i')", "writes tables");
  expect_refused("SELECT gin_clean_pending_list('i')", "writes tables");
  expect_refused("SELECT binary_upgrade_set_next_pg_type_oid(1)", "writes tables");
  expect_refused("SELECT pg_file_sync('x')", "has side effects");
  expect_refused("SELECT * FROM pg_logdir_ls()", "reads the database server's files");
  expect_refused("SELECT get_raw_page('t', 0)", "reads the database server's files");
  expect_refused("SELECT pg_current_logfile()", "reads the database server's files");
  expect_refused("SELECT * FROM pg_get_wal_records_info('0/0', '0/1')", "reads the database server's files");
  expect_refused("SELECT xslt_process('<a/>', '<x/>')", "reads the database server's files");
  expect_refused("SELECT pg_prewarm('t')", "acts on other sessions or on the server itself");
  expect_refused("SELECT pg_log_backend_memory_contexts(1)", "acts on other sessions");
  expect_refused("SELECT pg_replication_origin_session_reset()", "replication state");
  expect_refused("SELECT * FROM pg_logical_slot_peek_changes('s', NULL, NULL)", "replication state");
  expect_refused("SELECT lo_get(1), loread(0, 1)", "works with large objects");
  expect_refused("SELECT pg_advisory_unlock_all()", "takes or releases advisory locks");
  // Families are refused by prefix in call syntax, so a future member is refused too.
  expect_refused("SELECT lo_something_new(1)", "works with large objects");
  expect_refused("SELECT pg_advisory_something_new(1)", "advisory locks");
  expect_refused("SELECT dblink_something_new(1)", "runs SQL given as text");
}

TEST(StatementGuard, AcceptsTheSameWordsWhereTheyCallNothing) {
  // Inside strings of every kind and inside comments.
  expect_accepted("SELECT 'lo_create', 'pg_advisory_lock(1)', E'\\'(0).lo_create', N'x.nextval', U&'lo_unlink(1)'");
  expect_accepted("SELECT $$(42::bigint).pg_advisory_lock$$, $q$ lo_create(0) $q$");
  expect_accepted("SELECT 1 /* (0::oid).lo_create /* pg_advisory_lock(1) */ */ -- x.pg_cancel_backend\n");
  expect_accepted("SELECT * FROM pg_stat_activity WHERE query LIKE '%pg_terminate_backend(%'");
  // Quoted and plain names that are not calls: columns and aliases.
  expect_accepted("SELECT \"lo_create\", \"nextval\" AS \"pg_advisory_lock\", nextval AS setval FROM t");
  expect_accepted("SELECT t.lo_price, o.dblink_id, x.edit, t.nextval_at, t.my_lo_create_count FROM t, o, x");
  expect_accepted("SELECT my_lo_create_count, lo_create_count FROM t");
  // Functions, operators and clauses that call no denied function.
  expect_accepted("SELECT replace(name, 'a', 'b'), pg_sleep(0.1), currval('s'), lastval() FROM t");
  expect_accepted("SELECT txid_current_if_assigned(), pg_current_xact_id_if_assigned(), pg_walfile_name('0/0')");
  expect_accepted("SELECT table_to_xml('t', true, false, '')");
  expect_accepted("SELECT data->'lo_create', data->>'nextval', data #>> '{a,b}', data @> '{}' FROM t");
  expect_accepted("SELECT x::text, CAST(y AS int), '1'::pg_catalog.int4, (x)::bigint FROM t");
  expect_accepted("SELECT * FROM ROWS FROM (generate_series(1, 3)) AS g(i)");
  expect_accepted("SELECT * FROM t TABLESAMPLE SYSTEM (10) REPEATABLE (1)");
  expect_accepted("SELECT 1 OPERATOR(pg_catalog.+) 2");
  expect_accepted("SELECT make_interval(days => 1), concat_ws(',', VARIADIC ARRAY['a', 'b'])");
  expect_accepted("SELECT (t.arr)[1], (t).name, $1.name, (w).lo_price FROM t, LATERAL (SELECT t) AS l(w)");
}

TEST(StatementGuard, RefusesSqliteWritesAndPragmas) {
  expect_refused("ATTACH DATABASE '/tmp/x.db' AS x", "'ATTACH' is a write", kLite);
  expect_refused("DETACH x", "'DETACH'", kLite);
  expect_refused("REPLACE INTO t VALUES (1)", "'REPLACE' is a write", kLite);
  expect_refused("INSERT OR REPLACE INTO t VALUES (1)", "'INSERT' is a write", kLite);
  expect_refused("PRAGMA writable_schema=1", "PRAGMA 'writable_schema = …' changes a setting", kLite);
  expect_refused("PRAGMA writable_schema", "PRAGMA 'writable_schema' is not one sql_query allows", kLite);
  expect_refused("PRAGMA journal_mode = WAL", "changes a setting", kLite);
  expect_refused("PRAGMA user_version(5)", "PRAGMA 'user_version(…)' sets a value", kLite);
  expect_refused("PRAGMA main.user_version = 5", "changes a setting", kLite);
  expect_refused("PRAGMA optimize", "is not one sql_query allows", kLite);
  expect_refused("VACUUM", "'VACUUM'", kLite);
  expect_refused("SHOW tables", "'SHOW' is not a read", kLite);  // SQLite has no SHOW
}

TEST(StatementGuard, RefusesMalformedText) {
  expect_refused("SELECT 'abc", "the SQL is malformed: the string starting at position 8 is not closed");
  expect_refused("SELECT 1 /* never closed", "the comment starting at position 10 is not closed");
  expect_refused("SELECT /* /* */ 1", "the comment starting at position 8 is not closed");  // nested in PostgreSQL
  expect_refused("SELECT \"abc", "the quoted name starting at position 8 is not closed");
  expect_refused("SELECT $$abc", "the $$ string starting at position 8 is not closed");
  expect_refused("SELECT $x$abc$y$", "the $x$ string starting");
  expect_refused("SELECT E'abc\\'", "the string starting at position 8 is not closed");
  expect_refused("SELECT [abc", "the quoted name", kLite);
  expect_refused(std::string_view("SELECT 1\0; DROP TABLE t", 23), "it contains a NUL byte at position 9");
}

TEST(StatementGuard, RefusesEmptyInput) {
  expect_refused("", "the SQL is empty");
  expect_refused("  \n ", "the SQL is empty");
  expect_refused(";", "the SQL is empty");
  expect_refused("-- only a comment", "the SQL is empty");
}

// ---- split_statements and tokenize --------------------------------------------------------------

TEST(SplitStatements, SplitsOutsideStringsAndComments) {
  const auto r = split_statements("SELECT ';' ; -- c; d\n SELECT $$;$$ /* ; */ ;", kPg);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.statements, (std::vector<std::string>{"SELECT ';'", "SELECT $$;$$"}));
}

TEST(SplitStatements, KeepsCommentsInsideAStatement) {
  const auto r = split_statements("  SELECT /* a */ 1  ;", kPg);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.statements, (std::vector<std::string>{"SELECT /* a */ 1"}));
}

TEST(SplitStatements, SqliteBracketNames) {
  const auto r = split_statements("SELECT [a;b]; SELECT `c;d`", kLite);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.statements, (std::vector<std::string>{"SELECT [a;b]", "SELECT `c;d`"}));
}

TEST(SplitStatements, EmptyAndMalformedInputAreErrors) {
  EXPECT_FALSE(split_statements("", kPg).ok());
  EXPECT_FALSE(split_statements(" ; -- x", kPg).ok());
  EXPECT_NE(split_statements(" ; -- x", kPg).error.find("empty"), std::string::npos);
  const auto r = split_statements("SELECT 'x", kPg);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error.find("not closed"), std::string::npos) << r.error;
}

TEST(Tokenize, JoinsStringsAcrossLineBreaksInPostgresOnly) {
  std::string error;
  const auto pg = tokenize("SELECT E'a'\n'b', 'c' -- x\n 'd' 'e'", kPg, error);
  ASSERT_TRUE(pg.has_value()) << error;
  std::vector<std::string> strings;
  for (const auto& tok : *pg)
    if (tok.kind == TokenKind::string) strings.push_back(tok.value);
  EXPECT_EQ(strings, (std::vector<std::string>{"E'a'\n'b'", "'c' -- x\n 'd'", "'e'"}));
  const auto lite = tokenize("SELECT 'a'\n'b'", kLite, error);
  ASSERT_TRUE(lite.has_value()) << error;
  EXPECT_EQ(lite->size(), 3u);  // SQLite does not join them
}

TEST(Tokenize, KindsAndValues) {
  std::string error;
  const auto t = tokenize("SeLeCt E'\\'' , \"A\"\"b\", x::text, $1, $q$z$q$ FROM t", kPg, error);
  ASSERT_TRUE(t.has_value()) << error;
  std::vector<TokenKind> kinds;
  for (const auto& tok : *t) kinds.push_back(tok.kind);
  using K = TokenKind;
  EXPECT_EQ(kinds,
            (std::vector<K>{K::word, K::string, K::symbol, K::quoted_name, K::symbol, K::word, K::symbol,
                            K::symbol, K::word, K::symbol, K::parameter, K::symbol, K::string, K::word, K::word}));
  EXPECT_EQ((*t)[0].value, "select");
  EXPECT_EQ((*t)[1].value, "E'\\''");
  EXPECT_EQ((*t)[3].value, "A\"b");
  EXPECT_EQ((*t)[3].offset, 15u);
  EXPECT_EQ((*t)[3].length, 6u);
  EXPECT_EQ((*t)[10].value, "$1");
}
