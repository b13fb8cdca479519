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
