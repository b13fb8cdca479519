// Sessions: the cap, idle expiry, subscriptions and resource-updated notifications.
#include <gtest/gtest.h>

#include "core/session_manager.hpp"
#include "test_support.hpp"

using namespace mcpd::core;

TEST(SessionManager, CapsTheNumberOfSessions) {
  int n = 0;
  SessionManager m(2, std::chrono::seconds(60), [&] { return "id" + std::to_string(++n); });
  auto a = m.create(nullptr), b = m.create(nullptr);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(m.create(nullptr), nullptr);
  EXPECT_TRUE(m.end(a->id()));
  EXPECT_FALSE(m.end(a->id()));
  EXPECT_NE(m.create(nullptr), nullptr);
}

TEST(SessionManager, ExpiresIdleSessions) {
  int n = 0;
  SessionManager m(8, std::chrono::seconds(10), [&] { return "id" + std::to_string(++n); });
  auto s = m.create(nullptr);
  EXPECT_EQ(m.expire_idle(std::chrono::steady_clock::now()), 0u);
  EXPECT_EQ(m.expire_idle(std::chrono::steady_clock::now() + std::chrono::seconds(11)), 1u);
  EXPECT_TRUE(s->closed());
  EXPECT_EQ(m.find(s->id()), nullptr);
}

TEST(SessionManager, ResourceUpdatesGoOnlyToSubscribers) {
  int n = 0;
  SessionManager m(8, std::chrono::seconds(10), [&] { return "id" + std::to_string(++n); });
  auto sink_a = std::make_shared<mcpd::testing::RecordingSink>();
  auto sink_b = std::make_shared<mcpd::testing::RecordingSink>();
  auto a = m.create(sink_a);
  auto b = m.create(sink_b);
  a->subscribe("file:///x");
  m.notify_resource_updated("file:///x");
  ASSERT_EQ(sink_a->sent.size(), 1u);
  EXPECT_EQ(sink_a->sent[0].message.at("method").as_string(), "notifications/resources/updated");
  EXPECT_TRUE(sink_b->sent.empty());
  a->unsubscribe("file:///x");
  m.notify_resource_updated("file:///x");
  EXPECT_EQ(sink_a->sent.size(), 1u);
}
