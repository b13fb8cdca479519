// Log masking: secrets and personal data never reach the logs.
#include <gtest/gtest.h>

#include "infra/masking.hpp"

using namespace mcpd::infra;

TEST(Masking, SecretKeys) {
  EXPECT_TRUE(is_secret_key("password"));
  EXPECT_TRUE(is_secret_key("API_TOKEN"));
  EXPECT_TRUE(is_secret_key("Authorization"));
  EXPECT_TRUE(is_secret_key("gh_webhook_secret"));
  EXPECT_FALSE(is_secret_key("tool"));
}

TEST(Masking, FreeText) {
  EXPECT_EQ(mask_text("Authorization: Bearer abc.def-123"), "Authorization: Bearer ***");
  EXPECT_EQ(mask_text("password=hunter2&user=x"), "password=***&user=x");
  EXPECT_EQ(mask_text("mail jane.doe@example.com now"), "mail ***@*** now");
  EXPECT_EQ(mask_text("postgres://user:pw@db/x"), "postgres://user:***@db/x");
  EXPECT_EQ(mask_text("nothing to hide"), "nothing to hide");
}

TEST(Masking, JsonRecursively) {
  auto v = boost::json::parse(R"({"user":"a@b.io","nested":{"api_key":"k","list":["token=abc"]},"n":1})");
  mask_json(v);
  EXPECT_EQ(boost::json::serialize(v), R"({"user":"***@***","nested":{"api_key":"***","list":["token=***"]},"n":1})");
}

TEST(Masking, LongAndHostileTextIsCutBeforeItIsScanned) {
  // std::regex recurses per matched character: 200 KB of token must neither crash nor be kept.
  std::string huge = "Authorization: Bearer " + std::string(200000, 'a');
  std::string masked = mask_text(huge);
  EXPECT_LT(masked.size(), 2200u);
  EXPECT_NE(masked.find("bytes)"), std::string::npos);
  EXPECT_EQ(masked.find("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), std::string::npos) << masked.substr(0, 80);
  std::string email = std::string(500000, 'x') + "@example.com";
  EXPECT_LT(mask_text(email).size(), 2200u);
  // A password in SQL text.
  EXPECT_EQ(mask_text("ALTER ROLE app PASSWORD 'hunter2'"), "ALTER ROLE app PASSWORD '***'");
  EXPECT_EQ(mask_text("alter role app with password 'x y z' valid until 'infinity'"),
            "alter role app with password '***' valid until 'infinity'");
}
