// Pagination cursors round-trip and refuse what this server did not issue.
#include <gtest/gtest.h>

#include "core/cursor.hpp"

using namespace mcpd::core;

TEST(Cursor, RoundTrips) {
  for (std::size_t offset : {0u, 1u, 99u, 100u, 123456u}) EXPECT_EQ(decode_cursor(encode_cursor(offset)), offset);
}

TEST(Cursor, RejectsForeignCursors) {
  EXPECT_FALSE(decode_cursor(""));
  EXPECT_FALSE(decode_cursor("not base64!"));
  EXPECT_FALSE(decode_cursor("MTIz"));  // base64 of "123": no prefix
  std::string c = encode_cursor(5);
  c.back() = c.back() == 'A' ? 'B' : 'A';
  auto tampered = decode_cursor(c);
  EXPECT_TRUE(!tampered || *tampered != 5);
}
