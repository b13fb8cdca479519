// The read-only statement check behind `sql_query`: a small SQL lexer (PostgreSQL and SQLite, in
// sql_lexer.hpp) and the rules that refuse anything but one plain read before a statement reaches
// the server.
//
// This is the first of four layers; the others are a read-only transaction/session on the server,
// statement_timeout, and exactly one statement sent with bound parameters over the extended protocol.
// The server-side read-only transaction is what makes sql_query safe; this check exists to refuse
// early, with a reason a person can act on, and it refuses whatever it is unsure of.
#pragma once
#include <string_view>

#include "core/result.hpp"
#include "packs/sql/denied_functions.hpp"
#include "packs/sql/sql_lexer.hpp"

namespace mcpd::packs::sql {

// Succeeds when `sql` is exactly one read-only statement; otherwise a Refused error whose message is
// one sentence saying why. See statement_guard.cpp for the rules and the decisions behind them.
core::Status check_read_only(std::string_view sql, Dialect dialect);

}  // namespace mcpd::packs::sql
