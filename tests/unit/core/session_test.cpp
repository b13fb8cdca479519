// Sessions: the cap, idle expiry, subscriptions and resource-updated notifications.
#include <gtest/gtest.h>

#include <thread>

#include "core/call_context.hpp"
#include "core/session_manager.hpp"
#include "test_support.hpp"

using namespace mcpd::core;
namespace json = boost::json;

namespace {

// A call in flight on `session` until the returned guard ends (what makes a session busy).
struct BusyCall {
  SessionPtr session;
  explicit BusyCall(SessionPtr s) : session(std::move(s)) {
    session->track_call("busy", std::make_shared<CallContext>(session, json::value("busy"), nullptr));
  }
  ~BusyCall() { session->untrack_call("busy"); }
};

// Marks `s` as used now; a short pause first keeps the stamps of successive calls strictly ordered.
void used(const SessionPtr& s) {
  std::this_thread::sleep_for(std::chrono::microseconds(50));
  s->touch();
}

}  // namespace

TEST(SessionManager, CapsTheNumberOfSessions) {
  int n = 0;
  SessionManager m(2, std::chrono::seconds(60), [&] { return "id" + std::to_string(++n); });
  auto a = m.create(nullptr), b = m.create(nullptr);
  ASSERT_TRUE(a && b);
  BusyCall busy_a(a), busy_b(b);
  auto refused = m.open(nullptr, "");
  EXPECT_EQ(refused.session, nullptr);
  EXPECT_EQ(m.size(), 2u);
  EXPECT_TRUE(m.end(a->id()));
  EXPECT_FALSE(m.end(a->id()));
  EXPECT_NE(m.create(nullptr), nullptr);
}

TEST(SessionManager, AKeyAtItsCapRecyclesItsOwnLeastRecentlyUsedIdleSession) {
  int n = 0;
  SessionManager m(10, std::chrono::seconds(600), [&] { return "id" + std::to_string(++n); }, 3);
  auto b = m.open(nullptr, "key:b").session;
  std::vector<SessionPtr> a;
  for (int i = 0; i < 3; ++i) a.push_back(m.open(nullptr, "key:a").session);
  used(a[1]);
  used(a[0]);
  used(a[2]);  // a[1] is now the least recently used
  used(b);
  auto fourth = m.open(nullptr, "key:a");
  ASSERT_NE(fourth.session, nullptr);
  EXPECT_TRUE(a[1]->closed());
  EXPECT_EQ(m.find(a[1]->id()), nullptr);
  EXPECT_FALSE(a[0]->closed());
  EXPECT_FALSE(a[2]->closed());
  EXPECT_FALSE(b->closed());  // another key's session is never taken, even though it is idle and older
  EXPECT_EQ(m.count_for("key:a"), 3u);
  EXPECT_EQ(m.count_for("key:b"), 1u);
  EXPECT_EQ(m.evicted(), 1u);
}

TEST(SessionManager, BusySessionsAreNeverEvictedAndTheKeyIsToldToWait) {
  int n = 0;
  SessionManager m(10, std::chrono::seconds(600), [&] { return "id" + std::to_string(++n); }, 2);
  auto a1 = m.open(nullptr, "key:a").session, a2 = m.open(nullptr, "key:a").session;
  auto b = m.open(nullptr, "key:b").session;
  BusyCall busy1(a1), busy2(a2);
  auto refused = m.open(nullptr, "key:a");
  EXPECT_EQ(refused.session, nullptr);
  EXPECT_EQ(refused.refusal, SessionManager::Refusal::PrincipalBusy);
  EXPECT_FALSE(a1->closed());
  EXPECT_FALSE(a2->closed());
  EXPECT_FALSE(b->closed());
  // Another key is not affected.
  EXPECT_NE(m.open(nullptr, "key:b").session, nullptr);
}

TEST(SessionManager, AtTheGlobalCapTheKeyHoldingMostGivesUpItsOldestIdleSession) {
  int n = 0;
  SessionManager m(5, std::chrono::seconds(600), [&] { return "id" + std::to_string(++n); }, 3);
  auto b1 = m.open(nullptr, "key:b").session;  // the oldest sessions, but key:b holds fewer
  auto b2 = m.open(nullptr, "key:b").session;
  std::vector<SessionPtr> a;
  for (int i = 0; i < 3; ++i) a.push_back(m.open(nullptr, "key:a").session);
  used(a[0]);
  used(a[1]);
  used(a[2]);
  BusyCall busy(a[0]);  // busy: skipped although it is the least recently used of key:a
  auto c = m.open(nullptr, "key:c");
  ASSERT_NE(c.session, nullptr);
  EXPECT_TRUE(a[1]->closed());
  EXPECT_FALSE(a[0]->closed());
  EXPECT_FALSE(b1->closed());
  EXPECT_FALSE(b2->closed());
  EXPECT_EQ(m.size(), 5u);
}

TEST(SessionManager, FullOfBusySessionsRefusesWithoutEvicting) {
  int n = 0;
  SessionManager m(2, std::chrono::seconds(600), [&] { return "id" + std::to_string(++n); }, 2);
  auto a = m.open(nullptr, "key:a").session, b = m.open(nullptr, "key:b").session;
  BusyCall busy_a(a), busy_b(b);
  auto refused = m.open(nullptr, "key:c");
  EXPECT_EQ(refused.session, nullptr);
  EXPECT_EQ(refused.refusal, SessionManager::Refusal::Full);
  EXPECT_EQ(m.evicted(), 0u);
}

TEST(SessionManager, EndingSessionsFreesTheKeysSlots) {
  int n = 0;
  SessionManager m(10, std::chrono::seconds(10), [&] { return "id" + std::to_string(++n); }, 2);
  auto a1 = m.open(nullptr, "key:a").session, a2 = m.open(nullptr, "key:a").session;
  EXPECT_EQ(m.count_for("key:a"), 2u);
  m.end(a1->id());
  EXPECT_EQ(m.count_for("key:a"), 1u);
  m.expire_idle(std::chrono::steady_clock::now() + std::chrono::seconds(11));
  EXPECT_EQ(m.count_for("key:a"), 0u);
  EXPECT_EQ(m.size(), 0u);
  EXPECT_EQ(m.evicted(), 0u);
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
