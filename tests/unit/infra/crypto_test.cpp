// Crypto helpers, checked against published vectors.
#include <gtest/gtest.h>

#include <set>

#include "infra/crypto.hpp"

using namespace mcpd::infra;

TEST(Crypto, HmacSha256MatchesGithubsPublishedWebhookVector) {
  EXPECT_EQ(hmac_sha256_hex("It's a Secret to Everybody", "Hello, World!"),
            "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
}

TEST(Crypto, Sha256AndBase64) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(base64_encode("hello"), "aGVsbG8=");
}

TEST(Crypto, RandomIdsAreUniqueAndVisibleAscii) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto id = random_hex(16);
    EXPECT_EQ(id.size(), 32u);
    EXPECT_TRUE(seen.insert(id).second);
  }
}

TEST(Crypto, ConstantTimeEquals) {
  EXPECT_TRUE(constant_time_equals("same-key", "same-key"));
  EXPECT_FALSE(constant_time_equals("same-key", "same-kez"));
  EXPECT_FALSE(constant_time_equals("same-key", "same-key-longer"));
  EXPECT_FALSE(constant_time_equals("", "x"));
}
