// Fuzzes the SQL lexer and the read-only statement check (src/packs/sql/sql_lexer.*, statement_guard.*)
// in both dialects: tokens must describe the text they came from, and whatever the check accepts must be
// one statement that starts as a read and holds no statement keyword outside strings and quoted names.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz_check.hpp"
#include "packs/sql/sql_lexer.hpp"
#include "packs/sql/statement_guard.hpp"

using namespace mcpd::packs::sql;

namespace {

// Words that start or hide a write or a session change: never in an accepted statement (REPLACE and
// ANALYZE are left out: replace() is a function and EXPLAIN ANALYZE is allowed).
constexpr std::string_view kNeverAccepted[] = {
    "insert", "update", "delete",   "merge",  "truncate", "create",  "drop",    "alter",   "grant",
    "revoke", "copy",   "call",     "do",     "lock",     "begin",   "commit",  "rollback", "savepoint",
    "set",    "reset",  "discard",  "prepare", "execute", "deallocate", "listen", "notify", "attach",
    "detach", "vacuum", "reindex",  "cluster", "refresh", "into"};

void check_tokens(std::string_view sql, const std::vector<Token>& tokens) {
  std::size_t end_of_previous = 0;
  for (const auto& t : tokens) {
    FUZZ_CHECK(t.length > 0 && t.offset >= end_of_previous && t.offset + t.length <= sql.size(),
               "tokens are non-empty, in order, apart and inside the text");
    end_of_previous = t.offset + t.length;
    const std::string_view text = sql.substr(t.offset, t.length);
    switch (t.kind) {
      case TokenKind::word:
        FUZZ_CHECK(t.value == lower_ascii(text), "a word is its text, lower-cased");
        break;
      case TokenKind::symbol:
        FUZZ_CHECK(t.length == 1 && t.value == text, "a symbol is one character");
        break;
      case TokenKind::string:
      case TokenKind::number:
      case TokenKind::parameter:
        FUZZ_CHECK(t.value == text, "strings, numbers and parameters keep their raw text");
        break;
      case TokenKind::quoted_name:
        FUZZ_CHECK(t.value.size() <= t.length, "a quoted name is no longer than its spelling");
        break;
    }
  }
}

void check_accepted(const std::vector<Token>& tokens, Dialect dialect) {
  const auto ranges = statement_ranges(tokens);
  FUZZ_CHECK(ranges.size() == 1, "an accepted text is exactly one statement");
  std::size_t first = ranges[0].first;
  while (first < ranges[0].second && is_symbol(tokens[first], '(')) ++first;
  FUZZ_CHECK(first < ranges[0].second && tokens[first].kind == TokenKind::word, "an accepted statement starts with a word");
  const std::string& w = tokens[first].value;
  const bool read_start = w == "select" || w == "with" || w == "values" || w == "explain" ||
                          (dialect == Dialect::postgres ? (w == "table" || w == "show") : w == "pragma");
  FUZZ_CHECK(read_start, "an accepted statement starts as a read");
  // PostgreSQL's EXPLAIN (option [value], …) holds only option names and literal values: a keyword
  // there is an unknown option the server refuses, so the list is not searched for writes.
  std::size_t options_begin = 0, options_end = 0;
  if (dialect == Dialect::postgres && w == "explain" && first + 2 < ranges[0].second && is_symbol(tokens[first + 1], '(') &&
      !(tokens[first + 2].kind == TokenKind::word &&
        (tokens[first + 2].value == "select" || tokens[first + 2].value == "with" ||
         tokens[first + 2].value == "values" || tokens[first + 2].value == "table"))) {
    options_begin = first + 1;
    int depth = 0;
    for (options_end = options_begin; options_end < ranges[0].second; ++options_end) {
      if (is_symbol(tokens[options_end], '(')) ++depth;
      if (is_symbol(tokens[options_end], ')') && --depth == 0) break;
    }
  }
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (i >= options_begin && i <= options_end && options_end > 0) continue;
    if (tokens[i].kind == TokenKind::word)
      for (auto never : kNeverAccepted)
        FUZZ_CHECK(tokens[i].value != never, "an accepted statement holds no write keyword");
  }
}

void run(std::string_view sql, Dialect dialect) {
  auto tokens = tokenize(sql, dialect);
  FUZZ_CHECK(tokens.ok() || !tokens.error().message.empty(), "a lexing failure says why");
  if (tokens) check_tokens(sql, *tokens);
  std::optional<std::vector<Token>> backslash;
  if (dialect == Dialect::postgres) {
    if (auto other = tokenize(sql, dialect, StringEscapes::backslash)) {
      backslash = std::move(other).value();
      check_tokens(sql, *backslash);
    }
  }

  const auto split = split_statements(sql, dialect);
  if (tokens) {
    const std::size_t found = split ? split->size() : 0;
    FUZZ_CHECK(found == statement_ranges(*tokens).size(), "the split finds every statement");
    FUZZ_CHECK(split.ok() == (found != 0), "a split fails only when there is no statement");
    if (split)
      for (const auto& s : *split) FUZZ_CHECK(sql.find(s) != std::string_view::npos, "a statement is part of the text");
  } else {
    FUZZ_CHECK(!split.ok(), "text that does not lex does not split");
  }

  const auto checked = check_read_only(sql, dialect);
  if (!checked) {
    FUZZ_CHECK(!checked.error().message.empty(), "a refusal says why");
    return;
  }
  FUZZ_CHECK(tokens.ok(), "only text that lexes is accepted");
  check_accepted(*tokens, dialect);
  // A server reading backslashes as escapes must see a read too, when that reading lexes at all.
  if (backslash && sql.find('\\') != std::string_view::npos) check_accepted(*backslash, dialect);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view sql(reinterpret_cast<const char*>(data), size);
  run(sql, Dialect::postgres);
  run(sql, Dialect::sqlite);
  return 0;
}
