// infra::HttpClient against a scripted HTTP/1.1 server on 127.0.0.1: retries and Retry-After,
// idempotency, the circuit breaker, answer bounds, timeouts, request shape, connection reuse, and
// logs that never show a secret. Waits are the server's scripted delays (≤ 1 s) and bounded polls.
#include "infra/http_client.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "infra/logging.hpp"

using namespace mcpd;
using namespace std::chrono_literals;
using infra::HttpClient;
using infra::HttpClientOptions;
using infra::HttpRequest;
using std::chrono::steady_clock;

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// One request as the server received it.
struct Seen {
  std::string method;
  std::string target;                         // exactly as sent, query included
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  steady_clock::time_point at;  // when it had been read whole
  int connection = 0;           // which TCP connection carried it
};

struct Reply {
  unsigned status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds delay{0};  // before answering
  bool chunked = false;                // no Content-Length: the length is learnt only by reading
  std::uint64_t head_length = 0;       // Content-Length announced to a HEAD request
};

// HTTP/1.1 with keep-alive, one thread per connection. The script is asked, with the 0-based
// number of the request in arrival order, what to answer.
class ScriptedHttpServer {
 public:
  using Script = std::function<Reply(const Seen&, std::size_t)>;

  explicit ScriptedHttpServer(Script script) : script_(std::move(script)), acceptor_(ioc_) {
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { accept_loop(); });
  }

  ~ScriptedHttpServer() {
    stopping_ = true;
    {
      boost::system::error_code ec;
      asio::io_context ioc;
      tcp::socket wake(ioc);
      wake.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);  // unblocks accept()
    }
    accept_thread_.join();
    {
      std::lock_guard lock(mutex_);
      for (int fd : live_) ::shutdown(fd, SHUT_RDWR);  // unblocks reads on kept-alive connections
    }
    for (auto& t : connections_) t.join();
  }

  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  std::vector<Seen> seen() const {
    std::lock_guard lock(mutex_);
    return seen_;
  }
  std::size_t count() const {
    std::lock_guard lock(mutex_);
    return seen_.size();
  }

 private:
  void accept_loop() {
    for (int id = 1; !stopping_; ++id) {
      tcp::socket socket(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (stopping_ || ec) break;
      timeval bound{5, 0};  // every read is bounded, even if a test forgets a client
      ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof bound);
      {
        std::lock_guard lock(mutex_);
        live_.insert(socket.native_handle());
      }
      connections_.emplace_back([this, id, s = std::move(socket)]() mutable { serve(s, id); });
    }
  }

  void serve(tcp::socket& socket, int id) {
    beast::flat_buffer buffer;
    for (int i = 0; i < 1000; ++i) {
      boost::system::error_code ec;
      http::request<http::string_body> req;
      http::read(socket, buffer, req, ec);
      if (ec) break;
      Seen s;
      s.method = std::string(req.method_string());
      s.target = std::string(req.target());
      for (const auto& field : req) {
        std::string name(field.name_string());
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        s.headers[name] = std::string(field.value());
      }
      s.body = req.body();
      s.at = steady_clock::now();
      s.connection = id;
      std::size_t n;
      {
        std::lock_guard lock(mutex_);
        n = seen_.size();
        seen_.push_back(s);
      }
      Reply reply = script_(s, n);
      if (reply.delay.count() > 0) std::this_thread::sleep_for(reply.delay);
      if (req.method() == http::verb::head) {
        http::response<http::empty_body> res{static_cast<http::status>(reply.status), 11};
        for (auto& [name, value] : reply.headers) res.set(name, value);
        res.content_length(reply.head_length);
        res.keep_alive(req.keep_alive());
        http::write(socket, res, ec);  // the header only: a HEAD answer has no body
      } else {
        http::response<http::string_body> res{static_cast<http::status>(reply.status), 11};
        for (auto& [name, value] : reply.headers) res.set(name, value);
        res.body() = reply.body;
        res.keep_alive(req.keep_alive());
        if (reply.chunked)
          res.chunked(true);
        else
          res.prepare_payload();
        http::write(socket, res, ec);
      }
      if (ec || !req.keep_alive()) break;
    }
    std::lock_guard lock(mutex_);
    live_.erase(socket.native_handle());
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }

  Script script_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;
  std::vector<std::thread> connections_;  // touched by the accept thread, then the destructor
  mutable std::mutex mutex_;
  std::vector<Seen> seen_;
  std::set<int> live_;
};

ScriptedHttpServer::Script always(unsigned status, std::string body = "ok") {
  return [status, body](const Seen&, std::size_t) {
    Reply r;
    r.status = status;
    r.body = body;
    return r;
  };
}

HttpClientOptions quick(std::string name = "the test backend") {
  HttpClientOptions o;
  o.name = std::move(name);
  o.retry = infra::RetryPolicy{3, 1ms, 5ms};
  return o;
}

HttpRequest get(std::string url) {
  HttpRequest r;
  r.url = std::move(url);
  r.timeout = 5000ms;
  return r;
}

unsigned short closed_port() {
  asio::io_context ioc;
  tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();  // closed when `a` goes: nothing listens there afterwards
}

// Everything written to file descriptor 2 (where the JSON log lines go) while it lives.
class StderrCapture {
 public:
  StderrCapture() : file_(std::tmpfile()) {
    std::fflush(stderr);
    saved_ = ::dup(2);
    ::dup2(::fileno(file_), 2);
  }
  ~StderrCapture() {
    if (saved_ >= 0) finish();
    std::fclose(file_);
  }
  std::string finish() {
    std::fflush(stderr);
    ::dup2(saved_, 2);
    ::close(saved_);
    saved_ = -1;
    std::string out;
    std::rewind(file_);
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, file_)) > 0;) out.append(buf, n);
    return out;
  }

 private:
  std::FILE* file_;
  int saved_ = -1;
};

TEST(HttpClient, ReturnsStatusHeadersAndBodyAndSendsTheRequestAsGiven) {
  ScriptedHttpServer server([](const Seen&, std::size_t) {
    Reply r;
    r.status = 201;
    r.body = "created";
    r.headers = {{"X-Thing", "  one  "}, {"ETag", "\"abc\""}};
    return r;
  });
  HttpClient client(quick());
  HttpRequest req = get(server.url("/bucket/a/../b%20c?x=1&y=2"));
  req.method = "PUT";
  req.body = "payload bytes";
  req.headers = {{"Content-Type", "text/plain"}, {"X-Empty", ""}};
  auto r = client.send(req);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 201);
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(r->body, "created");
  EXPECT_EQ(r->header("x-thing"), "one");
  EXPECT_EQ(r->header("etag"), "\"abc\"");
  EXPECT_EQ(r->attempts, 1);

  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "PUT");
  EXPECT_EQ(seen[0].target, "/bucket/a/../b%20c?x=1&y=2");  // no ../ folding: S3 keys are names
  EXPECT_EQ(seen[0].body, "payload bytes");
  EXPECT_EQ(seen[0].headers["content-type"], "text/plain");
  EXPECT_EQ(seen[0].headers["user-agent"], "mcpd");
  EXPECT_TRUE(seen[0].headers.count("x-empty"));
  EXPECT_EQ(seen[0].headers["x-empty"], "");
  EXPECT_FALSE(seen[0].headers.count("expect"));  // no 100-continue round trip
}

TEST(HttpClient, PostWithoutContentTypeIsNotLabelledAForm) {
  ScriptedHttpServer server(always(200));
  HttpClient client(quick());
  HttpRequest req = get(server.url("/p"));
  req.method = "post";
  req.body = "{}";
  ASSERT_TRUE(client.send(req));
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(seen[0].body, "{}");
  EXPECT_FALSE(seen[0].headers.count("content-type"));
}

TEST(HttpClient, HeadAndDeleteCarryNoBody) {
  ScriptedHttpServer server([](const Seen&, std::size_t) {
    Reply r;
    r.head_length = 1'000'000'000;  // the resource's size, far above the answer limit
    return r;
  });
  auto o = quick();
  o.max_response_bytes = 1000;
  HttpClient client(o);
  HttpRequest head = get(server.url("/big"));
  head.method = "HEAD";
  auto r = client.send(head);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("content-length"), "1000000000");
  EXPECT_TRUE(r->body.empty());

  HttpRequest del = get(server.url("/thing"));
  del.method = "DELETE";
  ASSERT_TRUE(client.send(del));
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].method, "HEAD");
  EXPECT_EQ(seen[1].method, "DELETE");
  EXPECT_EQ(seen[1].body, "");
}

TEST(HttpClient, RetriesA503ThenSucceeds) {
  ScriptedHttpServer server([](const Seen&, std::size_t n) {
    Reply r;
    r.status = n == 0 ? 503 : 200;
    r.body = n == 0 ? "busy" : "fine";
    return r;
  });
  HttpClient client(quick());
  auto r = client.send(get(server.url("/x")));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "fine");
  EXPECT_EQ(r->attempts, 2);
  EXPECT_EQ(server.count(), 2u);
}

TEST(HttpClient, ReturnsTheLastAnswerWhenRetriesRunOut) {
  ScriptedHttpServer server([](const Seen&, std::size_t n) {
    Reply r;
    r.status = 503;
    r.body = "answer " + std::to_string(n);
    return r;
  });
  HttpClient client(quick());
  auto r = client.send(get(server.url("/x")));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->body, "answer 2");
  EXPECT_EQ(r->attempts, 3);
  EXPECT_EQ(server.count(), 3u);
}

TEST(HttpClient, DoesNotRetryOtherClientErrors) {
  ScriptedHttpServer server(always(404, "no such thing"));
  HttpClient client(quick());
  auto r = client.send(get(server.url("/missing")));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->body, "no such thing");
  EXPECT_EQ(server.count(), 1u);
}

TEST(HttpClient, HonoursRetryAfterInSeconds) {
  ScriptedHttpServer server([](const Seen&, std::size_t n) {
    Reply r;
    if (n == 0) {
      r.status = 503;
      r.headers = {{"Retry-After", "1"}};
    }
    return r;
  });
  HttpClient client(quick());  // its own backoff would wait at most a few milliseconds
  auto r = client.send(get(server.url("/x")));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_GE(seen[1].at - seen[0].at, 1000ms);
}

TEST(HttpClient, HonoursRetryAfterAsAnHttpDateUpToTheCap) {
  // A date an hour ahead: the client waits the cap instead (the deadline below proves it did not
  // wait the hour: a wait past the deadline is not made at all, and the 429 would come back).
  std::time_t later = std::time(nullptr) + 3600;
  std::tm tm{};
  gmtime_r(&later, &tm);
  char date[64];
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  ScriptedHttpServer server([date = std::string(date)](const Seen&, std::size_t n) {
    Reply r;
    if (n == 0) {
      r.status = 429;
      r.headers = {{"Retry-After", date}};
    }
    return r;
  });
  auto o = quick();
  o.retry_after_cap = 300ms;
  HttpClient client(o);
  auto r = client.send(get(server.url("/x")), steady_clock::now() + 5s);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_GE(seen[1].at - seen[0].at, 300ms);
}

TEST(HttpClient, GivesUpWhenRetryAfterReachesPastTheDeadline) {
  ScriptedHttpServer server([](const Seen&, std::size_t) {
    Reply r;
    r.status = 503;
    r.headers = {{"Retry-After", "1"}};
    return r;
  });
  HttpClient client(quick());
  auto r = client.send(get(server.url("/x")), steady_clock::now() + 300ms);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->attempts, 1);
  EXPECT_EQ(server.count(), 1u);
}

TEST(HttpClient, DoesNotRetryAPostThatReachedTheServer) {
  ScriptedHttpServer server(always(503, "busy"));
  HttpClient client(quick());
  HttpRequest post = get(server.url("/orders"));
  post.method = "POST";
  post.body = R"({"item":1})";
  auto r = client.send(post);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->attempts, 1);
  EXPECT_EQ(server.count(), 1u);

  post.idempotent = true;  // the caller knows this POST can be repeated (an embeddings request)
  auto again = client.send(post);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->attempts, 3);
  EXPECT_EQ(server.count(), 4u);
}

TEST(HttpClient, RetriesAPostThatNeverLeft) {
  HttpClient client(quick());
  HttpRequest post = get("http://127.0.0.1:" + std::to_string(closed_port()) + "/orders");
  post.method = "POST";
  post.body = "{}";
  auto r = client.send(post);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, core::ErrorKind::Unavailable);
  EXPECT_EQ(r.error().code, "ConnectionFailed");
  EXPECT_EQ(r.error().message.rfind("could not reach the test backend after 3 attempts", 0), 0u) << r.error().message;
  EXPECT_NE(r.error().detail.find("/orders"), std::string::npos) << r.error().detail;
}

TEST(HttpClient, RetriesATimeoutOfAnIdempotentRequest) {
  ScriptedHttpServer server([](const Seen&, std::size_t n) {
    Reply r;
    if (n == 0) r.delay = 400ms;
    return r;
  });
  HttpClient client(quick());
  HttpRequest req = get(server.url("/slow"));
  req.timeout = 100ms;
  auto r = client.send(req);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->attempts, 2);
}

TEST(HttpClient, ATimeoutIsATimeoutError) {
  ScriptedHttpServer server([](const Seen&, std::size_t) {
    Reply r;
    r.delay = 400ms;
    return r;
  });
  auto o = quick();
  o.retry.attempts = 1;
  HttpClient client(o);
  HttpRequest req = get(server.url("/slow"));
  req.timeout = 50ms;
  auto r = client.send(req);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, core::ErrorKind::Timeout);
  EXPECT_EQ(r.error().code, "Timeout");
  EXPECT_NE(r.error().message.find("did not answer within 50 ms"), std::string::npos) << r.error().message;

  // The caller's deadline bounds the attempt as well.
  req.timeout = 30000ms;
  auto d = client.send(req, steady_clock::now() + 80ms);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().kind, core::ErrorKind::Timeout);

  // A deadline already gone: nothing is sent.
  const auto before = server.count();
  auto gone = client.send(req, steady_clock::now() - 1ms);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().kind, core::ErrorKind::Timeout);
  EXPECT_EQ(server.count(), before);
}

TEST(HttpClient, BreakerOpensFailsFastThenHalfOpens) {
  std::atomic<bool> healthy{false};
  ScriptedHttpServer server([&](const Seen&, std::size_t) {
    Reply r;
    r.status = healthy ? 200 : 503;
    return r;
  });
  auto o = quick();
  o.retry.attempts = 1;
  o.breaker = infra::CircuitBreakerConfig{2, 300ms};
  HttpClient client(o);
  EXPECT_EQ(client.send(get(server.url("/x")))->status, 503);
  EXPECT_EQ(client.send(get(server.url("/x")))->status, 503);
  EXPECT_EQ(client.breaker().state(), infra::CircuitBreaker::State::open);

  auto refused = client.send(get(server.url("/x")));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, core::ErrorKind::Unavailable);
  EXPECT_EQ(refused.error().code, "CircuitOpen");
  EXPECT_NE(refused.error().message.find("nothing was sent"), std::string::npos) << refused.error().message;
  EXPECT_EQ(server.count(), 2u);  // the refused call never reached the server

  healthy = true;
  const auto until = steady_clock::now() + 5s;
  while (client.breaker().state() == infra::CircuitBreaker::State::open && steady_clock::now() < until)
    std::this_thread::sleep_for(20ms);
  ASSERT_EQ(client.breaker().state(), infra::CircuitBreaker::State::half_open);
  auto probe = client.send(get(server.url("/x")));
  ASSERT_TRUE(probe) << probe.error().message;
  EXPECT_EQ(probe->status, 200);
  EXPECT_EQ(server.count(), 3u);
  EXPECT_EQ(client.breaker().state(), infra::CircuitBreaker::State::closed);
}

TEST(HttpClient, ClientErrorsDoNotOpenTheBreaker) {
  ScriptedHttpServer server(always(404));
  auto o = quick();
  o.breaker = infra::CircuitBreakerConfig{1, 60s};
  HttpClient client(o);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client.send(get(server.url("/nope"))));
  EXPECT_EQ(client.breaker().state(), infra::CircuitBreaker::State::closed);
  EXPECT_EQ(server.count(), 3u);
}

TEST(HttpClient, RefusesAnOversizeAnswer) {
  ScriptedHttpServer server([](const Seen& s, std::size_t) {
    Reply r;
    r.body = std::string(s.target == "/fits" ? 1000 : 1001, 'x');
    r.chunked = s.target == "/chunked";
    return r;
  });
  auto o = quick();
  o.max_response_bytes = 1000;
  HttpClient client(o);
  for (const char* path : {"/announced", "/chunked"}) {
    auto r = client.send(get(server.url(path)));
    ASSERT_FALSE(r) << path;
    EXPECT_EQ(r.error().kind, core::ErrorKind::Refused) << path;
    EXPECT_EQ(r.error().code, "ResponseTooLarge") << path;
    EXPECT_NE(r.error().message.find("limit of 1000 bytes"), std::string::npos) << r.error().message;
  }
  auto fits = client.send(get(server.url("/fits")));
  ASSERT_TRUE(fits) << fits.error().message;
  EXPECT_EQ(fits->body.size(), 1000u);

  // A request may lower or raise the limit for itself.
  HttpRequest bigger = get(server.url("/announced"));
  bigger.max_response_bytes = 2000;
  auto r = client.send(bigger);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->body.size(), 1001u);
  EXPECT_EQ(server.count(), 4u);  // refused answers are not asked again
}

TEST(HttpClient, RefusesBadRequestsWithoutSendingThem) {
  ScriptedHttpServer server(always(200));
  HttpClient client(quick());
  auto expect_invalid = [&](HttpRequest req, const std::string& words) {
    auto r = client.send(req);
    ASSERT_FALSE(r) << words;
    EXPECT_EQ(r.error().kind, core::ErrorKind::InvalidArgument) << r.error().message;
    EXPECT_NE(r.error().message.find(words), std::string::npos) << r.error().message;
  };
  expect_invalid(get("ftp://127.0.0.1/file"), "scheme");
  expect_invalid(get("file:///etc/passwd"), "scheme");
  expect_invalid(get("not a url"), "URL");
  expect_invalid(get(""), "URL");
  HttpRequest injected = get(server.url("/x"));
  injected.headers = {{"X-Note", "a\r\nX-Injected: 1"}};
  expect_invalid(injected, "line break");
  HttpRequest bad_name = get(server.url("/x"));
  bad_name.headers = {{"X Note", "a"}};
  expect_invalid(bad_name, "header name");
  HttpRequest bad_method = get(server.url("/x"));
  bad_method.method = "GE T";
  expect_invalid(bad_method, "method");
  HttpRequest head_body = get(server.url("/x"));
  head_body.method = "HEAD";
  head_body.body = "x";
  expect_invalid(head_body, "HEAD");
  EXPECT_EQ(server.count(), 0u);
  EXPECT_EQ(client.breaker().state(), infra::CircuitBreaker::State::closed);
}

TEST(HttpClient, ReusesTheConnection) {
  ScriptedHttpServer server(always(200));
  HttpClient client(quick());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client.send(get(server.url("/r/" + std::to_string(i)))));
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 5u);
  for (const auto& s : seen) EXPECT_EQ(s.connection, seen[0].connection) << s.target;
}

TEST(HttpClient, SendsFromSeveralThreadsAtOnce) {
  ScriptedHttpServer server([](const Seen& s, std::size_t) {
    Reply r;
    r.body = "echo " + s.target;
    return r;
  });
  HttpClient client(quick());
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        const std::string path = "/t" + std::to_string(t) + "/" + std::to_string(i);
        auto r = client.send(get(server.url(path)));
        if (r && r->status == 200 && r->body == "echo " + path) ++good;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), 20);
  EXPECT_EQ(server.count(), 20u);
}

TEST(HttpClient, LogsEachAttemptWithoutSecrets) {
  ScriptedHttpServer server([](const Seen&, std::size_t n) {
    Reply r;
    r.status = n == 0 ? 503 : 200;
    return r;
  });
  const std::vector<std::string> secrets{"sk-live-abcdef123456", "key-zzz-999", "cookie-yyy-888", "amz-tok-777",
                                         "custom-val-666",       "querysecret", "body-secret-555", "hooksecret",
                                         "pw-secret-444"};
  infra::log::set_level("debug");
  StderrCapture capture;
  HttpClient client(quick());
  HttpRequest req = get(server.url("/logged/path?token=querysecret"));
  req.method = "PUT";
  req.body = "body-secret-555";
  req.headers = {{"Authorization", "Bearer sk-live-abcdef123456"},
                 {"X-API-Key", "key-zzz-999"},
                 {"Cookie", "session=cookie-yyy-888"},
                 {"X-Amz-Security-Token", "amz-tok-777"},
                 {"X-Custom-Secret", "custom-val-666"}};
  req.redact = {"x-custom-secret"};
  auto r = client.send(req);
  HttpRequest hook = get(server.url("/services/T0/B0/hooksecret"));
  hook.redact_path = true;
  auto h = client.send(hook);
  HttpRequest refused = req;
  refused.url = "http://user:pw-secret-444@127.0.0.1:" + std::to_string(closed_port()) + "/down?token=querysecret";
  auto failed = client.send(refused);
  const std::string log = capture.finish();
  infra::log::set_level("info");

  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
  ASSERT_TRUE(h);
  ASSERT_FALSE(failed);
  // The secrets did reach the server: the test would prove nothing otherwise.
  auto seen = server.seen();
  ASSERT_GE(seen.size(), 2u);
  EXPECT_EQ(seen[0].headers["authorization"], "Bearer sk-live-abcdef123456");
  EXPECT_EQ(seen[0].headers["x-custom-secret"], "custom-val-666");
  // One line per attempt: two for the retried PUT, one for the hook, three for the refused call.
  std::size_t lines = 0;
  for (auto pos = log.find("http request"); pos != std::string::npos; pos = log.find("http request", pos + 1)) ++lines;
  EXPECT_EQ(lines, 6u) << log;
  EXPECT_NE(log.find("/logged/path"), std::string::npos) << log;
  EXPECT_NE(log.find("\"PUT\""), std::string::npos) << log;
  EXPECT_NE(log.find("503"), std::string::npos) << log;
  for (const auto& secret : secrets) {
    EXPECT_EQ(log.find(secret), std::string::npos) << secret << " in " << log;
    EXPECT_EQ(failed.error().message.find(secret), std::string::npos) << secret;
    EXPECT_EQ(failed.error().detail.find(secret), std::string::npos) << secret;
  }
}

}  // namespace
