// The functions sql_query refuses to call (PostgreSQL and SQLite), and how a name as written can
// reach one of them once the server has read it.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "packs/sql/sql_lexer.hpp"

namespace mcpd::packs::sql {

// A refused function a name can reach: its real name (a family's prefix ends in "…") and why.
struct RefusedName {
  std::string name;
  std::string_view why;
};

// What a call of `lowercase_name` (name followed by '(') would reach, if it is refused: an exact
// name or a family by prefix, in either dialect. `unquoted_pg` when it is an unquoted PostgreSQL
// name, whose non-ASCII letters the server may fold into ASCII ones.
std::optional<RefusedName> refused_call(std::string_view lowercase_name, bool unquoted_pg);

// What `x.lowercase_name` would reach (PostgreSQL only), if it is refused: exact real names only.
std::optional<RefusedName> refused_field_call(std::string_view lowercase_name, bool unquoted);

bool has_non_ascii(std::string_view s);

// The exact names of the functions check_read_only refuses in `dialect` (lowercase), for tests and
// for documentation. Call syntax also refuses a few families by prefix, which this list leaves out.
std::vector<std::string> denied_function_names(Dialect dialect);

}  // namespace mcpd::packs::sql
