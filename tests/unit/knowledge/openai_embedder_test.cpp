// The "openai" embedder against a real local HTTP server speaking the OpenAI embeddings wire
// format: request shape, batching, ordering by index, retries, errors, dimension checks.
#include "packs/knowledge/embed/embedder.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace mcpd::packs::knowledge;

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

struct Recorded {
  std::string method;
  std::string target;
  std::string content_type;
  std::string authorization;  // empty when absent
  bool has_authorization = false;
  json::value body;           // null when the body is not JSON
};

struct Reply {
  using Headers = std::vector<std::pair<std::string, std::string>>;
  Reply(unsigned status, std::string body, Headers headers = {})
      : status(status), body(std::move(body)), headers(std::move(headers)) {}
  unsigned status;
  std::string body;
  Headers headers;
  std::chrono::milliseconds delay{0};  // before answering
};

// A deterministic vector per text so tests can check which input each output belongs to.
std::vector<float> vector_for(const std::string& text, std::size_t dim) {
  std::vector<float> v(dim);
  for (std::size_t j = 0; j < dim; ++j) v[j] = static_cast<float>(text.size()) + static_cast<float>(j) / 8.0f;
  if (!text.empty()) v[0] += static_cast<float>(static_cast<unsigned char>(text[0]));
  return v;
}

std::vector<std::string> inputs_of(const Recorded& r) {
  std::vector<std::string> out;
  if (auto* obj = r.body.if_object())
    if (auto* in = obj->if_contains("input"); in && in->is_array())
      for (auto& v : in->get_array()) out.emplace_back(v.is_string() ? std::string(v.get_string()) : "?");
  return out;
}

// An OpenAI-style answer for the request's inputs, optionally listed in reverse order.
std::string answer_for(const Recorded& r, std::size_t dim, bool reversed = false) {
  auto inputs = inputs_of(r);
  json::array data;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    std::size_t i = reversed ? inputs.size() - 1 - k : k;
    json::array emb;
    for (float f : vector_for(inputs[i], dim)) emb.emplace_back(static_cast<double>(f));
    data.emplace_back(json::object{{"object", "embedding"}, {"index", i}, {"embedding", std::move(emb)}});
  }
  json::object root{{"object", "list"},
                    {"data", std::move(data)},
                    {"model", "fake-model"},
                    {"usage", json::object{{"prompt_tokens", 1}, {"total_tokens", 1}}}};
  return json::serialize(root);
}

// HTTP/1.1 server on 127.0.0.1 with an OS-chosen port, one thread per connection; every answer
// closes its connection. Records each request and asks the handler (given the 0-based request
// number, in arrival order) what to reply.
class FakeOpenAi {
 public:
  using Handler = std::function<Reply(const Recorded&, std::size_t)>;

  explicit FakeOpenAi(Handler handler) : handler_(std::move(handler)), acceptor_(ioc_) {
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { run(); });
  }
  ~FakeOpenAi() {
    stopping_ = true;
    boost::system::error_code ec;
    asio::io_context ioc;
    tcp::socket wake(ioc);
    wake.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);  // unblocks accept()
    thread_.join();
    for (auto& t : connections_) t.join();
  }

  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
  std::vector<Recorded> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  std::size_t count() const {
    std::lock_guard lock(mutex_);
    return requests_.size();
  }

 private:
  void run() {
    while (!stopping_) {
      tcp::socket socket(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (stopping_) break;
      if (!ec) connections_.emplace_back([this, s = std::move(socket)]() mutable { serve(s); });
    }
  }

  void serve(tcp::socket& socket) {
    boost::system::error_code ec;
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    http::read(socket, buffer, req, ec);
    if (ec) return;
    Recorded rec;
    rec.method = std::string(req.method_string());
    rec.target = std::string(req.target());
    rec.content_type = std::string(req[http::field::content_type]);
    if (auto it = req.find(http::field::authorization); it != req.end()) {
      rec.has_authorization = true;
      rec.authorization = std::string(it->value());
    }
    json::error_code jec;
    rec.body = json::parse(req.body(), jec);
    if (jec) rec.body = nullptr;
    std::size_t n;
    {
      std::lock_guard lock(mutex_);
      n = requests_.size();
      requests_.push_back(rec);
    }
    Reply reply = handler_(rec, n);
    if (reply.delay.count() > 0) std::this_thread::sleep_for(reply.delay);
    http::response<http::string_body> res{static_cast<http::status>(reply.status), 11};
    res.set(http::field::content_type, "application/json");
    for (auto& [name, value] : reply.headers) res.set(name, value);
    res.body() = reply.body;
    res.keep_alive(false);
    res.prepare_payload();
    http::write(socket, res, ec);
    socket.shutdown(tcp::socket::shutdown_both, ec);
  }

  Handler handler_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::vector<std::thread> connections_;  // touched by the accept thread, then the destructor
  mutable std::mutex mutex_;
  std::vector<Recorded> requests_;
};

FakeOpenAi::Handler answering(std::size_t dim, bool reversed = false) {
  return [dim, reversed](const Recorded& r, std::size_t) { return Reply{200, answer_for(r, dim, reversed)}; };
}

OpenAiEmbedderOptions options_for(const FakeOpenAi& server) {
  OpenAiEmbedderOptions o;
  o.base_url = server.base_url();
  o.model = "fake-model";
  o.backoff_base = 1ms;
  o.timeout = 2000ms;
  return o;
}

std::string error_of(Embedder& e, const std::vector<std::string>& texts) {
  try {
    e.embed(texts);
  } catch (const EmbeddingError& err) {
    return err.what();
  }
  return "<no error>";
}

TEST(OpenAiEmbedder, SendsTheOpenAiRequestShape) {
  FakeOpenAi server(answering(4));
  auto o = options_for(server);
  o.api_key = "sk-test-123";
  auto e = make_openai_embedder(o);
  EXPECT_EQ(e->provider(), "openai");
  EXPECT_EQ(e->model(), "fake-model");
  EXPECT_EQ(e->dimension(), 0u);

  std::vector<std::string> texts{"alpha", "beta", "gamma"};
  auto out = e->embed(texts);
  ASSERT_EQ(out.size(), 3u);
  for (std::size_t i = 0; i < texts.size(); ++i) EXPECT_EQ(out[i], vector_for(texts[i], 4)) << i;
  EXPECT_EQ(e->dimension(), 4u);

  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].target, "/v1/embeddings");
  EXPECT_EQ(reqs[0].content_type, "application/json");
  EXPECT_TRUE(reqs[0].has_authorization);
  EXPECT_EQ(reqs[0].authorization, "Bearer sk-test-123");
  json::value expected = json::parse(R"({"model":"fake-model","input":["alpha","beta","gamma"],"encoding_format":"float"})");
  EXPECT_EQ(reqs[0].body, expected) << json::serialize(reqs[0].body);
}

TEST(OpenAiEmbedder, OmitsAuthorizationWithoutKeyAndStripsTrailingSlash) {
  FakeOpenAi server(answering(2));
  auto o = options_for(server);
  o.base_url += "/";
  auto e = make_openai_embedder(o);
  auto out = e->embed({"x"});
  ASSERT_EQ(out.size(), 1u);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].target, "/v1/embeddings");
  EXPECT_FALSE(reqs[0].has_authorization);
}

TEST(OpenAiEmbedder, EmptyInputMakesNoRequest) {
  FakeOpenAi server(answering(2));
  auto e = make_openai_embedder(options_for(server));
  EXPECT_TRUE(e->embed({}).empty());
  EXPECT_EQ(server.count(), 0u);
}

TEST(OpenAiEmbedder, SplitsIntoBatches) {
  FakeOpenAi server(answering(3));
  auto o = options_for(server);
  o.batch_size = 2;
  auto e = make_openai_embedder(o);
  std::vector<std::string> texts{"a", "bb", "ccc", "dddd", "eeeee"};
  auto out = e->embed(texts);
  ASSERT_EQ(out.size(), texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) EXPECT_EQ(out[i], vector_for(texts[i], 3)) << i;
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 3u);  // ceil(5 / 2)
  EXPECT_EQ(inputs_of(reqs[0]), (std::vector<std::string>{"a", "bb"}));
  EXPECT_EQ(inputs_of(reqs[1]), (std::vector<std::string>{"ccc", "dddd"}));
  EXPECT_EQ(inputs_of(reqs[2]), (std::vector<std::string>{"eeeee"}));
}

TEST(OpenAiEmbedder, OrdersResultsByIndex) {
  FakeOpenAi server(answering(5, /*reversed=*/true));
  auto e = make_openai_embedder(options_for(server));
  std::vector<std::string> texts{"one", "three", "fifteen", "z"};
  auto out = e->embed(texts);
  ASSERT_EQ(out.size(), texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) EXPECT_EQ(out[i], vector_for(texts[i], 5)) << i;
}

TEST(OpenAiEmbedder, RequestsAndChecksAConfiguredDimension) {
  FakeOpenAi server(answering(3));
  auto o = options_for(server);
  o.dimension = 3;
  auto e = make_openai_embedder(o);
  EXPECT_EQ(e->dimension(), 3u);
  EXPECT_EQ(e->embed({"q"}).at(0).size(), 3u);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].body.at("dimensions"), json::value(3));

  o.dimension = 8;
  auto wrong = make_openai_embedder(o);
  EXPECT_EQ(error_of(*wrong, {"q"}), "the endpoint returned 3-dimensional vectors, expected 8");
}

TEST(OpenAiEmbedder, RejectsADimensionChangeAfterLearningIt) {
  FakeOpenAi server([](const Recorded& r, std::size_t n) { return Reply{200, answer_for(r, n == 0 ? 4 : 6)}; });
  auto e = make_openai_embedder(options_for(server));
  e->embed({"first"});
  EXPECT_EQ(e->dimension(), 4u);
  EXPECT_EQ(error_of(*e, {"second"}), "the endpoint returned 6-dimensional vectors, expected 4");
  EXPECT_EQ(e->dimension(), 4u);
}

TEST(OpenAiEmbedder, RetriesA503ThenSucceeds) {
  FakeOpenAi server([](const Recorded& r, std::size_t n) {
    if (n == 0) return Reply{503, R"({"error":{"message":"overloaded"}})"};
    return Reply{200, answer_for(r, 2)};
  });
  auto e = make_openai_embedder(options_for(server));
  auto out = e->embed({"hello"});
  EXPECT_EQ(out.at(0), vector_for("hello", 2));
  EXPECT_EQ(server.count(), 2u);
}

TEST(OpenAiEmbedder, HonoursRetryAfterInsteadOfTheBackoff) {
  FakeOpenAi server([](const Recorded& r, std::size_t n) {
    if (n == 0) return Reply{429, R"({"error":{"message":"slow down"}})", {{"Retry-After", "0"}}};
    return Reply{200, answer_for(r, 2)};
  });
  auto o = options_for(server);
  o.backoff_base = 5000ms;  // the backoff would take up to 5 s; Retry-After: 0 must win
  auto e = make_openai_embedder(o);
  auto start = std::chrono::steady_clock::now();
  e->embed({"hello"});
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_EQ(server.count(), 2u);
}

TEST(OpenAiEmbedder, GivesUpAfterMaxAttempts) {
  FakeOpenAi server([](const Recorded&, std::size_t) { return Reply{500, R"({"error":{"message":"boom"}})"}; });
  auto o = options_for(server);
  o.max_attempts = 3;
  auto e = make_openai_embedder(o);
  std::string msg = error_of(*e, {"x"});
  EXPECT_EQ(server.count(), 3u);
  EXPECT_NE(msg.find("HTTP 500"), std::string::npos) << msg;
  EXPECT_NE(msg.find("after 3 attempts"), std::string::npos) << msg;
  EXPECT_NE(msg.find("boom"), std::string::npos) << msg;
}

TEST(OpenAiEmbedder, DoesNotRetryA400AndSurfacesTheMessage) {
  FakeOpenAi server([](const Recorded&, std::size_t) {
    return Reply{400, R"({"error":{"message":"Incorrect API key provided: sk-secret-999.","type":"invalid_request_error"}})"};
  });
  auto o = options_for(server);
  o.api_key = "sk-secret-999";
  auto e = make_openai_embedder(o);
  std::string msg = error_of(*e, {"x"});
  EXPECT_EQ(server.count(), 1u);
  EXPECT_EQ(msg, "the embeddings endpoint " + server.base_url() +
                     "/embeddings answered HTTP 400: Incorrect API key provided: ***");
  EXPECT_EQ(msg.find("sk-secret-999"), std::string::npos);
}

TEST(OpenAiEmbedder, SurfacesOllamaStyleErrors) {
  FakeOpenAi server([](const Recorded&, std::size_t) { return Reply{404, R"({"error":"model \"nope\" not found"})"}; });
  auto e = make_openai_embedder(options_for(server));
  std::string msg = error_of(*e, {"x"});
  EXPECT_EQ(server.count(), 1u);
  EXPECT_NE(msg.find("HTTP 404: model \"nope\" not found"), std::string::npos) << msg;
}

TEST(OpenAiEmbedder, RejectsMalformedAnswers) {
  struct Case {
    std::string body;
    std::string expect;
  };
  std::vector<Case> cases{
      {"not json", "is not JSON"},
      {R"({"object":"list"})", "\"data\" is missing"},
      {R"({"data":[{"index":0,"embedding":[1,2]}]})", "\"data\" has 1 entries for 2 inputs"},
      {R"({"data":[{"index":0,"embedding":[1,2]},{"index":0,"embedding":[1,2]}]})", "index 0 appears more than once"},
      {R"({"data":[{"index":0,"embedding":[1,2]},{"index":2,"embedding":[1,2]}]})", "index 2 is out of range"},
      {R"({"data":[{"index":0,"embedding":[1,2]},{"index":-1,"embedding":[1,2]}]})", "not a non-negative integer"},
      {R"({"data":[{"index":0,"embedding":[1,2]},{"index":1,"embedding":[]}]})", "index 1 is empty"},
      {R"({"data":[{"index":0,"embedding":[1,"x"]},{"index":1,"embedding":[1,2]}]})", "other than a number"},
      {R"({"data":[{"index":0,"embedding":"AAAA"},{"index":1,"embedding":[1,2]}]})", "not an array of numbers"},
      {R"({"data":[{"index":0,"embedding":[1,2]},{"index":1,"embedding":[1,2,3]}]})", "different lengths (2 and 3)"},
  };
  std::atomic<std::size_t> which{0};
  FakeOpenAi server([&](const Recorded&, std::size_t) { return Reply{200, cases[which.load()].body}; });
  auto e = make_openai_embedder(options_for(server));
  for (; which < cases.size(); ++which) {
    std::string msg = error_of(*e, {"a", "b"});
    EXPECT_NE(msg.find("returned a malformed answer"), std::string::npos) << msg;
    EXPECT_NE(msg.find(cases[which.load()].expect), std::string::npos) << msg;
  }
  EXPECT_EQ(server.count(), cases.size());  // malformed answers are not retried
  EXPECT_EQ(e->dimension(), 0u);
}

TEST(OpenAiEmbedder, ConnectionRefusedFailsAfterMaxAttempts) {
  unsigned short port;
  {
    asio::io_context ioc;
    tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = a.local_endpoint().port();
  }  // closed: nothing listens there now
  OpenAiEmbedderOptions o;
  o.base_url = "http://user:hunter2@127.0.0.1:" + std::to_string(port) + "/v1";
  o.api_key = "sk-never-shown";
  o.backoff_base = 1ms;
  o.max_attempts = 3;
  auto e = make_openai_embedder(o);
  std::string msg = error_of(*e, {"x"});
  EXPECT_NE(msg.find("could not reach the embeddings endpoint http://127.0.0.1:" + std::to_string(port) +
                     "/v1/embeddings after 3 attempts"),
            std::string::npos)
      << msg;
  EXPECT_EQ(msg.find("sk-never-shown"), std::string::npos);
  EXPECT_EQ(msg.find("hunter2"), std::string::npos) << msg;
}

TEST(OpenAiEmbedder, RetriesATimeout) {
  FakeOpenAi server([](const Recorded& r, std::size_t n) {
    Reply reply{200, answer_for(r, 2)};
    if (n == 0) reply.delay = 150ms;
    return reply;
  });
  auto o = options_for(server);
  o.timeout = 50ms;
  auto e = make_openai_embedder(o);
  EXPECT_EQ(e->embed({"slow"}).at(0), vector_for("slow", 2));
  EXPECT_EQ(server.count(), 2u);
}

TEST(OpenAiEmbedder, ReplacesInvalidUtf8SoTheBodyStaysJson) {
  FakeOpenAi server(answering(2));
  auto e = make_openai_embedder(options_for(server));
  e->embed({std::string("ok \xff end")});
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(inputs_of(reqs[0]), (std::vector<std::string>{"ok \xEF\xBF\xBD end"}));
}

TEST(OpenAiEmbedder, EmbedsFromSeveralThreads) {
  FakeOpenAi server(answering(3));
  auto o = options_for(server);
  o.batch_size = 2;
  auto e = make_openai_embedder(o);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::string> texts{"t" + std::to_string(t), "u", "vv"};
      auto out = e->embed(texts);
      bool good = out.size() == texts.size();
      for (std::size_t i = 0; good && i < texts.size(); ++i) good = out[i] == vector_for(texts[i], 3);
      if (good) ++ok;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 4);
  EXPECT_EQ(server.count(), 8u);
  EXPECT_EQ(e->dimension(), 3u);
}

}  // namespace
