// S3Store's resilience against a scripted HTTP server on loopback: reads are retried on retryable
// answers (3 attempts), writes are sent once, answers about the request (NoSuchKey) neither retry
// nor count against the breaker, and after 5 failed calls the breaker answers at once without
// sending anything, /health included. Also how S3 errors map to StoreErrors.
#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "packs/storage/s3_store.hpp"
#include "scripted_server.hpp"

using namespace mcpd::packs::storage;
using mcpd::test::ScriptedServer;

namespace {

std::string error_xml(const char* code, const char* message) {
  return std::string("<?xml version=\"1.0\"?><Error><Code>") + code + "</Code><Message>" + message + "</Message></Error>";
}

S3StoreOptions options_for(const ScriptedServer& server) {
  S3StoreOptions o;
  o.name = "test";
  o.client.endpoint = server.endpoint();
  o.client.credentials = {"AKID", "s3cr3t-value", ""};
  o.client.timeout_ms = 5000;
  o.breaker_failures = 5;
  o.breaker_open_for = std::chrono::seconds(60);
  o.retries = 3;
  return o;
}

TEST(S3Store, ReadsAreRetriedWritesAreNot) {
  ScriptedServer server;
  S3Store store(options_for(server));
  server.answer(503, error_xml("SlowDown", "Please reduce your request rate."));

  auto got = store.get("bucket", "key.txt", "");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::Unavailable);
  EXPECT_EQ(got.error().code, "SlowDown");
  EXPECT_NE(got.error().message.find("try again later"), std::string::npos);
  EXPECT_EQ(server.requests(), 3);

  server.reset();
  EXPECT_FALSE(store.put("bucket", "key.txt", "data", "text/plain"));
  EXPECT_EQ(server.requests(), 1);
  server.reset();
  EXPECT_FALSE(store.remove("bucket", "key.txt"));
  EXPECT_EQ(server.requests(), 1);
  server.reset();
  EXPECT_FALSE(store.list(ListRequest{"bucket", "", "", 10, ""}));
  EXPECT_EQ(server.requests(), 3);
  server.reset();
  EXPECT_FALSE(store.head("bucket", "key.txt"));
  EXPECT_EQ(server.requests(), 3);
}

TEST(S3Store, AnswersAboutTheRequestNeitherRetryNorTrip) {
  ScriptedServer server;
  S3Store store(options_for(server));
  server.answer(404, error_xml("NoSuchKey", "The specified key does not exist."));
  for (int i = 0; i < 8; ++i) {
    auto got = store.get("bucket", "missing.txt", "");
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error().kind, ErrorKind::NotFound);
    EXPECT_NE(got.error().message.find("list the bucket"), std::string::npos);
  }
  EXPECT_EQ(server.requests(), 8);
  EXPECT_EQ(store.breaker().state(), mcpd::infra::CircuitBreaker::State::closed);

  server.answer(403, error_xml("SignatureDoesNotMatch", "The request signature we calculated does not match."));
  auto denied = store.list(ListRequest{"bucket", "", "", 10, ""});
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().kind, ErrorKind::Denied);
  EXPECT_NE(denied.error().message.find("credentials"), std::string::npos);
  EXPECT_EQ(denied.error().message.find("s3cr3t-value"), std::string::npos);
  EXPECT_NE(store.health("bucket").find("access denied"), std::string::npos);
  EXPECT_EQ(store.breaker().state(), mcpd::infra::CircuitBreaker::State::closed);
}

TEST(S3Store, TheBreakerOpensAfterFiveFailedCallsAndThenSendsNothing) {
  ScriptedServer server;
  S3Store store(options_for(server));
  server.answer(500, error_xml("InternalError", "We encountered an internal error."));
  for (int i = 0; i < 5; ++i) {
    auto got = store.head("bucket", "k");
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error().kind, ErrorKind::Unavailable);
  }
  EXPECT_EQ(store.breaker().state(), mcpd::infra::CircuitBreaker::State::open);
  server.reset();
  server.answer(200, "");
  auto refused = store.get("bucket", "k", "");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::Unavailable);
  EXPECT_EQ(refused.error().code, "CircuitOpen");
  EXPECT_NE(refused.error().message.find("circuit breaker open for s3 store 'test'"), std::string::npos);
  EXPECT_NE(refused.error().message.find("5 consecutive failures"), std::string::npos);
  EXPECT_FALSE(store.put("bucket", "k", "x", ""));
  const std::string health = store.health("bucket");
  EXPECT_EQ(health.rfind("circuit open", 0), 0u) << health;
  EXPECT_EQ(server.requests(), 0);  // nothing was sent while open
  // Presigning sends nothing either, so the breaker does not stop it.
  auto url = store.presign_get("bucket", "k", 60);
  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(url->rfind(server.endpoint() + "/bucket/k?", 0), 0u) << *url;
}

TEST(S3Store, HealthProbesAndClosesTheBreakerAfterItsPause) {
  ScriptedServer server;
  auto o = options_for(server);
  o.breaker_failures = 1;
  o.breaker_open_for = std::chrono::milliseconds(100);
  o.retries = 1;
  S3Store store(o);
  server.answer(503, error_xml("ServiceUnavailable", "Down."));
  EXPECT_FALSE(store.list(ListRequest{"bucket", "", "", 1, ""}));
  EXPECT_EQ(store.breaker().state(), mcpd::infra::CircuitBreaker::State::open);
  server.answer(200,
                "<?xml version=\"1.0\"?><ListBucketResult><Name>bucket</Name><KeyCount>0</KeyCount>"
                "<IsTruncated>false</IsTruncated></ListBucketResult>");
  while (store.breaker().state() == mcpd::infra::CircuitBreaker::State::open)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(store.health("bucket"), "ok");
  EXPECT_EQ(store.breaker().state(), mcpd::infra::CircuitBreaker::State::closed);
}

TEST(S3Store, ErrorMapping) {
  auto kind = [](const char* code, long status, bool retryable) {
    return store_error_from(S3Error("S3 call failed", status, code, "", "", retryable)).kind;
  };
  EXPECT_EQ(kind("NoSuchKey", 404, false), ErrorKind::NotFound);
  EXPECT_EQ(kind("NotFound", 404, false), ErrorKind::NotFound);
  EXPECT_EQ(kind("NoSuchBucket", 404, false), ErrorKind::NotFound);
  EXPECT_EQ(kind("AccessDenied", 403, false), ErrorKind::Denied);
  EXPECT_EQ(kind("InvalidAccessKeyId", 403, false), ErrorKind::Denied);
  EXPECT_EQ(kind("ObjectTooLarge", 200, false), ErrorKind::TooLarge);
  EXPECT_EQ(kind("InvalidArgument", 0, false), ErrorKind::InvalidArgument);
  EXPECT_EQ(kind("InvalidRange", 416, false), ErrorKind::InvalidArgument);
  EXPECT_EQ(kind("ConnectionFailed", 0, true), ErrorKind::Unavailable);
  EXPECT_EQ(kind("Timeout", 0, true), ErrorKind::Unavailable);
  EXPECT_EQ(kind("MalformedResponse", 200, false), ErrorKind::Failed);
}

}  // namespace
