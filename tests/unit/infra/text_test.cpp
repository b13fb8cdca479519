// UTF-8 validation against Unicode's Table 3-7 (well-formed byte sequences): every boundary of
// every row, overlong forms, surrogates, code points above U+10FFFF and truncated sequences, and
// the offset of the first bad byte (also past the eight-byte ASCII fast path).
#include <gtest/gtest.h>

#include <string>

#include "infra/text.hpp"

using namespace mcpd::infra;

namespace {

constexpr auto npos = std::string_view::npos;

TEST(Utf8, AcceptsWellFormedText) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ASCII, long enough for the fast path"));
  EXPECT_TRUE(is_valid_utf8(std::string("with\0nul", 8)));  // NUL is valid UTF-8; callers decide about it
  EXPECT_TRUE(is_valid_utf8("caf\xC3\xA9"));                 // U+00E9
  EXPECT_TRUE(is_valid_utf8("\xF0\x9F\x98\x80"));            // U+1F600
  // The first and last code point of each row of Table 3-7.
  for (const char* s : {"\x7F", "\xC2\x80", "\xDF\xBF", "\xE0\xA0\x80", "\xE0\xBF\xBF", "\xE1\x80\x80", "\xEC\xBF\xBF",
                        "\xED\x80\x80", "\xED\x9F\xBF", "\xEE\x80\x80", "\xEF\xBF\xBF", "\xF0\x90\x80\x80",
                        "\xF0\xBF\xBF\xBF", "\xF1\x80\x80\x80", "\xF3\xBF\xBF\xBF", "\xF4\x80\x80\x80", "\xF4\x8F\xBF\xBF"})
    EXPECT_TRUE(is_valid_utf8(s)) << testing::PrintToString(std::string(s));
}

TEST(Utf8, RefusesIllFormedSequences) {
  for (const char* s : {
           "\x80",              // a continuation byte alone
           "\xC0\xAF",          // overlong '/'
           "\xC1\xBF",          // overlong
           "\xE0\x80\xAF",      // overlong '/' in three bytes
           "\xE0\x9F\xBF",      // overlong
           "\xED\xA0\x80",      // a surrogate (U+D800)
           "\xED\xBF\xBF",      // a surrogate (U+DFFF)
           "\xF0\x80\x80\xAF",  // overlong in four bytes
           "\xF0\x8F\xBF\xBF",  // overlong
           "\xF4\x90\x80\x80",  // U+110000
           "\xF5\x80\x80\x80",  // above U+10FFFF
           "\xFF",              // never in UTF-8
           "\xC3",              // truncated
           "\xE2\x82",          // truncated
           "\xF0\x9F\x98",      // truncated
           "\xC3\x28",          // a second byte that is no continuation
       })
    EXPECT_FALSE(is_valid_utf8(s)) << testing::PrintToString(std::string(s));
  EXPECT_FALSE(is_valid_utf8("caf\xE9"));  // Latin-1
}

TEST(Utf8, FirstInvalidNamesTheOffsetOfTheBadSequence) {
  EXPECT_EQ(first_invalid_utf8("all fine here, and past eight bytes"), npos);
  EXPECT_EQ(first_invalid_utf8("caf\xE9"), 3u);
  EXPECT_EQ(first_invalid_utf8("0123456789abcdef\xED\xA0\x80"), 16u);       // after two ASCII words
  EXPECT_EQ(first_invalid_utf8("01234567\xC3\xA9xyz\xF0\x9F\x98"), 13u);    // a truncated sequence at the end
}

TEST(AsciiLower, LowersAsciiOnly) {
  EXPECT_EQ(ascii_lower("Content-TYPE"), "content-type");
  EXPECT_EQ(ascii_lower("\xC3\x89"), "\xC3\x89");  // É stays as it is
}

}  // namespace
