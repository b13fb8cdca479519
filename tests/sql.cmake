# The sql pack's tests: the read-only statement check, the SQLite source, settings, typed values
# (unit, GoogleTest); PostgreSQL 15 and the embedded SQLite sample end to end (integration, real
# processes: the PostgreSQL harness starts a throwaway server per test file).
add_executable(mcpd_sql_unit_tests
  unit/sql/statement_guard_test.cpp
  unit/sql/statement_guard_property_test.cpp
  unit/sql/sqlite_source_test.cpp
  unit/sql/sql_settings_test.cpp
  unit/sql/result_format_test.cpp
  unit/sql/pg_pipelined_read_test.cpp)
target_link_libraries(mcpd_sql_unit_tests PRIVATE mcpd_sql GTest::gtest_main)
# The statement check's cases are data; editing them rebuilds the test, so that its tests are listed again.
set(mcpd_sql_guard_cases "${CMAKE_CURRENT_LIST_DIR}/unit/sql/statement_guard_cases.txt")
target_compile_definitions(mcpd_sql_unit_tests PRIVATE MCPD_SQL_GUARD_CASES="${mcpd_sql_guard_cases}")
set_property(SOURCE unit/sql/statement_guard_test.cpp APPEND PROPERTY OBJECT_DEPENDS "${mcpd_sql_guard_cases}")
gtest_discover_tests(mcpd_sql_unit_tests TEST_PREFIX "sql." DISCOVERY_TIMEOUT 60)

mcpd_node_test(postgres_harness postgres_harness.test.mjs)
mcpd_node_test(sql_postgres sql_postgres.test.mjs)
mcpd_node_test(sql_sqlite sql_sqlite.test.mjs)
