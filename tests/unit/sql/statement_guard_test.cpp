// The read-only statement check: what sql_query accepts, and every known way to slip a write past it.
// The cases are data (statement_guard_cases.txt, one a line, its format in its header); the lexer's
// split_statements and tokenize are tested below them.
#include "packs/sql/statement_guard.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace mcpd::packs::sql;

namespace {

constexpr Dialect kPg = Dialect::postgres;
constexpr Dialect kLite = Dialect::sqlite;

// One line of statement_guard_cases.txt, with the lines that refine it.
struct GuardCase {
  std::string name;  // <group>_<n>: the case's group and its place in it
  int line = 0;
  bool accept = true;
  Dialect dialect = kPg;
  std::string sql;
  std::string says;                     // a part of the refusal's sentence
  std::vector<std::string> never_says;  // parts the refusal's sentence must not contain
  std::string problem;                  // why the line could not be read; the case then fails
};

// The line only: a statement may hold line breaks, which would break the test listing ctest reads.
void PrintTo(const GuardCase& c, std::ostream* os) { *os << "statement_guard_cases.txt:" << c.line; }

// The file's named characters (<LF>, <CR>, <TAB>, <NUL>) back to the characters.
std::string decode(std::string_view text) {
  static const std::pair<std::string_view, char> kNamed[] = {{"<LF>", '\n'}, {"<CR>", '\r'}, {"<TAB>", '\t'}, {"<NUL>", '\0'}};
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    bool named = false;
    for (const auto& [name, c] : kNamed)
      if (text.substr(i, name.size()) == name) {
        out += c;
        i += name.size();
        named = true;
        break;
      }
    if (!named) out += text[i++];
  }
  return out;
}

bool valid_group(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) return false;
  return true;
}

GuardCase unreadable_case(std::string name, int line, std::string problem) {
  GuardCase c;
  c.name = std::move(name);
  c.line = line;
  c.problem = std::move(problem);
  return c;
}

std::vector<GuardCase> load_cases() {
  std::vector<GuardCase> cases;
  std::ifstream file(MCPD_SQL_GUARD_CASES);
  if (!file) {
    cases.push_back(unreadable_case("CasesFile", 0, std::string("cannot open ") + MCPD_SQL_GUARD_CASES));
    return cases;
  }
  std::string group;
  int in_group = 0;
  std::string line;
  for (int number = 1; std::getline(file, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();  // a checkout with CRLF line ends
    if (line.empty() || line[0] == '#') continue;
    const auto unreadable = [&](std::string why) {
      cases.push_back(unreadable_case("Line" + std::to_string(number), number, std::move(why)));
    };
    if (line[0] == '[') {
      group = line.size() > 2 && line.back() == ']' ? line.substr(1, line.size() - 2) : "";
      in_group = 0;
      if (!valid_group(group)) unreadable("a group is named [Name], with letters and digits only");
      continue;
    }
    if (line.rfind("  not ", 0) == 0) {
      if (cases.empty() || cases.back().accept || !cases.back().problem.empty())
        unreadable("a '  not ' line belongs under a refusal");
      else
        cases.back().never_says.push_back(decode(line.substr(6)));
      continue;
    }
    GuardCase c;
    c.line = number;
    std::string_view rest = line;
    if (rest.starts_with("accept ")) c.accept = true;
    else if (rest.starts_with("refuse ")) c.accept = false;
    else {
      unreadable("a line starts with accept, refuse, '  not ', '[' or '#'");
      continue;
    }
    rest.remove_prefix(7);
    if (rest.starts_with("pg ")) c.dialect = kPg, rest.remove_prefix(3);
    else if (rest.starts_with("lite ")) c.dialect = kLite, rest.remove_prefix(5);
    else {
      unreadable("the verdict is followed by the dialect, pg or lite, and one space");
      continue;
    }
    if (!c.accept) {
      const auto arrow = rest.rfind(" => ");
      if (arrow == std::string_view::npos || arrow + 4 == rest.size()) {
        unreadable("a refusal names a part of its sentence after ' => '");
        continue;
      }
      c.says = decode(rest.substr(arrow + 4));
      rest = rest.substr(0, arrow);
    }
    c.sql = decode(rest);
    if (group.empty()) {
      unreadable("a case comes after a [Group] line");
      continue;
    }
    c.name = group + "_" + std::to_string(++in_group);
    cases.push_back(std::move(c));
  }
  return cases;
}

class StatementGuardCase : public ::testing::TestWithParam<GuardCase> {};

}  // namespace

TEST_P(StatementGuardCase, HasItsVerdict) {
  const GuardCase& c = GetParam();
  ASSERT_TRUE(c.problem.empty()) << MCPD_SQL_GUARD_CASES << ":" << c.line << ": " << c.problem;
  const auto checked = check_read_only(c.sql, c.dialect);
  const std::string where = std::string(MCPD_SQL_GUARD_CASES) + ":" + std::to_string(c.line) + "\nSQL: " + c.sql;
  if (c.accept) {
    EXPECT_TRUE(checked) << where << "\nrefused: " << (checked ? "" : checked.error().message);
    return;
  }
  ASSERT_FALSE(checked) << where << "\nwas accepted";
  EXPECT_EQ(checked.error().kind, mcpd::core::ErrorKind::Refused) << where;
  const std::string& reason = checked.error().message;
  EXPECT_NE(reason.find(c.says), std::string::npos) << where << "\nreason: " << reason << "\nexpected it to contain: " << c.says;
  for (const auto& never : c.never_says)
    EXPECT_EQ(reason.find(never), std::string::npos) << where << "\nreason: " << reason << "\nexpected it not to contain: " << never;
}

INSTANTIATE_TEST_SUITE_P(Cases, StatementGuardCase, ::testing::ValuesIn(load_cases()),
                         [](const auto& info) { return info.param.name; });

// 273 cases when they moved here from code (70 accepted, 203 refused): fewer means some were lost.
TEST(StatementGuardCases, NoneLost) {
  std::size_t accepted = 0, refused = 0;
  for (const auto& c : load_cases()) {
    EXPECT_TRUE(c.problem.empty()) << MCPD_SQL_GUARD_CASES << ":" << c.line << ": " << c.problem;
    if (c.problem.empty()) ++(c.accept ? accepted : refused);
  }
  EXPECT_GE(accepted, 70u);
  EXPECT_GE(refused, 203u);
}

// ---- split_statements and tokenize --------------------------------------------------------------

TEST(SplitStatements, SplitsOutsideStringsAndComments) {
  const auto r = split_statements("SELECT ';' ; -- c; d\n SELECT $$;$$ /* ; */ ;", kPg);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, (std::vector<std::string>{"SELECT ';'", "SELECT $$;$$"}));
}

TEST(SplitStatements, KeepsCommentsInsideAStatement) {
  const auto r = split_statements("  SELECT /* a */ 1  ;", kPg);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, (std::vector<std::string>{"SELECT /* a */ 1"}));
}

TEST(SplitStatements, SqliteBracketNames) {
  const auto r = split_statements("SELECT [a;b]; SELECT `c;d`", kLite);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, (std::vector<std::string>{"SELECT [a;b]", "SELECT `c;d`"}));
}

TEST(SplitStatements, EmptyAndMalformedInputAreErrors) {
  EXPECT_FALSE(split_statements("", kPg).ok());
  const auto empty = split_statements(" ; -- x", kPg);
  ASSERT_TRUE(empty.failed());
  EXPECT_EQ(empty.error().kind, mcpd::core::ErrorKind::InvalidArgument);
  EXPECT_NE(empty.error().message.find("empty"), std::string::npos) << empty.error().message;
  const auto r = split_statements("SELECT 'x", kPg);
  ASSERT_TRUE(r.failed());
  EXPECT_NE(r.error().message.find("not closed"), std::string::npos) << r.error().message;
}

TEST(Tokenize, JoinsStringsAcrossLineBreaksInPostgresOnly) {
  const auto pg = tokenize("SELECT E'a'\n'b', 'c' -- x\n 'd' 'e'", kPg);
  ASSERT_TRUE(pg.ok()) << pg.error().message;
  std::vector<std::string> strings;
  for (const auto& tok : *pg)
    if (tok.kind == TokenKind::string) strings.push_back(tok.value);
  EXPECT_EQ(strings, (std::vector<std::string>{"E'a'\n'b'", "'c' -- x\n 'd'", "'e'"}));
  const auto lite = tokenize("SELECT 'a'\n'b'", kLite);
  ASSERT_TRUE(lite.ok()) << lite.error().message;
  EXPECT_EQ(lite->size(), 3u);  // SQLite does not join them
}

TEST(Tokenize, KindsAndValues) {
  const auto t = tokenize("SeLeCt E'\\'' , \"A\"\"b\", x::text, $1, $q$z$q$ FROM t", kPg);
  ASSERT_TRUE(t.ok()) << t.error().message;
  std::vector<TokenKind> kinds;
  for (const auto& tok : *t) kinds.push_back(tok.kind);
  using K = TokenKind;
  EXPECT_EQ(kinds,
            (std::vector<K>{K::word, K::string, K::symbol, K::quoted_name, K::symbol, K::word, K::symbol,
                            K::symbol, K::word, K::symbol, K::parameter, K::symbol, K::string, K::word, K::word}));
  EXPECT_EQ((*t)[0].value, "select");
  EXPECT_EQ((*t)[1].value, "E'\\''");
  EXPECT_EQ((*t)[3].value, "A\"b");
  EXPECT_EQ((*t)[3].offset, 15u);
  EXPECT_EQ((*t)[3].length, 6u);
  EXPECT_EQ((*t)[10].value, "$1");
}
