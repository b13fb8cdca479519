// The read-only statement check: the rules of check_read_only, applied to the tokens of sql_lexer.cpp
// with the function deny-list of denied_functions.cpp.
//
// Decisions (each refuses rather than guesses, since a wrong refusal costs one clear message and a
// wrong acceptance is what the server-side read-only transaction is there to stop):
//  - A statement may start with SELECT, WITH, VALUES, TABLE, EXPLAIN or SHOW (PostgreSQL), or with
//    SELECT, WITH, VALUES, EXPLAIN or an allow-listed PRAGMA (SQLite). Anything else is not a read.
//  - EXPLAIN's own options (ANALYZE, VERBOSE, (…), QUERY PLAN) are skipped and what follows is checked
//    as a statement, so EXPLAIN ANALYZE SELECT runs, and EXPLAIN ANALYZE DELETE is refused as a write.
//  - INSERT, UPDATE, DELETE, MERGE and the other statement keywords are refused anywhere outside
//    strings, comments and quoted names: writable CTEs hide a write inside a SELECT, and the keywords
//    that only ever start a statement cost nothing to refuse anywhere. A column named like one of them
//    must be written in double quotes; the refusal says so. REPLACE is allowed as the replace()
//    function. UPSERT is not a keyword in either dialect (upserts are INSERT … ON CONFLICT).
//  - `SELECT … INTO` (creates a table) and `FOR UPDATE` / `FOR [NO KEY] UPDATE` / `FOR [KEY] SHARE`
//    (row locks, which a read-only transaction refuses anyway) are refused.
//  - Functions that write, lock, signal other sessions, read or write the server's files, change
//    settings or session state, consume sequences or replication slots, open connections, or run
//    SQL given as text are refused wherever the grammar lets a bare name invoke one
//    (denied_functions.cpp holds the list, says why it is a deny-list, how it was built and how to
//    refresh it):
//      · call syntax: the name (word or quoted name, any case, schema-qualified or not, comments and
//        whitespace anywhere between the tokens) followed by '('. This covers the select list, WHERE,
//        FROM and LATERAL table functions, ROWS FROM (…), aggregates and window calls, VARIADIC
//        arguments and function-style casts (typename(x)). Here the exact names and a few families
//        by prefix (lo_, pg_advisory_, dblink, …) are refused.
//      · field-call notation (PostgreSQL only): transformColumnRef and transformIndirection turn
//        x.f into f(x) when x has no column f: (expr).f, $1.f, arr[1].f, alias.f for the whole row,
//        schema.table.f, catalog.schema.table.f, and quoted names or comments after the dot. A name
//        after '.' is far more often a column, so only a denied function's exact name is refused
//        there (t.lo_create is refused, t.lo_price is not), and the refusal says how to keep such a
//        column. SQLite has no field-call notation.
//      · in both positions an unquoted PostgreSQL name's non-ASCII letters may stand for any ASCII
//        letter: in a single-byte database encoding the server lowercases them with the locale's rules,
//        and under a Turkish locale PG_TERMİNATE_BACKEND names pg_terminate_backend (may_name).
//    A bare name on its own is always a column in both dialects, never a call, so "nextval" or
//    "edit" as a column is let through. Positions checked and found unable to invoke a denied
//    function: named arguments (name => v names a parameter); TABLESAMPLE method(…) (only
//    tsm_handler functions resolve there); OPERATOR(schema.op) and plain operators (the built-in
//    operators are backed by built-in functions none of which is denied); ::type and CAST (the
//    built-in casts and type input functions call none either); the SQL-standard special forms
//    (EXTRACT, OVERLAY, TRIM, COLLATION FOR, AT TIME ZONE, …), which map to fixed built-ins. A
//    user-defined operator, cast, view, default or domain check over a denied function is beyond
//    what a statement check can see: that is the server-side layers' job (read-only transaction,
//    connection reset before reuse, a least-privilege role without EXECUTE on these functions).
//  - PostgreSQL reads '\'' differently when standard_conforming_strings is off, so text holding a
//    backslash is checked under both readings and must pass both.
//  - U&"…" names are refused: their escapes can spell any name, including a refused function.
#include "packs/sql/statement_guard.hpp"

#include <algorithm>
#include <iterator>
#include <optional>
#include <string>
#include <utility>

namespace mcpd::packs::sql {

namespace {

std::string upper_ascii(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

// Keywords refused anywhere outside strings, comments and quoted names, and why.
struct Refused {
  std::string_view word;
  std::string_view why;  // follows "'WORD' "
};

constexpr std::string_view kReadOnly = "sql_query is read-only (use sql_execute where the source allows writes)";
constexpr std::string_view kWrite =
    "is a write: sql_query is read-only (use sql_execute where the source allows writes)";
constexpr std::string_view kTransaction = "controls the transaction, which sql_query runs itself, read-only";
constexpr std::string_view kPrepared =
    "works with prepared statements this check cannot see: send the statement itself, with bound parameters";
constexpr std::string_view kNotify = "uses notification channels, which sql_query does not offer";

constexpr Refused kRefusedWords[] = {
    {"insert", kWrite},
    {"update", kWrite},
    {"delete", kWrite},
    {"merge", kWrite},
    {"replace", kWrite},  // SQLite's REPLACE INTO; replace( … ) is let through before this table
    {"truncate", kWrite},
    {"create", kWrite},
    {"drop", kWrite},
    {"alter", kWrite},
    {"grant", kWrite},
    {"revoke", kWrite},
    {"reindex", kWrite},
    {"cluster", kWrite},
    {"refresh", kWrite},
    {"vacuum", kWrite},
    {"analyze", kWrite},  // EXPLAIN's ANALYZE option is skipped before this table is consulted
    {"analyse", kWrite},
    {"attach", kWrite},
    {"detach", kWrite},
    {"copy", "moves data between tables and files or programs: sql_query is read-only"},
    {"call", "runs a procedure, which can write: sql_query is read-only"},
    {"do", "runs a code block, which can write: sql_query is read-only"},
    {"lock", "takes table locks: sql_query is read-only"},
    {"begin", kTransaction},
    {"start", kTransaction},
    {"commit", kTransaction},
    {"rollback", kTransaction},
    {"savepoint", kTransaction},
    {"release", kTransaction},
    {"set", "changes a session setting, which sql_query keeps read-only"},
    {"reset", "changes a session setting, which sql_query keeps read-only"},
    {"discard", "resets the session, which sql_query manages itself"},
    {"prepare", kPrepared},
    {"execute", kPrepared},
    {"deallocate", kPrepared},
    {"listen", kNotify},
    {"notify", kNotify},
    {"unlisten", kNotify},
};

const Refused* refused_word(std::string_view word) {
  for (const auto& r : kRefusedWords)
    if (r.word == word) return &r;
  return nullptr;
}

bool is_read_start(std::string_view w, Dialect d) {
  return w == "select" || w == "with" || w == "values" || (d == Dialect::postgres && w == "table");
}

std::string_view accepted_starts(Dialect d) {
  return d == Dialect::postgres ? "SELECT, WITH, VALUES, TABLE, EXPLAIN or SHOW"
                                : "SELECT, WITH, VALUES, EXPLAIN or a read-only PRAGMA";
}

// SQLite pragmas that only read. The first list takes an argument (a table, an index, a limit);
// the second is read-only only without one: with "(value)" or "= value" it sets the value.
constexpr std::string_view kPragmasWithArgument[] = {
    "table_info",  "table_xinfo",      "table_list",        "index_list",      "index_info",
    "index_xinfo", "foreign_key_list", "foreign_key_check", "integrity_check", "quick_check"};
constexpr std::string_view kPragmasWithoutArgument[] = {
    "database_list",   "collation_list", "function_list", "module_list",    "pragma_list",
    "compile_options", "page_count",     "page_size",     "freelist_count", "encoding",
    "data_version",    "schema_version", "user_version",  "application_id"};

template <std::size_t N>
bool contains(const std::string_view (&list)[N], std::string_view w) {
  return std::find(std::begin(list), std::end(list), w) != std::end(list);
}

class StatementCheck {
 public:
  StatementCheck(const std::vector<Token>& tokens, std::size_t begin, std::size_t end, Dialect dialect)
      : t_(tokens), begin_(begin), end_(end), dialect_(dialect) {}

  std::optional<std::string> run() {
    const Token& first = t_[begin_];
    if (is_word(first, "explain")) return explain();
    if (dialect_ == Dialect::postgres && is_word(first, "show")) return scan(begin_ + 1);
    if (dialect_ == Dialect::sqlite && is_word(first, "pragma")) return pragma();
    return body(begin_);
  }

 private:
  // EXPLAIN [ANALYZE] [VERBOSE] | EXPLAIN (option, …) | EXPLAIN QUERY PLAN, then a statement.
  std::optional<std::string> explain() {
    std::size_t i = begin_ + 1;
    if (dialect_ == Dialect::postgres) {
      // "(" starts the option list unless it opens a parenthesised SELECT.
      if (i + 1 < end_ && is_symbol(t_[i], '(') &&
          !(t_[i + 1].kind == TokenKind::word && is_read_start(t_[i + 1].value, dialect_))) {
        int depth = 0;
        for (; i < end_; ++i) {
          if (is_symbol(t_[i], '(')) ++depth;
          if (is_symbol(t_[i], ')') && --depth == 0) break;
        }
        if (i == end_) return "EXPLAIN's option list is not closed";
        ++i;
      } else {
        while (i < end_ && (is_word(t_[i], "analyze") || is_word(t_[i], "analyse") || is_word(t_[i], "verbose")))
          ++i;
      }
    } else if (i + 1 < end_ && is_word(t_[i], "query") && is_word(t_[i + 1], "plan")) {
      i += 2;
    }
    if (i == end_) return "EXPLAIN needs a statement to explain";
    return body(i);
  }

  // PRAGMA [schema.]name [(argument) | = value]
  std::optional<std::string> pragma() {
    std::size_t i = begin_ + 1;
    if (i + 2 < end_ && is_symbol(t_[i + 1], '.')) i += 2;
    if (i >= end_ || (t_[i].kind != TokenKind::word && t_[i].kind != TokenKind::quoted_name))
      return std::string("PRAGMA needs a pragma name");
    const std::string name = lower_ascii(t_[i].value);
    const bool has_argument = i + 1 < end_ && is_symbol(t_[i + 1], '(');
    if (i + 1 < end_ && is_symbol(t_[i + 1], '='))
      return "PRAGMA '" + name + " = …' changes a setting: sql_query is read-only";
    if (contains(kPragmasWithArgument, name)) return scan(i + 1);
    if (contains(kPragmasWithoutArgument, name)) {
      if (has_argument) return "PRAGMA '" + name + "(…)' sets a value: sql_query is read-only";
      return scan(i + 1);
    }
    return "PRAGMA '" + name +
           "' is not one sql_query allows: it allows table_info, table_xinfo, table_list, index_list, "
           "index_info, index_xinfo, foreign_key_list, foreign_key_check, integrity_check, quick_check, "
           "database_list, collation_list, function_list, module_list, pragma_list, compile_options, "
           "page_count, page_size, freelist_count, encoding, data_version, schema_version, user_version "
           "and application_id";
  }

  // A statement that must be a read: its first word (after any '(') says what it is.
  std::optional<std::string> body(std::size_t i) {
    std::size_t j = i;
    while (j < end_ && is_symbol(t_[j], '(')) ++j;
    if (j == end_) return "a statement must start with " + std::string(accepted_starts(dialect_));
    const Token& first = t_[j];
    if (first.kind != TokenKind::word) {
      return "a statement must start with " + std::string(accepted_starts(dialect_)) + ", not with '" +
             std::string(first.value) + "'";
    }
    if (is_read_start(first.value, dialect_)) return scan(i);
    if (const auto* r = refused_word(first.value))
      return "'" + upper_ascii(first.value) + "' " + std::string(r->why);
    return "'" + upper_ascii(first.value) + "' is not a read: sql_query accepts statements starting with " +
           std::string(accepted_starts(dialect_));
  }

  // Every token from i: refused keywords, SELECT … INTO, FOR UPDATE/SHARE, refused functions.
  std::optional<std::string> scan(std::size_t i) {
    for (std::size_t k = i; k < end_; ++k) {
      const Token& tok = t_[k];
      const bool called = k + 1 < end_ && is_symbol(t_[k + 1], '(');
      if (tok.kind == TokenKind::quoted_name) {
        if (tok.unicode_escapes)
          return std::string("U&\"…\" names are not accepted: their escapes can spell any name");
        // Quoted names keep their case in PostgreSQL; comparing them without it refuses a little more.
        if (auto refused = refused_function_reference(k, lower_ascii(tok.value), tok.value, false))
          return refused;
        continue;
      }
      if (tok.kind != TokenKind::word) continue;
      const std::string& w = tok.value;
      if (w == "into") return "'SELECT … INTO' creates a table: " + std::string(kReadOnly);
      if (w == "for") {
        // FOR UPDATE, FOR NO KEY UPDATE, FOR SHARE, FOR KEY SHARE
        std::string clause = "FOR";
        for (std::size_t n = k + 1; n < end_ && n <= k + 3 && t_[n].kind == TokenKind::word; ++n) {
          const std::string& v = t_[n].value;
          if (v != "no" && v != "key" && v != "update" && v != "share") break;
          clause += " " + upper_ascii(v);
          if (v == "update" || v == "share")
            return "'" + clause + "' locks rows, which a read-only query may not do";
        }
        continue;
      }
      if (w == "replace" && called) continue;  // the replace() function
      if (const auto* r = refused_word(w)) {
        std::string reason = "'" + upper_ascii(w) + "' " + std::string(r->why);
        // Where a statement could begin (first, or after a CTE's parentheses) it is a keyword;
        // elsewhere it may be a column's name.
        if (k > i && !is_symbol(t_[k - 1], '(') && !is_symbol(t_[k - 1], ')'))
          reason += "; if it is a name here, write it in double quotes (\"" + w + "\")";
        return reason;
      }
      if (auto refused = refused_function_reference(k, w, w, true)) return refused;
    }
    return std::nullopt;
  }

  // Token k names a function when '(' follows it (call syntax, in either dialect) or, in PostgreSQL,
  // when '.' comes before it: field-call notation reads x.f as f(x) when x has no column f, for
  // (expr).f, $1.f, arr[1].f, alias.f (the whole row) and schema.table.f alike. `shown` is the name
  // as written, for the message; `unquoted` when it is a word, which the server downcases (may_name).
  std::optional<std::string> refused_function_reference(std::size_t k, const std::string& name,
                                                         const std::string& shown, bool unquoted) const {
    const bool pg = dialect_ == Dialect::postgres;
    if (k + 1 < end_ && is_symbol(t_[k + 1], '(')) {
      if (const auto refused = refused_call(name, unquoted && pg))
        return "function '" + shown + "'" + read_as(name, *refused) + " " + std::string(refused->why);
    }
    if (pg && k > begin_ && is_symbol(t_[k - 1], '.')) {
      if (const auto refused = refused_field_call(name, unquoted)) {
        return "'" + field_owner(k - 1) + "." + shown + "' is a call of function '" + refused->name +
               "' (PostgreSQL reads x.f as f(x) when x has no column f), and that function " +
               std::string(refused->why) + "; if it is a column, name it without the prefix or rename it in a subquery";
      }
    }
    return std::nullopt;
  }

  // Where the name as written differs from the function it reaches only by non-ASCII letters.
  static std::string read_as(const std::string& name, const RefusedName& refused) {
    if (!has_non_ascii(name)) return "";
    return " (which a server with a single-byte encoding may read as '" + refused.name +
           "'; if it names another function, write the name in double quotes)";
  }

  // What stands before the '.' at `dot`, shortened, for a message.
  std::string field_owner(std::size_t dot) const {
    if (dot == begin_) return "";
    const Token& owner = t_[dot - 1];
    switch (owner.kind) {
      case TokenKind::word:
      case TokenKind::parameter:
        return owner.value;
      case TokenKind::quoted_name:
        return "\"" + owner.value + "\"";
      default:
        if (is_symbol(owner, ')')) return "(…)";
        if (is_symbol(owner, ']')) return "…[…]";
        return "…";
    }
  }

  const std::vector<Token>& t_;
  std::size_t begin_;
  std::size_t end_;
  Dialect dialect_;
};

std::optional<std::string> check_tokens(const std::vector<Token>& tokens, Dialect dialect) {
  const auto ranges = statement_ranges(tokens);
  if (ranges.empty()) return std::string("the SQL is empty: send one statement, such as a SELECT");
  if (ranges.size() > 1) return "only one statement may be sent; found " + std::to_string(ranges.size());
  return StatementCheck(tokens, ranges[0].first, ranges[0].second, dialect).run();
}

}  // namespace

core::Status check_read_only(std::string_view sql, Dialect dialect) {
  const auto tokens = tokenize(sql, dialect);
  if (!tokens) return core::Error::refused(tokens.error().message);
  if (auto refused = check_tokens(*tokens, dialect)) return core::Error::refused(std::move(*refused));
  // A PostgreSQL server with standard_conforming_strings off reads backslashes in '…' as escapes,
  // which can move where a string ends. When that reading does not lex, such a server rejects the
  // text itself; when it does, it must pass too.
  if (dialect == Dialect::postgres && sql.find('\\') != std::string_view::npos) {
    if (const auto other = tokenize(sql, dialect, StringEscapes::backslash)) {
      if (auto refused = check_tokens(*other, dialect))
        return core::Error::refused(*refused +
                                    " (reading backslashes in '…' strings as escapes, as a server does when "
                                    "standard_conforming_strings is off)");
    }
  }
  return {};
}

}  // namespace mcpd::packs::sql
