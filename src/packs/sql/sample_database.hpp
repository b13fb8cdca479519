// The zero-configuration sample: a small document pipeline database (seed 003's documents and their
// processing log), so that sql_query answers something on a server started with no settings at all.
#pragma once
#include "infra/sqlite.hpp"

namespace mcpd::packs::sql {

// Creates the sample schema and rows in `db` when it is new (no tables, user_version 0); leaves any
// other database alone. Returns true when it created them.
bool create_sample_database(infra::SqliteDatabase& db);

}  // namespace mcpd::packs::sql
