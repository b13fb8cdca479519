// Pagination cursors round-trip and refuse what this server did not issue for that list.
#include <gtest/gtest.h>

#include <limits>

#include "core/cursor.hpp"

using namespace mcpd::core;

namespace {
constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const std::size_t kOffsets[] = {0, 1, 99, 100, 127, 128, 123456, std::numeric_limits<std::size_t>::max()};
}  // namespace

TEST(Cursor, RoundTrips) {
  for (std::size_t offset : kOffsets) {
    EXPECT_EQ(decode_cursor(encode_cursor(offset, "tools"), "tools"), offset);
    EXPECT_EQ(decode_cursor(encode_cursor(offset)), offset);
  }
}

TEST(Cursor, StaysShortAndOpaque) {
  std::string c = encode_cursor(100, "resourceTemplates");
  EXPECT_LE(c.size(), 20u);
  EXPECT_EQ(c.find("100"), std::string::npos);
  EXPECT_EQ(c.find("resource"), std::string::npos);
  for (char ch : c) EXPECT_NE(kAlphabet.find(ch), std::string_view::npos) << c;
  EXPECT_LE(encode_cursor(std::numeric_limits<std::size_t>::max(), "tools").size(), 30u);
}

TEST(Cursor, RefusesEverySingleCharacterChange) {
  for (std::size_t offset : {std::size_t{0}, std::size_t{5}, std::size_t{300}}) {
    const std::string good = encode_cursor(offset, "tools");
    std::size_t tried = 0;
    for (std::size_t i = 0; i < good.size(); ++i) {
      for (char ch : std::string(kAlphabet) + "=+/ .%\n") {
        if (ch == good[i]) continue;
        std::string bad = good;
        bad[i] = ch;
        EXPECT_FALSE(decode_cursor(bad, "tools")) << "position " << i << " changed to '" << ch << "' in " << good;
        ++tried;
      }
    }
    EXPECT_GT(tried, good.size() * 60);
  }
}

TEST(Cursor, RefusesTruncatedExtendedAndForeignCursors) {
  const std::string good = encode_cursor(42, "prompts");
  for (std::size_t n = 0; n < good.size(); ++n) EXPECT_FALSE(decode_cursor(good.substr(0, n), "prompts")) << n;
  EXPECT_FALSE(decode_cursor(good + "A", "prompts"));
  EXPECT_FALSE(decode_cursor("A" + good, "prompts"));
  EXPECT_FALSE(decode_cursor(good + good, "prompts"));
  EXPECT_FALSE(decode_cursor("not base64!", "prompts"));
  EXPECT_FALSE(decode_cursor(std::string(10000, 'A'), "prompts"));
  // The cursor format before signing: base64url("mcpd:5"), valid in shape, never issued now.
  EXPECT_FALSE(decode_cursor("bWNwZDo1", "prompts"));
  EXPECT_FALSE(decode_cursor("bWNwZDo1"));
}

TEST(Cursor, RefusesACursorFromAnotherKey) {
  CursorCodec mine(std::string(32, 'a'));
  CursorCodec theirs(std::string(32, 'b'));
  for (std::size_t offset : kOffsets) {
    EXPECT_EQ(mine.decode(mine.encode(offset, "tools"), "tools"), offset);
    EXPECT_FALSE(mine.decode(theirs.encode(offset, "tools"), "tools")) << offset;
    // The process key is random, so it is neither of these.
    EXPECT_FALSE(decode_cursor(theirs.encode(offset, "tools"), "tools")) << offset;
  }
}

TEST(Cursor, RefusesACursorForAnotherList) {
  const std::string_view lists[] = {"tools", "resources", "resourceTemplates", "prompts", ""};
  for (auto from : lists) {
    std::string c = encode_cursor(7, from);
    for (auto to : lists) {
      if (from == to)
        EXPECT_EQ(decode_cursor(c, to), 7u);
      else
        EXPECT_FALSE(decode_cursor(c, to)) << "a " << from << " cursor was taken by " << to;
    }
  }
}
