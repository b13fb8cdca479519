// The read-only statement check behind `sql_query`: a small SQL lexer (PostgreSQL and SQLite) and the
// rules that refuse anything but one plain read before a statement reaches the server.
//
// This is the first of four layers; the others are a read-only transaction/session on the server,
// statement_timeout, and exactly one statement sent with bound parameters over the extended protocol.
// The server-side read-only transaction is what makes sql_query safe; this check exists to refuse
// early, with a reason a person can act on, and it refuses whatever it is unsure of.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mcpd::packs::sql {

// The lexers differ: block comments nest in PostgreSQL only; PostgreSQL has E'' and $tag$ strings;
// SQLite has [name] and `name` identifiers and ?, :name, @name, $name parameters.
enum class Dialect { postgres, sqlite };

enum class TokenKind {
  word,         // a keyword or unquoted name; `value` is lowercased (ASCII)
  quoted_name,  // "name" ([name], `name` in SQLite); `value` is the name, unescaped, case kept
  string,       // '…', E'…', $tag$…$tag$; `value` is the raw text
  number,
  parameter,  // $1, ?, ?1, :name, @name, $name
  symbol,     // one character: ; ( ) , . = + and the other operator characters
};

struct Token {
  TokenKind kind = TokenKind::symbol;
  std::string value;
  std::size_t offset = 0;        // byte offset of the token's first character in the input
  std::size_t length = 0;        // bytes the token spans in the input, quotes included
  bool unicode_escapes = false;  // a U&"…" name: it can spell any name with escapes
};

// The tokens of `sql`, comments and whitespace left out. nullopt when the text cannot be lexed (an
// unclosed string, comment or quoted name, or a NUL byte); `error` then says what and where.
std::optional<std::vector<Token>> tokenize(std::string_view sql, Dialect dialect, std::string& error);

struct SplitResult {
  std::vector<std::string> statements;  // each from its first token to its last, without the ';'
  std::string error;                    // empty when the split succeeded
  bool ok() const { return error.empty(); }
};

// Splits on ';' outside strings, comments and quoted names. Empty statements (";;", a trailing ';',
// a tail of only comments) are dropped; input with no statement at all is an error.
SplitResult split_statements(std::string_view sql, Dialect dialect);

// nullopt when `sql` is exactly one read-only statement; otherwise one sentence saying why it is
// refused. See statement_guard.cpp for the rules and the decisions behind them.
std::optional<std::string> check_read_only(std::string_view sql, Dialect dialect);

// The exact names of the functions check_read_only refuses in `dialect` (lowercase), for tests and
// for documentation. Call syntax also refuses a few families by prefix, which this list leaves out.
std::vector<std::string> denied_function_names(Dialect dialect);

}  // namespace mcpd::packs::sql
