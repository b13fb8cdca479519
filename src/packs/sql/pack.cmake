# The sql pack: a plug-in, mcpd-sql.so, so that libpq lives only in servers that enable it.
mcpd_add_pack(sql PLUGIN
  SOURCES
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
    src/packs/sql/plugin_entry.cpp
  LIBS PkgConfig::SQLITE PkgConfig::LIBPQ)
