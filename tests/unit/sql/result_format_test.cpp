// The text table of sql results, held byte for byte to what it showed before it was rewritten to
// render every cell into one buffer (the expected tables were printed by the earlier version), except
// doubles: they show in their shortest form (0.5, -3.25, 1e+100), no longer as JSON writes them (5E-1).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "packs/sql/result_format.hpp"

namespace mcpd::packs::sql {
namespace {

struct Case {
  std::string name;
  QueryResult result;
  std::size_t max_rows;
};

// Every shape a cell or a table takes: numbers past 2^53, doubles, JSON values, NULL and missing
// keys, accents, CJK and emoji, control characters, cells and names past 60 code points, invalid
// UTF-8, writes, and both ways of truncating.
std::vector<Case> cases() {
  std::vector<Case> out;
  auto row = [](json::object o) { return json::value(std::move(o)); };
  {
    QueryResult r;
    r.columns = {{"id", "int4"}, {"name", "text"}, {"price", "numeric"}};
    r.rows.push_back(row({{"id", 1042}, {"name", "item 1042"}, {"price", "4.20"}}));
    out.push_back({"one_row", r, 100});
  }
  {
    QueryResult r;
    r.columns = {{"n", "int8"}, {"big", "int8"}, {"neg", "int4"}, {"f", "float8"}, {"b", "bool"}, {"nul", "text"},
                 {"j", "jsonb"}, {"a", "int4[]"}, {"u", "int8"}};
    r.rows.push_back(row({{"n", 0}, {"big", "9007199254740993"}, {"neg", -17}, {"f", 0.5}, {"b", true}, {"nul", nullptr},
                          {"j", json::object{{"k", json::array{1, "two", nullptr}}}}, {"a", json::array{1, 2, 3}},
                          {"u", std::uint64_t{18446744073709551615ull}}}));
    r.rows.push_back(row({{"n", 123456789}, {"big", "-9007199254740993"}, {"neg", -1}, {"f", 1e100}, {"b", false},
                          {"nul", "x"}, {"j", json::object{}}, {"a", json::array{}}, {"u", 0}}));
    r.rows.push_back(row({{"n", 1}, {"big", "1"}, {"neg", 0}, {"f", -3.25}, {"b", nullptr}, {"nul", ""},
                          {"j", "\"quoted\" \\ back"}, {"a", nullptr}, {"u", 7}}));
    out.push_back({"scalars", r, 100});
  }
  {
    QueryResult r;
    r.columns = {{"word", "text"}, {"n", "int4"}};
    r.rows.push_back(row({{"word", "Zoë"}, {"n", 1}}));
    r.rows.push_back(row({{"word", "日本語のテキスト"}, {"n", 2}}));
    r.rows.push_back(row({{"word", "emoji 😀 here"}, {"n", 3}}));
    r.rows.push_back(row({{"word", "tab\\there\\nnewline"}, {"n", 4}}));
    r.rows.push_back(row({{"word", "line one\nline two\r\nthree\tfour"}, {"n", 5}}));
    out.push_back({"unicode_and_controls", r, 5});
  }
  {
    QueryResult r;
    std::string sixty(60, 'a'), sixty_one(61, 'b'), long_text(500, 'c');
    std::string accents;
    for (int i = 0; i < 70; ++i) accents += "é";
    std::string cjk;
    for (int i = 0; i < 61; ++i) cjk += "字";
    r.columns = {{"exactly_sixty", "text"}, {std::string(70, 'N'), "text"}, {"other", "text"}};
    r.rows.push_back(row({{"exactly_sixty", sixty}, {std::string(70, 'N'), sixty_one}, {"other", long_text}}));
    r.rows.push_back(row({{"exactly_sixty", accents}, {std::string(70, 'N'), cjk}, {"other", "short"}}));
    r.rows.push_back(row({{"exactly_sixty", json::array{std::string(80, 'z')}}, {std::string(70, 'N'), 1},
                          {"other", json::object{{"long", std::string(80, 'y')}}}}));
    out.push_back({"clipping", r, 3});
  }
  {
    QueryResult r;
    r.columns = {{"a", "int4"}, {"missing", "text"}, {"b", "int4"}};
    r.rows.push_back(row({{"a", 1}, {"b", 2}}));
    r.rows.push_back(row({{"b", 4}, {"a", 3}, {"missing", "here"}}));
    out.push_back({"keys_missing_or_reordered", r, 10});
  }
  {
    QueryResult r;
    r.columns = {{"id", "int4"}, {"id_2", "int4"}};
    out.push_back({"no_rows", r, 10});
  }
  {
    QueryResult r;
    r.rows_affected = 3;
    r.command = "UPDATE 3";
    out.push_back({"write_without_rows", r, 10});
  }
  {
    QueryResult r;
    r.columns = {{"id", "int4"}};
    r.rows.push_back(row({{"id", 1}}));
    r.rows_affected = 1;
    r.command = "INSERT 0 1";
    out.push_back({"write_returning_one", r, 10});
  }
  {
    QueryResult r;
    r.columns = {{"g", "int4"}, {"filler", "text"}};
    for (int i = 1; i <= 3; ++i) r.rows.push_back(row({{"g", i}, {"filler", std::string(100, 'x')}}));
    r.truncated = r.truncated_by_size = true;
    out.push_back({"truncated_by_size", r, 100});
  }
  {
    QueryResult r;
    r.columns = {{"g", "int4"}};
    for (int i = 1; i <= 12; ++i) r.rows.push_back(row({{"g", i * i * i}}));
    r.truncated = true;
    out.push_back({"truncated_at_max_rows", r, 12});
  }
  {
    QueryResult r;
    r.columns = {{"", "text"}, {"?column?", "int4"}, {"ünï", "text"}};
    r.rows.push_back(row({{"", ""}, {"?column?", 1}, {"ünï", "é"}}));
    out.push_back({"odd_names", r, 10});
  }
  {
    QueryResult r;
    r.columns = {{"bytes", "text"}};
    r.rows.push_back(row({{"bytes", std::string(100, '\x80') + "abc"}}));
    r.rows.push_back(row({{"bytes", std::string(70, 'a') + std::string(10, '\x80')}}));
    r.rows.push_back(row({{"bytes", std::string(59, 'a') + "\xE2\x82\xAC\xE2\x82\xAC"}}));
    r.rows.push_back(row({{"bytes", std::string(59, 'a') + "\xE2\x82\xAC"}}));
    out.push_back({"invalid_utf8_and_edges", r, 10});
  }
  return out;
}
struct Expected {
  std::string name;
  std::string text;
};

std::vector<Expected> expected() {
  return {
      {"one_row",
       "id   | name      | price\n"
       "-----+-----------+------\n"
       "1042 | item 1042 | 4.20\n"
       "(1 row from src)"},
      {"scalars",
       "n         | big               | neg | f      | b     | nul  | j                    | a    "
       "   | u\n"
       "----------+-------------------+-----+--------+-------+------+----------------------+------"
       "---+---------------------\n"
       "0         | 9007199254740993  | -17 | 0.5    | true  | NULL | {\"k\":[1,\"two\",null]} | [1,2,"
       "3] | 18446744073709551615\n"
       "123456789 | -9007199254740993 | -1  | 1e+100 | false | x    | {}                   | []   "
       "   | 0\n"
       "1         | 1                 | 0   | -3.25  | NULL  |      | \"quoted\" \\ back      | NULL "
       "   | 7\n"
       "(3 rows from src)"},
      {"unicode_and_controls",
       "word                          | n\n"
       "------------------------------+--\n"
       "Zo\303\253                           | 1\n"
       "\346\227\245\346\234\254\350\252\236\343\201\256\343\203\206\343\202\255\343\202\271\343\203\210                      | 2\n"
       "emoji \360\237\230\200 here                  | 3\n"
       "tab\\there\\nnewline            | 4\n"
       "line one line two  three four | 5\n"
       "(5 rows from src)"},
      {"clipping",
       "exactly_sixty                                                | NNNNNNNNNNNNNNNNNNNNNNNNNNNN"
       "NNNNNNNNNNNNNNNNNNNNNNNNNNNNNNN\342\200\246 | other\n"
       "-------------------------------------------------------------+-----------------------------"
       "---------------------------------+---------------------------------------------------------"
       "----\n"
       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa | bbbbbbbbbbbbbbbbbbbbbbbbbbbb"
       "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\342\200\246 | cccccccccccccccccccccccccccccccccccccccccccccccccccccc"
       "ccccc\342\200\246\n"
       "\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303"
       "\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\342\200\246 | \345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345"
       "\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255"
       "\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\345\255\227\342\200\246 | short\n"
       "[\"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\342\200\246 | 1                         "
       "                                   | {\"long\":\"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
       "yyyyy\342\200\246\n"
       "(3 rows from src)"},
      {"keys_missing_or_reordered",
       "a | missing | b\n"
       "--+---------+--\n"
       "1 |         | 2\n"
       "3 | here    | 4\n"
       "(2 rows from src)"},
      {"no_rows",
       "id | id_2\n"
       "---+-----\n"
       "(0 rows from src)"},
      {"write_without_rows",
       "(0 rows, 3 affected from src)"},
      {"write_returning_one",
       "id\n"
       "--\n"
       "1\n"
       "(1 row, 1 affected from src)"},
      {"truncated_by_size",
       "g | filler\n"
       "--+-------------------------------------------------------------\n"
       "1 | xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\342\200\246\n"
       "2 | xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\342\200\246\n"
       "3 | xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\342\200\246\n"
       "(3 rows, truncated at 16 MiB of values: select fewer or narrower columns from src)"},
      {"truncated_at_max_rows",
       "g\n"
       "----\n"
       "1\n"
       "8\n"
       "27\n"
       "64\n"
       "125\n"
       "216\n"
       "343\n"
       "512\n"
       "729\n"
       "1000\n"
       "1331\n"
       "1728\n"
       "(12 rows, truncated at max_rows=12 from src)"},
      {"odd_names",
       " | ?column? | \303\274n\303\257\n"
       "-+----------+----\n"
       " | 1        | \303\251\n"
       "(1 row from src)"},
      {"invalid_utf8_and_edges",
       "bytes\n"
       "------------------------------------------------------------\n"
       "\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200\200"
       "\200\200\200\200\200\200\200\200\200abc\n"
       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\342\200\246\n"
       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\342\200\246\n"
       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\342\202\254\n"
       "(4 rows from src)"},
  };
}

TEST(SqlResultText, EveryShapeReadsAsBefore) {
  const auto inputs = cases();
  const auto tables = expected();
  ASSERT_EQ(inputs.size(), tables.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    ASSERT_EQ(inputs[i].name, tables[i].name);
    EXPECT_EQ(result_text("src", inputs[i].result, inputs[i].max_rows), tables[i].text) << inputs[i].name;
  }
}

TEST(SqlResultText, AHugeCellIsCutLikeAShortOne) {
  QueryResult r;
  r.columns = {{"big", "text"}, {"n", "int4"}};
  r.rows.push_back(json::object{{"big", std::string(1 << 20, 'x') + "\n"}, {"n", 1}});
  const std::string text = result_text("src", r, 10);
  // "xxx…x…" (59 x and the mark) then " | 1": the megabyte never reaches the table.
  const std::string row = std::string(59, 'x') + "\xE2\x80\xA6 | 1\n";
  EXPECT_NE(text.find(row), std::string::npos) << text.substr(0, 300);
  EXPECT_LT(text.size(), 300u);
}

TEST(SqlResultJson, TakingTheRowsGivesWhatCopyingThemGives) {
  for (const auto& c : cases()) {
    QueryResult moved = c.result;
    const json::object copied = result_json("src", c.result);
    const json::object taken = result_json("src", std::move(moved));
    EXPECT_EQ(copied, taken) << c.name;
    EXPECT_EQ(copied.at("row_count").to_number<std::size_t>(), c.result.rows.size()) << c.name;
    EXPECT_EQ(copied.at("rows").as_array(), c.result.rows) << c.name;
  }
}

}  // namespace
}  // namespace mcpd::packs::sql
