// The read-only statement check: the lexer, the statement split and the rules of check_read_only.
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
//    SQL given as text are refused wherever the grammar lets a bare name invoke one (the table
//    kRefusedFunctions says how it was built and how to refresh it):
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
//    A deny-list, not an allow-list: a read may call any of PostgreSQL's ~3,000 built-in functions,
//    those of every installed extension and the database's own, and an allow-list would refuse all
//    of the latter it cannot know; the real allow-list is the role's EXECUTE privileges, which the
//    server enforces. pg_sleep is allowed: statement_timeout bounds it like any slow query.
//  - PostgreSQL reads '\'' differently when standard_conforming_strings is off, so text holding a
//    backslash is checked under both readings and must pass both.
//  - U&"…" names are refused: their escapes can spell any name, including a refused function.
//  - The text is read as bytes; it arrives as UTF-8 (JSON), and the connection must use client_encoding
//    UTF8 so that the server reads the same bytes (in SJIS or GBK a '\' can hide in a character).
#include "packs/sql/statement_guard.hpp"

#include <algorithm>
#include <iterator>
#include <utility>

namespace mcpd::packs::sql {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex_digit(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
// Both dialects take letters, '_' and any non-ASCII byte to start a name, and also digits and '$'
// inside one ("a$$b" is one name, not a name and a $$ string).
bool is_name_start(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u == '_' || u >= 0x80;
}
bool is_name_char(char c) { return is_name_start(c) || is_digit(c) || c == '$'; }

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string upper_ascii(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

std::string at(std::size_t offset) { return "at position " + std::to_string(offset + 1); }

class Lexer {
 public:
  // backslash_strings: read '…' strings with backslash escapes, as PostgreSQL does when
  // standard_conforming_strings is off.
  Lexer(std::string_view sql, Dialect dialect, bool backslash_strings)
      : sql_(sql), pg_(dialect == Dialect::postgres), backslash_strings_(backslash_strings) {}

  std::optional<std::vector<Token>> run(std::string& error) {
    while (pos_ < sql_.size()) {
      if (!step()) {
        error = std::move(error_);
        return std::nullopt;
      }
    }
    return std::move(tokens_);
  }

 private:
  char peek(std::size_t ahead = 0) const { return pos_ + ahead < sql_.size() ? sql_[pos_ + ahead] : '\0'; }

  void emit(TokenKind kind, std::size_t start, std::string value, bool unicode = false) {
    tokens_.push_back(Token{kind, std::move(value), start, pos_ - start, unicode});
  }

  bool fail(std::string message) {
    error_ = "the SQL is malformed: " + std::move(message);
    return false;
  }

  bool step() {
    const char c = peek();
    const std::size_t start = pos_;
    if (c == '\0') return fail("it contains a NUL byte " + at(start));
    if (is_space(c)) {
      ++pos_;
      return true;
    }
    if (c == '-' && peek(1) == '-') {
      // Ends at either line break: PostgreSQL ends it at \r too, and for SQLite (\n only) that only
      // shows this check more tokens than the server sees.
      while (pos_ < sql_.size() && sql_[pos_] != '\n' && sql_[pos_] != '\r') ++pos_;
      return true;
    }
    if (c == '/' && peek(1) == '*') return block_comment();
    if (c == '\'') return quoted_string(start, pg_ && backslash_strings_);
    if (pg_ && (c == 'e' || c == 'E') && peek(1) == '\'') {
      ++pos_;
      return quoted_string(start, true);
    }
    if (pg_ && (c == 'u' || c == 'U') && peek(1) == '&' && peek(2) == '"') {
      pos_ += 2;
      return quoted_name(start, '"', '"', true);
    }
    if (c == '"') return quoted_name(start, '"', '"', false);
    if (!pg_ && c == '`') return quoted_name(start, '`', '`', false);
    if (!pg_ && c == '[') return quoted_name(start, '[', ']', false);
    if (c == '$') return dollar();
    if (is_digit(c) || (c == '.' && is_digit(peek(1)))) return number();
    if (is_name_start(c)) {
      while (pos_ < sql_.size() && is_name_char(sql_[pos_])) ++pos_;
      emit(TokenKind::word, start, lower_ascii(sql_.substr(start, pos_ - start)));
      return true;
    }
    if (!pg_ && c == '?') {
      ++pos_;
      while (is_digit(peek())) ++pos_;
      emit(TokenKind::parameter, start, std::string(sql_.substr(start, pos_ - start)));
      return true;
    }
    if (!pg_ && (c == ':' || c == '@') && is_name_char(peek(1))) {
      ++pos_;
      while (pos_ < sql_.size() && is_name_char(sql_[pos_])) ++pos_;
      emit(TokenKind::parameter, start, std::string(sql_.substr(start, pos_ - start)));
      return true;
    }
    // Operators are kept one character at a time: the rules look only at ; ( ) . and =.
    ++pos_;
    emit(TokenKind::symbol, start, std::string(1, c));
    return true;
  }

  bool block_comment() {
    const std::size_t start = pos_;
    pos_ += 2;
    int depth = 1;
    while (pos_ < sql_.size()) {
      if (sql_[pos_] == '*' && peek(1) == '/') {
        pos_ += 2;
        if (--depth == 0) return true;
      } else if (pg_ && sql_[pos_] == '/' && peek(1) == '*') {  // only PostgreSQL nests comments
        pos_ += 2;
        ++depth;
      } else {
        ++pos_;
      }
    }
    return fail("the comment starting " + at(start) + " is not closed");
  }

  // pos_ is on the opening quote; start is where the token starts (an E prefix, if any).
  bool quoted_string(std::size_t start, bool backslash_escapes) {
    ++pos_;
    while (pos_ < sql_.size()) {
      const char c = sql_[pos_];
      if (backslash_escapes && c == '\\') {
        pos_ += 2;
      } else if (c == '\'') {
        if (peek(1) == '\'') {
          pos_ += 2;
        } else if (const std::size_t next = continuation(pos_ + 1); next != std::string_view::npos) {
          pos_ = next + 1;
        } else {
          ++pos_;
          emit(TokenKind::string, start, std::string(sql_.substr(start, pos_ - start)));
          return true;
        }
      } else {
        ++pos_;
      }
    }
    pos_ = std::min(pos_, sql_.size());
    return fail("the string starting " + at(start) + " is not closed");
  }

  // PostgreSQL joins 'a' and 'b' into one constant when only whitespace holding a line break (and
  // -- comments) stands between them, and the joined part keeps the first part's escaping: after
  // E'x' + line break, '\'' , f() --' is one string whose \' is an escaped quote, where a fresh '…'
  // would end before f(). Where the next part's opening quote is, or npos. \v counts as space, as it
  // does from PostgreSQL 16 on (in 15 it is a syntax error, which refuses the text anyway).
  std::size_t continuation(std::size_t p) const {
    if (!pg_) return std::string_view::npos;
    bool line_break = false;
    while (p < sql_.size()) {
      const char c = sql_[p];
      if (c == '\n' || c == '\r') {
        line_break = true;
        ++p;
      } else if (c == ' ' || c == '\t' || c == '\f' || c == '\v') {
        ++p;
      } else if (c == '-' && p + 1 < sql_.size() && sql_[p + 1] == '-') {
        while (p < sql_.size() && sql_[p] != '\n' && sql_[p] != '\r') ++p;
      } else {
        break;
      }
    }
    return line_break && p < sql_.size() && sql_[p] == '\'' ? p : std::string_view::npos;
  }

  // pos_ is on the opening quote; start is where the token starts (a U& prefix, if any). A doubled
  // closing quote is one quote.
  bool quoted_name(std::size_t start, char open, char close, bool unicode) {
    ++pos_;
    std::string name;
    while (pos_ < sql_.size()) {
      const char c = sql_[pos_];
      if (c == close) {
        if (open == close && peek(1) == close) {  // [name] has no escape
          name += close;
          pos_ += 2;
          continue;
        }
        ++pos_;
        emit(TokenKind::quoted_name, start, std::move(name), unicode);
        return true;
      }
      name += c;
      ++pos_;
    }
    return fail("the quoted name starting " + at(start) + " is not closed");
  }

  bool dollar() {
    const std::size_t start = pos_;
    if (!pg_) {  // SQLite: $name is a parameter
      ++pos_;
      while (pos_ < sql_.size() && is_name_char(sql_[pos_])) ++pos_;
      emit(pos_ - start > 1 ? TokenKind::parameter : TokenKind::symbol, start,
           std::string(sql_.substr(start, pos_ - start)));
      return true;
    }
    if (is_digit(peek(1))) {  // $1
      ++pos_;
      while (is_digit(peek())) ++pos_;
      emit(TokenKind::parameter, start, std::string(sql_.substr(start, pos_ - start)));
      return true;
    }
    // $tag$…$tag$ where the tag is empty or a name without '$'.
    std::size_t end = start + 1;
    if (end < sql_.size() && is_name_start(sql_[end])) {
      while (end < sql_.size() && is_name_char(sql_[end]) && sql_[end] != '$') ++end;
    }
    if (end >= sql_.size() || sql_[end] != '$') {
      ++pos_;
      emit(TokenKind::symbol, start, "$");
      return true;
    }
    const std::string_view delimiter = sql_.substr(start, end - start + 1);
    const std::size_t close = sql_.find(delimiter, end + 1);
    if (close == std::string_view::npos) {
      pos_ = sql_.size();
      return fail("the " + std::string(delimiter) + " string starting " + at(start) + " is not closed");
    }
    pos_ = close + delimiter.size();
    emit(TokenKind::string, start, std::string(sql_.substr(start, pos_ - start)));
    return true;
  }

  // Digits with '.', an exponent, 0x hex and '_' separators. Letters right after a number start a
  // new word, so a keyword glued to a number ("1delete") is still seen.
  bool number() {
    const std::size_t start = pos_;
    auto digits = [&](auto is_d) {
      while (is_d(peek()) || (peek() == '_' && is_d(peek(1)))) ++pos_;
    };
    if (peek() == '0' && (peek(1) == 'x' || peek(1) == 'X') && is_hex_digit(peek(2))) {
      pos_ += 2;
      digits(is_hex_digit);
    } else {
      digits(is_digit);
      if (peek() == '.' && peek(1) != '.') {
        ++pos_;
        digits(is_digit);
      }
      if ((peek() == 'e' || peek() == 'E') &&
          (is_digit(peek(1)) || ((peek(1) == '+' || peek(1) == '-') && is_digit(peek(2))))) {
        pos_ += 2;
        digits(is_digit);
      }
    }
    emit(TokenKind::number, start, std::string(sql_.substr(start, pos_ - start)));
    return true;
  }

  std::string_view sql_;
  bool pg_;
  bool backslash_strings_;
  std::size_t pos_ = 0;
  std::vector<Token> tokens_;
  std::string error_;
};

bool is_symbol(const Token& t, char c) {
  return t.kind == TokenKind::symbol && t.value.size() == 1 && t.value[0] == c;
}
bool is_word(const Token& t, std::string_view w) { return t.kind == TokenKind::word && t.value == w; }

// [begin, end) token ranges of the non-empty statements.
std::vector<std::pair<std::size_t, std::size_t>> statement_ranges(const std::vector<Token>& tokens) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  std::size_t begin = 0;
  for (std::size_t i = 0; i <= tokens.size(); ++i) {
    if (i == tokens.size() || is_symbol(tokens[i], ';')) {
      if (i > begin) out.emplace_back(begin, i);
      begin = i + 1;
    }
  }
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

// A function the check refuses, by its real (lowercase) name, and why.
struct RefusedFunction {
  std::string_view name;
  Dialect dialect;       // whose function it is; call syntax refuses every entry in both dialects
  std::string_view why;  // follows "function 'name' "
};

constexpr std::string_view kSideEffects = "has side effects: sql_query is read-only";
constexpr std::string_view kOtherSessions = "acts on other sessions or on the server itself: sql_query does not allow it";
constexpr std::string_view kSessionState =
    "changes session state that later calls on the same connection would inherit: sql_query does not allow it";
constexpr std::string_view kReplication = "changes or consumes replication state: sql_query is read-only";
constexpr std::string_view kLocks = "takes or releases advisory locks: sql_query is read-only";
constexpr std::string_view kXactId = "assigns a transaction id: sql_query is read-only";
constexpr std::string_view kLargeObjects =
    "works with large objects, which can write server files: sql_query does not allow it";
constexpr std::string_view kServerFiles = "reads the database server's files: sql_query does not allow it";
constexpr std::string_view kRunsText = "runs SQL given as text, which this check cannot inspect";
constexpr std::string_view kConnections = "opens or manages connections to other servers: sql_query does not allow it";
constexpr std::string_view kRawWrites =
    "writes tables, indexes or the catalog directly: sql_query is read-only";

constexpr Dialect kPgFn = Dialect::postgres;
constexpr Dialect kLiteFn = Dialect::sqlite;

// Every denied function by its exact name, by area. The PostgreSQL part was read name by name from
// the catalog of a PostgreSQL 15 server with every extension Debian's postgresql-15 ships installed
// (adminpack, dblink, postgres_fdw, pg_stat_statements, pageinspect, pg_surgery, pg_visibility,
// pg_walinspect, pg_prewarm, pg_trgm, tablefunc, xml2, lo, …), plus older releases' names. To refresh
// it, install them all (CREATE EXTENSION … CASCADE for each file in share/postgresql/15/extension)
// and read what this query lists:
//   SELECT DISTINCT p.proname FROM pg_proc p
//   WHERE (p.provolatile = 'v' OR p.proparallel = 'u') AND p.prokind IN ('f', 'w')
//     AND p.prorettype NOT IN ('trigger'::regtype, 'internal'::regtype, 'language_handler'::regtype,
//                              'fdw_handler'::regtype, 'index_am_handler'::regtype,
//                              'table_am_handler'::regtype, 'tsm_handler'::regtype)
//     AND NOT EXISTS (SELECT 1 FROM pg_type t WHERE p.oid IN (t.typinput, t.typoutput, t.typreceive, t.typsend))
//   ORDER BY 1;
// together with the functions PUBLIC may not execute (proacl set, no PUBLIC EXECUTE in
// aclexplode(proacl)) and, since volatility does not say it, the extension functions that take SQL
// as text (xml2's xpath_table and tablefunc's crosstab/connectby are STABLE). Left out on purpose:
// pg_sleep* (statement_timeout bounds it like any slow query; refusing it would stop nothing, a
// cross join waits as well, and would take away the plain way to test timeouts); clock and random
// functions; currval, lastval, txid_current_if_assigned, pg_current_xact_id_if_assigned (read);
// table_to_xml, schema_to_xml, database_to_xml (read tables by name with the caller's privileges);
// pg_walfile_name, pg_current_wal_lsn and the other read-only WAL positions; amcheck, pgstattuple,
// pg_buffercache, pg_visibility's readers (read under the server's own privilege checks);
// pg_hba_file_rules, pg_ident_file_mappings, pg_show_all_file_settings (the same rows are views,
// readable only as the server's privileges allow, so refusing the function would close nothing).
constexpr RefusedFunction kRefusedFunctions[] = {
    // PostgreSQL: other sessions and the server.
    {"pg_cancel_backend", kPgFn, kOtherSessions},
    {"pg_terminate_backend", kPgFn, kOtherSessions},
    {"pg_log_backend_memory_contexts", kPgFn, kOtherSessions},
    {"pg_reload_conf", kPgFn, kSideEffects},
    {"pg_rotate_logfile", kPgFn, kSideEffects},
    {"pg_rotate_logfile_old", kPgFn, kSideEffects},  // adminpack
    {"pg_promote", kPgFn, kSideEffects},
    {"pg_switch_wal", kPgFn, kSideEffects},
    {"pg_switch_xlog", kPgFn, kSideEffects},  // before PostgreSQL 10
    {"pg_create_restore_point", kPgFn, kSideEffects},
    {"pg_backup_start", kPgFn, kSideEffects},
    {"pg_backup_stop", kPgFn, kSideEffects},
    {"pg_start_backup", kPgFn, kSideEffects},  // before PostgreSQL 15
    {"pg_stop_backup", kPgFn, kSideEffects},
    {"pg_wal_replay_pause", kPgFn, kSideEffects},
    {"pg_wal_replay_resume", kPgFn, kSideEffects},
    {"pg_xlog_replay_pause", kPgFn, kSideEffects},  // before PostgreSQL 10
    {"pg_xlog_replay_resume", kPgFn, kSideEffects},
    {"pg_import_system_collations", kPgFn, kRawWrites},
    {"pg_stat_reset", kPgFn, kSideEffects},
    {"pg_stat_reset_shared", kPgFn, kSideEffects},
    {"pg_stat_reset_single_table_counters", kPgFn, kSideEffects},
    {"pg_stat_reset_single_function_counters", kPgFn, kSideEffects},
    {"pg_stat_reset_slru", kPgFn, kSideEffects},
    {"pg_stat_reset_replication_slot", kPgFn, kSideEffects},
    {"pg_stat_reset_subscription_stats", kPgFn, kSideEffects},
    {"pg_stat_statements_reset", kPgFn, kSideEffects},  // pg_stat_statements
    {"pg_notify", kPgFn, kSideEffects},
    {"pg_logical_emit_message", kPgFn, kSideEffects},
    {"pg_prewarm", kPgFn, kOtherSessions},  // pg_prewarm: fills shared buffers, evicting others' pages
    {"autoprewarm_start_worker", kPgFn, kOtherSessions},
    {"autoprewarm_dump_now", kPgFn, kSideEffects},  // writes a file
    // PostgreSQL: replication slots and origins.
    {"pg_create_logical_replication_slot", kPgFn, kReplication},
    {"pg_create_physical_replication_slot", kPgFn, kReplication},
    {"pg_drop_replication_slot", kPgFn, kReplication},
    {"pg_copy_logical_replication_slot", kPgFn, kReplication},
    {"pg_copy_physical_replication_slot", kPgFn, kReplication},
    {"pg_replication_slot_advance", kPgFn, kReplication},
    {"pg_logical_slot_get_changes", kPgFn, kReplication},  // consumes the slot's changes
    {"pg_logical_slot_get_binary_changes", kPgFn, kReplication},
    {"pg_logical_slot_peek_changes", kPgFn, kReplication},  // decodes WAL as the slot's owner
    {"pg_logical_slot_peek_binary_changes", kPgFn, kReplication},
    {"pg_replication_origin_create", kPgFn, kReplication},
    {"pg_replication_origin_drop", kPgFn, kReplication},
    {"pg_replication_origin_advance", kPgFn, kReplication},
    {"pg_replication_origin_session_setup", kPgFn, kReplication},
    {"pg_replication_origin_session_reset", kPgFn, kReplication},
    {"pg_replication_origin_xact_setup", kPgFn, kReplication},
    {"pg_replication_origin_xact_reset", kPgFn, kReplication},
    // PostgreSQL: settings and session state.
    {"set_config", kPgFn, kSideEffects},
    {"set_limit", kPgFn, kSessionState},  // pg_trgm: sets pg_trgm.similarity_threshold
    {"setseed", kPgFn, kSessionState},    // the next caller's random() would be predictable
    // PostgreSQL: sequences and transaction ids.
    {"nextval", kPgFn, kSideEffects},
    {"setval", kPgFn, kSideEffects},
    {"txid_current", kPgFn, kXactId},
    {"pg_current_xact_id", kPgFn, kXactId},
    // PostgreSQL: advisory locks (session locks outlive the call on a pooled connection).
    {"pg_advisory_lock", kPgFn, kLocks},
    {"pg_advisory_lock_shared", kPgFn, kLocks},
    {"pg_advisory_unlock", kPgFn, kLocks},
    {"pg_advisory_unlock_shared", kPgFn, kLocks},
    {"pg_advisory_unlock_all", kPgFn, kLocks},
    {"pg_advisory_xact_lock", kPgFn, kLocks},
    {"pg_advisory_xact_lock_shared", kPgFn, kLocks},
    {"pg_try_advisory_lock", kPgFn, "takes advisory locks: sql_query is read-only"},
    {"pg_try_advisory_lock_shared", kPgFn, "takes advisory locks: sql_query is read-only"},
    {"pg_try_advisory_xact_lock", kPgFn, "takes advisory locks: sql_query is read-only"},
    {"pg_try_advisory_xact_lock_shared", kPgFn, "takes advisory locks: sql_query is read-only"},
    // PostgreSQL: large objects (lo_create works even inside a read-only transaction).
    {"lo_close", kPgFn, kLargeObjects},
    {"lo_creat", kPgFn, kLargeObjects},
    {"lo_create", kPgFn, kLargeObjects},
    {"lo_export", kPgFn, kLargeObjects},
    {"lo_from_bytea", kPgFn, kLargeObjects},
    {"lo_get", kPgFn, kLargeObjects},
    {"lo_import", kPgFn, kLargeObjects},
    {"lo_lseek", kPgFn, kLargeObjects},
    {"lo_lseek64", kPgFn, kLargeObjects},
    {"lo_open", kPgFn, kLargeObjects},
    {"lo_put", kPgFn, kLargeObjects},
    {"lo_tell", kPgFn, kLargeObjects},
    {"lo_tell64", kPgFn, kLargeObjects},
    {"lo_truncate", kPgFn, kLargeObjects},
    {"lo_truncate64", kPgFn, kLargeObjects},
    {"lo_unlink", kPgFn, kLargeObjects},
    {"loread", kPgFn, kLargeObjects},
    {"lowrite", kPgFn, kLargeObjects},
    // PostgreSQL: the server's files (adminpack, pg_walinspect, pageinspect and the core ones).
    {"pg_read_file", kPgFn, kServerFiles},
    {"pg_read_file_old", kPgFn, kServerFiles},  // adminpack
    {"pg_read_binary_file", kPgFn, kServerFiles},
    {"pg_stat_file", kPgFn, kServerFiles},
    {"pg_current_logfile", kPgFn, kServerFiles},
    {"pg_ls_dir", kPgFn, kServerFiles},
    {"pg_ls_logdir", kPgFn, kServerFiles},
    {"pg_ls_waldir", kPgFn, kServerFiles},
    {"pg_ls_tmpdir", kPgFn, kServerFiles},
    {"pg_ls_archive_statusdir", kPgFn, kServerFiles},
    {"pg_ls_logicalmapdir", kPgFn, kServerFiles},
    {"pg_ls_logicalsnapdir", kPgFn, kServerFiles},
    {"pg_ls_replslotdir", kPgFn, kServerFiles},
    {"pg_logdir_ls", kPgFn, kServerFiles},  // adminpack
    {"pg_file_read", kPgFn, kServerFiles},  // adminpack before 2.0
    {"pg_file_length", kPgFn, kServerFiles},
    {"pg_file_write", kPgFn, kSideEffects},  // adminpack
    {"pg_file_rename", kPgFn, kSideEffects},
    {"pg_file_unlink", kPgFn, kSideEffects},
    {"pg_file_sync", kPgFn, kSideEffects},
    {"pg_get_wal_record_info", kPgFn, kServerFiles},  // pg_walinspect reads WAL files
    {"pg_get_wal_records_info", kPgFn, kServerFiles},
    {"pg_get_wal_records_info_till_end_of_wal", kPgFn, kServerFiles},
    {"pg_get_wal_stats", kPgFn, kServerFiles},
    {"pg_get_wal_stats_till_end_of_wal", kPgFn, kServerFiles},
    {"get_raw_page", kPgFn, kServerFiles},  // pageinspect: raw pages skip row security and column grants
    {"xslt_process", kPgFn, kServerFiles},  // xml2: a stylesheet can fetch files and URLs
    // PostgreSQL: SQL hidden in a string, or sent to another server.
    {"query_to_xml", kPgFn, kRunsText},
    {"query_to_xmlschema", kPgFn, kRunsText},
    {"query_to_xml_and_xmlschema", kPgFn, kRunsText},
    {"cursor_to_xml", kPgFn, kRunsText},  // fetches from a cursor the session may hold for another caller
    {"cursor_to_xmlschema", kPgFn, kRunsText},
    {"ts_stat", kPgFn, kRunsText},
    {"ts_rewrite", kPgFn, kRunsText},  // its second argument may be a query run by the server
    {"crosstab", kPgFn, kRunsText},    // tablefunc
    {"crosstab2", kPgFn, kRunsText},
    {"crosstab3", kPgFn, kRunsText},
    {"crosstab4", kPgFn, kRunsText},
    {"connectby", kPgFn, kRunsText},
    {"xpath_table", kPgFn, kRunsText},  // xml2: builds a query from its text arguments
    {"dblink", kPgFn, kRunsText},
    {"dblink_exec", kPgFn, kRunsText},
    {"dblink_open", kPgFn, kRunsText},
    {"dblink_fetch", kPgFn, kRunsText},
    {"dblink_close", kPgFn, kRunsText},
    {"dblink_send_query", kPgFn, kRunsText},
    {"dblink_get_result", kPgFn, kRunsText},
    {"dblink_connect", kPgFn, kConnections},
    {"dblink_connect_u", kPgFn, kConnections},
    {"dblink_disconnect", kPgFn, kConnections},
    {"dblink_cancel_query", kPgFn, kConnections},
    {"dblink_get_notify", kPgFn, kConnections},
    {"dblink_is_busy", kPgFn, kConnections},
    {"dblink_error_message", kPgFn, kConnections},
    {"dblink_get_connections", kPgFn, kConnections},
    {"dblink_current_query", kPgFn, kConnections},
    {"dblink_get_pkey", kPgFn, kConnections},
    {"dblink_build_sql_insert", kPgFn, kConnections},
    {"dblink_build_sql_update", kPgFn, kConnections},
    {"dblink_build_sql_delete", kPgFn, kConnections},
    {"postgres_fdw_disconnect", kPgFn, kConnections},
    {"postgres_fdw_disconnect_all", kPgFn, kConnections},
    {"postgres_fdw_get_connections", kPgFn, kConnections},
    // PostgreSQL: writes past the read-only transaction, or only for initdb and pg_upgrade.
    {"heap_force_freeze", kPgFn, kRawWrites},  // pg_surgery
    {"heap_force_kill", kPgFn, kRawWrites},
    {"pg_truncate_visibility_map", kPgFn, kRawWrites},  // pg_visibility
    {"brin_summarize_new_values", kPgFn, kRawWrites},
    {"brin_summarize_range", kPgFn, kRawWrites},
    {"brin_desummarize_range", kPgFn, kRawWrites},
    {"gin_clean_pending_list", kPgFn, kRawWrites},
    {"pg_nextoid", kPgFn, kRawWrites},
    {"pg_stop_making_pinned_objects", kPgFn, kRawWrites},
    {"pg_extension_config_dump", kPgFn, kRawWrites},
    {"binary_upgrade_create_empty_extension", kPgFn, kRawWrites},
    {"binary_upgrade_set_missing_value", kPgFn, kRawWrites},
    {"binary_upgrade_set_next_array_pg_type_oid", kPgFn, kRawWrites},
    {"binary_upgrade_set_next_heap_pg_class_oid", kPgFn, kRawWrites},
    {"binary_upgrade_set_next_heap_relfilenode", kPgFn, kRawWrites},
    {"binary_upgrade_set_next_index_pg_class_oid", kPgFn, kRawWrites},
    {"binary_upgrade_set_next_index_relfilenode", kPgFn, kRawWrites},
    {"binary_upgrade_set_next_multirange_array_pg_type_oid", kPgFn, kRawWrites},
    {"binary_upgrade_set_next_multirange_pg_type_oid", kPgFn, kRawWrites},
    {"binary_upgrade_set_next_pg_authid_oid", kPgFn, kRawWrites},
    {"binary_upgrade_set_next_pg_enum_oid", kPgFn, kRawWrites},
    {"binary_upgrade_set_next_pg_tablespace_oid", kPgFn, kRawWrites},
    {"binary_upgrade_set_next_pg_type_oid", kPgFn, kRawWrites},
    {"binary_upgrade_set_next_toast_pg_class_oid", kPgFn, kRawWrites},
    {"binary_upgrade_set_next_toast_relfilenode", kPgFn, kRawWrites},
    {"binary_upgrade_set_record_init_privs", kPgFn, kRawWrites},
    // SQLite (extensions and the shell's functions).
    {"load_extension", kLiteFn, "loads native code into the server: sql_query does not allow it"},
    {"writefile", kLiteFn, kSideEffects},
    {"readfile", kLiteFn, kServerFiles},
    {"edit", kLiteFn, kSideEffects},
    {"fts3_tokenizer", kLiteFn, kSideEffects},
};

// Belt and braces for call syntax only: families whose future members are as dangerous as today's.
// A name after '.' is far more often a column than a function, so field position uses exact names.
struct RefusedPrefix {
  std::string_view prefix;
  std::string_view why;
};

constexpr RefusedPrefix kRefusedPrefixes[] = {
    {"pg_stat_reset", kSideEffects},
    {"pg_logical_slot_", kReplication},
    {"pg_replication_origin_", kReplication},
    {"pg_advisory_", kLocks},
    {"pg_try_advisory_", "takes advisory locks: sql_query is read-only"},
    {"lo_", kLargeObjects},
    {"pg_ls_", kServerFiles},
    {"pg_file_", kServerFiles},
    {"dblink", kRunsText},
    {"postgres_fdw_", kConnections},
    {"query_to_xml", kRunsText},
    {"crosstab", kRunsText},
    {"binary_upgrade_", kRawWrites},
};

// Whether the unquoted name `word` (ASCII already lowercased) can name `name`, or with `prefix` start
// with it, once the server has downcased it. PostgreSQL lowercases non-ASCII letters of unquoted names
// too when the database encoding is single-byte, with the locale's rules, and some of them become
// ASCII: in LATIN5 under a Turkish locale 'İ' becomes 'i', so PG_TERMİNATE_BACKEND(pid) calls
// pg_terminate_backend. A non-ASCII character (one UTF-8 sequence here, one byte once converted) may
// therefore stand for any ASCII letter; the check cannot know the database's encoding and locale.
bool may_name(std::string_view word, std::string_view name, bool prefix) {
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < word.size() && j < name.size()) {
    const auto c = static_cast<unsigned char>(word[i]);
    if (c < 0x80) {
      if (word[i] != name[j]) return false;
      ++i;
    } else {
      if (name[j] < 'a' || name[j] > 'z') return false;
      ++i;
      while (i < word.size() && (static_cast<unsigned char>(word[i]) & 0xC0) == 0x80) ++i;
    }
    ++j;
  }
  return j == name.size() && (prefix || i == word.size());
}

bool has_non_ascii(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

// A refused function a name can reach: its real name (a family's prefix ends in "…") and why.
struct RefusedName {
  std::string name;
  std::string_view why;
};

// Whether `lowercase_name` as written reaches `real` (or with `prefix`, a name starting with it);
// `unquoted_pg` when it is an unquoted PostgreSQL name, which the server may fold further (may_name).
bool may_reach(std::string_view lowercase_name, std::string_view real, bool unquoted_pg, bool prefix) {
  if (unquoted_pg && has_non_ascii(lowercase_name)) return may_name(lowercase_name, real, prefix);
  return prefix ? lowercase_name.starts_with(real) : lowercase_name == real;
}

// What a call of `lowercase_name` (name followed by '(') would reach, if it is refused.
std::optional<RefusedName> refused_call(std::string_view lowercase_name, bool unquoted_pg) {
  for (const auto& f : kRefusedFunctions)
    if (may_reach(lowercase_name, f.name, unquoted_pg, false)) return RefusedName{std::string(f.name), f.why};
  for (const auto& p : kRefusedPrefixes)
    if (may_reach(lowercase_name, p.prefix, unquoted_pg, true)) return RefusedName{std::string(p.prefix) + "…", p.why};
  return std::nullopt;
}

// What `x.lowercase_name` would reach (PostgreSQL only), if it is refused: exact real names only.
std::optional<RefusedName> refused_field_call(std::string_view lowercase_name, bool unquoted) {
  for (const auto& f : kRefusedFunctions)
    if (f.dialect == Dialect::postgres && may_reach(lowercase_name, f.name, unquoted, false))
      return RefusedName{std::string(f.name), f.why};
  return std::nullopt;
}

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

std::optional<std::vector<Token>> tokenize(std::string_view sql, Dialect dialect, std::string& error) {
  return Lexer(sql, dialect, false).run(error);
}

SplitResult split_statements(std::string_view sql, Dialect dialect) {
  SplitResult out;
  const auto tokens = tokenize(sql, dialect, out.error);
  if (!tokens) return out;
  for (const auto& [begin, end] : statement_ranges(*tokens)) {
    const std::size_t from = (*tokens)[begin].offset;
    const std::size_t to = (*tokens)[end - 1].offset + (*tokens)[end - 1].length;
    out.statements.emplace_back(sql.substr(from, to - from));
  }
  if (out.statements.empty()) out.error = "the SQL is empty: send one statement, such as a SELECT";
  return out;
}

std::vector<std::string> denied_function_names(Dialect dialect) {
  std::vector<std::string> out;
  for (const auto& f : kRefusedFunctions)
    if (f.dialect == dialect) out.emplace_back(f.name);
  return out;
}

std::optional<std::string> check_read_only(std::string_view sql, Dialect dialect) {
  std::string error;
  const auto tokens = tokenize(sql, dialect, error);
  if (!tokens) return error;
  if (auto refused = check_tokens(*tokens, dialect)) return refused;
  // A PostgreSQL server with standard_conforming_strings off reads backslashes in '…' as escapes,
  // which can move where a string ends. When that reading does not lex, such a server rejects the
  // text itself; when it does, it must pass too.
  if (dialect == Dialect::postgres && sql.find('\\') != std::string_view::npos) {
    std::string ignored;
    if (const auto other = Lexer(sql, dialect, true).run(ignored)) {
      if (auto refused = check_tokens(*other, dialect))
        return *refused +
               " (reading backslashes in '…' strings as escapes, as a server does when "
               "standard_conforming_strings is off)";
    }
  }
  return std::nullopt;
}

}  // namespace mcpd::packs::sql
