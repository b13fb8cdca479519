// The sql pack: audited SQL access to named SQLite and PostgreSQL sources (seed 003): the tools
// sql_query (alias postgres_query), sql_execute, sql_list_tables, sql_describe_table and
// postgres_init_schema; table schemas as sql://{source}/{table} resources; a /health entry per source.
#pragma once
#include <memory>

#include "core/pack.hpp"

namespace mcpd::packs::sql {

std::unique_ptr<core::Pack> make_pack();

}  // namespace mcpd::packs::sql
