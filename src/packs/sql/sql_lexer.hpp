// The SQL lexer behind the read-only statement check (PostgreSQL and SQLite): tokens, comments and
// whitespace left out, and the split of a text into its statements.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"

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

// How PostgreSQL reads '…' strings: as the SQL standard says, or with backslash escapes, as a server
// does when standard_conforming_strings is off. SQLite has only the first reading.
enum class StringEscapes { standard, backslash };

// The tokens of `sql`, comments and whitespace left out; an InvalidArgument error saying what and
// where when the text cannot be lexed (an unclosed string, comment or quoted name, or a NUL byte).
core::Result<std::vector<Token>> tokenize(std::string_view sql, Dialect dialect,
                                          StringEscapes escapes = StringEscapes::standard);

// The statements of `sql` split on ';' outside strings, comments and quoted names, each from its
// first token to its last, without the ';'. Empty statements (";;", a trailing ';', a tail of only
// comments) are dropped; input with no statement at all, or that cannot be lexed, is an error.
core::Result<std::vector<std::string>> split_statements(std::string_view sql, Dialect dialect);

// [begin, end) token ranges of the non-empty statements.
std::vector<std::pair<std::size_t, std::size_t>> statement_ranges(const std::vector<Token>& tokens);

inline bool is_symbol(const Token& t, char c) {
  return t.kind == TokenKind::symbol && t.value.size() == 1 && t.value[0] == c;
}
inline bool is_word(const Token& t, std::string_view w) { return t.kind == TokenKind::word && t.value == w; }

// ASCII letters only, whatever the C locale: this is how words are lowercased, and quoted names are
// compared with them the same way. Bytes of non-ASCII characters are kept as they are.
inline std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace mcpd::packs::sql
