// S3Store's resilience against a scripted HTTP server on loopback: reads are retried on retryable
// answers (3 attempts), writes are sent once, answers about the request (NoSuchKey) neither retry
// nor count against the breaker, and after 5 failed calls the breaker answers at once without
// sending anything, /health included. Also which Error each S3 answer and transport failure
// becomes, and that messages keep the endpoint to the log.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "packs/storage/s3_store.hpp"
#include "scripted_server.hpp"

using namespace mcpd::packs::storage;
using mcpd::core::ErrorKind;
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
  EXPECT_EQ(denied.error().kind, ErrorKind::Refused);
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
  EXPECT_EQ(refused.error().message.find(server.endpoint()), std::string::npos) << refused.error().message;
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

// A loopback port nothing listens on (bound, then closed): connecting to it is refused.
int closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return 0;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// A loopback socket that listens but never accepts: the kernel completes the handshake, and the
// request is never answered.
class SilentServer {
 public:
  SilentServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && ::listen(fd_, 4) == 0) {
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
      port_ = ntohs(addr.sin_port);
    }
  }
  ~SilentServer() { ::close(fd_); }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

struct AnswerCase {
  int status;
  std::string body;
  ErrorKind kind;
  std::string code;
  std::string hint;  // what the message tells the caller to do; "" for none
};

TEST(S3Store, EachS3AnswerBecomesAnErrorOfItsKind) {
  ScriptedServer server;
  auto o = options_for(server);
  o.retries = 1;
  o.breaker_failures = 1000;  // the 5xx cases must not open it
  S3Store store(o);
  const std::vector<AnswerCase> cases = {
      {404, error_xml("NoSuchKey", "The specified key does not exist."), ErrorKind::NotFound, "NoSuchKey", "list the bucket"},
      {404, error_xml("NoSuchBucket", "The specified bucket does not exist"), ErrorKind::NotFound, "NoSuchBucket",
       "check the bucket name"},
      {404, error_xml("NoSuchVersion", "The version does not exist"), ErrorKind::NotFound, "NoSuchVersion", ""},
      {403, error_xml("AccessDenied", "Access Denied"), ErrorKind::Refused, "AccessDenied", "bucket's permissions"},
      {403, error_xml("InvalidAccessKeyId", "The key does not exist in our records."), ErrorKind::Refused,
       "InvalidAccessKeyId", "check the store's credentials"},
      {400, error_xml("ExpiredToken", "The provided token has expired."), ErrorKind::Refused, "ExpiredToken", "credentials"},
      {416, error_xml("InvalidRange", "The requested range is not satisfiable"), ErrorKind::InvalidArgument, "InvalidRange",
       "ask for bytes inside the object"},
      {400, error_xml("InvalidArgument", "Invalid argument"), ErrorKind::InvalidArgument, "InvalidArgument", ""},
      {409, error_xml("OperationAborted", "A conflicting operation is in progress."), ErrorKind::InvalidArgument,
       "OperationAborted", ""},
      {301, error_xml("PermanentRedirect", "Use the specified endpoint."), ErrorKind::InvalidArgument, "PermanentRedirect", ""},
      {500, error_xml("InternalError", "We encountered an internal error."), ErrorKind::Unavailable, "InternalError",
       "try again later"},
      {503, "", ErrorKind::Unavailable, "", "try again later"},
      {429, "", ErrorKind::Unavailable, "", "try again later"},
      {400, error_xml("RequestTimeout", "Your socket connection was idle too long."), ErrorKind::Unavailable,
       "RequestTimeout", "try again later"},
  };
  for (const auto& c : cases) {
    server.answer(c.status, c.body);
    auto got = store.get("bucket", "key.txt", "");
    ASSERT_FALSE(got) << c.status << " " << c.code;
    const auto& e = got.error();
    EXPECT_EQ(e.kind, c.kind) << c.status << " " << c.code << ": " << e.message;
    EXPECT_EQ(e.code, c.code) << c.status;
    EXPECT_NE(e.message.find("HTTP " + std::to_string(c.status)), std::string::npos) << e.message;
    if (!c.hint.empty()) {
      EXPECT_NE(e.message.find(c.hint), std::string::npos) << e.message;
    }
    // Where the answer came from is for the log only.
    EXPECT_EQ(e.message.find(server.endpoint()), std::string::npos) << e.message;
    EXPECT_NE(e.detail.find(server.endpoint()), std::string::npos) << e.detail;
  }

  // HEAD answers have no body: the status alone says what happened.
  server.answer(404, "");
  auto head = store.head("bucket", "key.txt");
  ASSERT_FALSE(head);
  EXPECT_EQ(head.error().kind, ErrorKind::NotFound);
  EXPECT_EQ(head.error().code, "NoSuchKey");
  server.answer(403, "");
  auto forbidden = store.head("bucket", "key.txt");
  ASSERT_FALSE(forbidden);
  EXPECT_EQ(forbidden.error().kind, ErrorKind::Refused);
  EXPECT_EQ(forbidden.error().code, "Forbidden");

  // An answer that cannot be read is the endpoint's fault and nothing the caller can fix.
  server.answer(200, "this is not XML");
  auto listed = store.list(ListRequest{"bucket", "", "", 10, ""});
  ASSERT_FALSE(listed);
  EXPECT_EQ(listed.error().kind, ErrorKind::Internal);
  EXPECT_EQ(listed.error().code, "MalformedResponse");
}

TEST(S3Store, AnObjectAboveTheCapIsRefusedWithAHintToReadARange) {
  ScriptedServer server;
  auto o = options_for(server);
  o.client.max_object_bytes = 10;
  S3Store store(o);
  server.answer(200, std::string(100, 'x'));
  auto got = store.get("bucket", "big.txt", "");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::InvalidArgument);
  EXPECT_EQ(got.error().code, "ObjectTooLarge");
  EXPECT_NE(got.error().message.find("100 bytes, above the 10-byte limit (max_object_bytes)"), std::string::npos)
      << got.error().message;
  EXPECT_NE(got.error().message.find("(e.g. range \"bytes=0-9\")"), std::string::npos) << got.error().message;
  EXPECT_EQ(server.requests(), 1);  // not retried: the same object is as large the next time
}

TEST(S3Store, AnEndpointThatRefusesConnectionsIsUnavailable) {
  const int port = closed_port();
  ASSERT_NE(port, 0);
  S3StoreOptions o;
  o.name = "down";
  o.client.endpoint = "http://127.0.0.1:" + std::to_string(port);
  o.client.credentials = {"AKID", "s3cr3t-value", ""};
  o.client.timeout_ms = 5000;
  o.retries = 1;
  S3Store store(o);
  auto got = store.get("bucket", "key.txt", "");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::Unavailable);
  EXPECT_EQ(got.error().code, "ConnectionFailed");
  EXPECT_NE(got.error().message.find("could not reach the S3 endpoint; try again later"), std::string::npos)
      << got.error().message;
  EXPECT_EQ(got.error().message.find(std::to_string(port)), std::string::npos) << got.error().message;
  EXPECT_NE(got.error().detail.find(o.client.endpoint), std::string::npos) << got.error().detail;
  // /health is for the operator and names the endpoint.
  const std::string health = store.health("bucket");
  EXPECT_NE(health.find(o.client.endpoint), std::string::npos) << health;
}

TEST(S3Store, AnEndpointThatNeverAnswersTimesOut) {
  SilentServer silent;
  S3StoreOptions o;
  o.name = "slow";
  o.client.endpoint = silent.endpoint();
  o.client.credentials = {"AKID", "s3cr3t-value", ""};
  o.client.timeout_ms = 300;
  o.retries = 1;
  S3Store store(o);
  auto got = store.head("bucket", "key.txt");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::Timeout);
  EXPECT_EQ(got.error().code, "Timeout");
  EXPECT_NE(got.error().message.find("timed out after 300 ms; try again later"), std::string::npos) << got.error().message;
  EXPECT_TRUE(is_transient(got.error()));
  EXPECT_EQ(store.breaker().consecutive_failures(), 1);  // a failure of the endpoint itself
}

}  // namespace
