// DNS-rebinding protection.
#include <gtest/gtest.h>

#include "transport/origin_guard.hpp"

using namespace mcpd::transport;

namespace {
Request req(std::string_view host, std::string_view origin = {}) {
  Request r{http::verb::post, "/mcp", 11};
  if (!host.empty()) r.set(http::field::host, host);
  if (!origin.empty()) r.set(http::field::origin, origin);
  return r;
}
}  // namespace

TEST(OriginGuard, LoopbackListenerAcceptsLoopbackHostsAndOrigins) {
  OriginGuard g({}, {});
  EXPECT_FALSE(g.check(req("127.0.0.1:8000"), true));
  EXPECT_FALSE(g.check(req("127.1.2.3:8000"), true));
  // A name that starts like a loopback address is still a name anyone can point here.
  EXPECT_TRUE(g.check(req("127.attacker.example:8080"), true));
  EXPECT_TRUE(g.check(req("127.0.0.1.attacker.example"), true));
  EXPECT_TRUE(g.check(req("localhost:8000", "http://127.attacker.example:8080"), true));
  EXPECT_FALSE(g.check(req("localhost:8000", "http://localhost:3000"), true));
  EXPECT_FALSE(g.check(req("[::1]:8000", "http://[::1]:8000"), true));
}

TEST(OriginGuard, LoopbackListenerRefusesForeignHostsAndOrigins) {
  OriginGuard g({}, {});
  EXPECT_TRUE(g.check(req("evil.example.com"), true));
  EXPECT_TRUE(g.check(req("127.0.0.1:8000", "http://evil.example.com"), true));
  EXPECT_TRUE(g.check(req("127.0.0.1:8000", "null"), true));
  EXPECT_TRUE(g.check(req(""), true));
}

TEST(OriginGuard, AllowListsWidenIt) {
  OriginGuard g({"https://app.example.com"}, {"mcp.example.com"});
  EXPECT_FALSE(g.check(req("mcp.example.com:443", "https://app.example.com"), false));
  EXPECT_TRUE(g.check(req("other.example.com"), false));
  EXPECT_TRUE(g.check(req("mcp.example.com", "https://evil.example.com"), false));
  OriginGuard open({}, {});
  EXPECT_FALSE(open.check(req("anything.example.com"), false));  // remote listener, no Host list: auth guards it
}
