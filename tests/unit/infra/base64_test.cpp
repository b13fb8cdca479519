// Base64 in both alphabets: RFC 4648's test vectors, round trips of every byte value, and the
// inputs the decoders refuse.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "infra/base64.hpp"

using namespace mcpd::infra;

namespace {

TEST(Base64, EncodesTheRfc4648TestVectors) {
  const std::vector<std::pair<std::string, std::string>> vectors = {
      {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},        {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64_encode(plain), encoded) << plain;
    EXPECT_EQ(base64_decode(encoded).value(), plain) << encoded;
    // The URL-safe form of these has no padding and is otherwise the same.
    std::string unpadded = encoded.substr(0, encoded.find('='));
    EXPECT_EQ(base64url_encode(plain), unpadded) << plain;
    EXPECT_EQ(base64url_decode(unpadded).value(), plain) << unpadded;
  }
}

TEST(Base64, TheAlphabetsDifferInTheirLastTwoCharacters) {
  EXPECT_EQ(base64_encode("\xfb\xff"), "+/8=");
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_FALSE(base64_decode("-_8"));
  EXPECT_FALSE(base64url_decode("+/8"));
  EXPECT_EQ(base64_decode("+/8").value(), "\xfb\xff");  // padding is optional
}

TEST(Base64, EveryByteValueRoundTrips) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (std::size_t len = 0; len <= all.size(); len += 37) {
    const std::string s = all.substr(0, len);
    EXPECT_EQ(base64_decode(base64_encode(s)).value(), s) << len;
    EXPECT_EQ(base64url_decode(base64url_encode(s)).value(), s) << len;
  }
  EXPECT_EQ(base64_decode(base64_encode(all)).value(), all);
  const std::string with_nul("\xff\x00\x10", 3);
  EXPECT_EQ(base64_decode(base64_encode(with_nul)).value(), with_nul);
}

TEST(Base64, RefusesWhatIsNotBase64) {
  EXPECT_FALSE(base64_decode("Zm9v YmFy"));  // whitespace
  EXPECT_FALSE(base64_decode("Zm9v\nYmFy"));
  EXPECT_FALSE(base64_decode("Z"));          // one character cannot end a byte
  EXPECT_FALSE(base64_decode("Zm9vY"));
  EXPECT_FALSE(base64_decode("Zm=9v"));      // padding only at the end
  EXPECT_FALSE(base64_decode("not base64!"));
  EXPECT_FALSE(base64url_decode("%%%"));
}

}  // namespace
