# The sql pack: the mcpd-sql.so plug-in (libpq lives only in there), and mcpd_sql, the same objects
# as a static library for the tests. Included by the root CMakeLists.txt after the mcpd target.
add_library(mcpd_sql_objects OBJECT
  src/packs/sql/sql_lexer.cpp
  src/packs/sql/denied_functions.cpp
  src/packs/sql/statement_guard.cpp
  src/packs/sql/source_settings.cpp
  src/packs/sql/result_format.cpp
  src/packs/sql/pg_types.cpp
  src/packs/sql/pg_connection.cpp
  src/packs/sql/migrations.cpp
  src/packs/sql/sample_database.cpp
  src/packs/sql/sqlite_source.cpp
  src/packs/sql/postgres_source.cpp
  src/packs/sql/sql_pack.cpp
  src/packs/sql/plugin_entry.cpp)
target_include_directories(mcpd_sql_objects PRIVATE ${CMAKE_SOURCE_DIR}/src)
target_link_libraries(mcpd_sql_objects PRIVATE Boost::json spdlog::spdlog fmt::fmt PkgConfig::SQLITE PkgConfig::LIBPQ
  OpenSSL::Crypto)
target_compile_definitions(mcpd_sql_objects PRIVATE BOOST_ASIO_NO_DEPRECATED)

# For the tests: everything linked in.
add_library(mcpd_sql STATIC $<TARGET_OBJECTS:mcpd_sql_objects>)
target_link_libraries(mcpd_sql PUBLIC mcpd_infra PkgConfig::LIBPQ)

# The plug-in: core and infra symbols resolve against the mcpd executable, which exports them.
add_library(mcpd_sql_plugin MODULE $<TARGET_OBJECTS:mcpd_sql_objects>)
set_target_properties(mcpd_sql_plugin PROPERTIES OUTPUT_NAME "mcpd-sql" PREFIX "")
target_link_libraries(mcpd_sql_plugin PRIVATE Boost::json spdlog::spdlog fmt::fmt OpenSSL::Crypto PkgConfig::SQLITE
  PkgConfig::LIBPQ)
add_dependencies(mcpd mcpd_sql_plugin)
