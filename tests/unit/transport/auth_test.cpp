// API-key authentication.
#include <gtest/gtest.h>

#include "transport/auth.hpp"

using namespace mcpd::transport;

namespace {
Request with(std::string_view header, std::string_view value) {
  Request r{http::verb::post, "/mcp", 11};
  if (!header.empty()) r.set(header, value);
  return r;
}
}  // namespace

TEST(Auth, OffWhenNoKeysAreConfigured) {
  Authenticator a({});
  EXPECT_FALSE(a.required());
  EXPECT_EQ(a.authenticate(with("", "")), "anonymous");
}

TEST(Auth, AcceptsXApiKeyAndBearer) {
  Authenticator a({"first-key-123456", "second-key-123456"});
  auto p1 = a.authenticate(with("X-API-KEY", "first-key-123456"));
  auto p2 = a.authenticate(with("Authorization", "Bearer second-key-123456"));
  ASSERT_TRUE(p1 && p2);
  EXPECT_NE(*p1, *p2);  // each key is its own principal
  EXPECT_EQ(p1->rfind("key:", 0), 0u);
  EXPECT_EQ(p1->find("first"), std::string::npos);  // the id does not reveal the key
}

TEST(Auth, RefusesMissingAndWrongKeys) {
  Authenticator a({"first-key-123456"});
  EXPECT_FALSE(a.authenticate(with("", "")));
  EXPECT_FALSE(a.authenticate(with("X-API-KEY", "first-key-12345")));
  EXPECT_FALSE(a.authenticate(with("Authorization", "Basic first-key-123456")));
  auto challenge = a.challenge(false);
  EXPECT_NE(challenge.message.find("authentication required"), std::string::npos);
  EXPECT_EQ(challenge.www_authenticate, R"(Bearer realm="mcpd")");
  EXPECT_NE(a.challenge(true).www_authenticate.find("invalid_token"), std::string::npos);
}
