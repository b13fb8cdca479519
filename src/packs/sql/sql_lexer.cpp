// The SQL lexer behind the read-only statement check, and the statement split built on it.
//
// The text is read as bytes; it arrives as UTF-8 (JSON), and the connection must use client_encoding
// UTF8 so that the server reads the same bytes (in SJIS or GBK a '\' can hide in a character).
#include "packs/sql/sql_lexer.hpp"

#include <algorithm>
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

std::string at(std::size_t offset) { return "at position " + std::to_string(offset + 1); }

class Lexer {
 public:
  // backslash_strings: read '…' strings with backslash escapes, as PostgreSQL does when
  // standard_conforming_strings is off.
  Lexer(std::string_view sql, Dialect dialect, bool backslash_strings)
      : sql_(sql), pg_(dialect == Dialect::postgres), backslash_strings_(backslash_strings) {}

  core::Result<std::vector<Token>> run() {
    while (pos_ < sql_.size())
      if (!step()) return core::Error::invalid_argument(std::move(error_));
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

}  // namespace

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

core::Result<std::vector<Token>> tokenize(std::string_view sql, Dialect dialect, StringEscapes escapes) {
  return Lexer(sql, dialect, escapes == StringEscapes::backslash).run();
}

core::Result<std::vector<std::string>> split_statements(std::string_view sql, Dialect dialect) {
  const auto tokens = tokenize(sql, dialect);
  if (!tokens) return tokens.error();
  std::vector<std::string> statements;
  for (const auto& [begin, end] : statement_ranges(*tokens)) {
    const std::size_t from = (*tokens)[begin].offset;
    const std::size_t to = (*tokens)[end - 1].offset + (*tokens)[end - 1].length;
    statements.emplace_back(sql.substr(from, to - from));
  }
  if (statements.empty()) return core::Error::invalid_argument("the SQL is empty: send one statement, such as a SELECT");
  return statements;
}

}  // namespace mcpd::packs::sql
