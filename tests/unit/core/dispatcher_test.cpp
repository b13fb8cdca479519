// Dispatcher: lifecycle, validation before handlers, errors, pagination, cancellation, client requests.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "core/dispatcher.hpp"
#include "test_support.hpp"

using namespace mcpd::core;
namespace json = boost::json;

namespace {

class ThreadExecutor : public Executor {
 public:
  ~ThreadExecutor() override {
    for (auto& t : threads) t.join();
  }
  void post(std::function<void()> work) override { threads.emplace_back(std::move(work)); }
  std::vector<std::thread> threads;
};

struct Fixture : ::testing::Test {
  Registry registry;
  SessionManager sessions{16, std::chrono::seconds(60), [] { return "s" + std::to_string(++counter); }};
  ThreadExecutor pool;
  std::atomic<int> handler_runs{0};
  static inline int counter = 0;
  std::shared_ptr<mcpd::testing::RecordingSink> sink = std::make_shared<mcpd::testing::RecordingSink>();
  std::unique_ptr<Dispatcher> dispatcher;
  SessionPtr session;

  void SetUp() override {
    Tool add;
    add.name = "add";
    add.description = "adds";
    add.input_schema = json::parse(R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"}},"required":["a","b"]})");
    add.handler = [this](CallContext&, const json::object& args) -> ToolOutcome {
      ++handler_runs;
      return ToolResult::text(std::to_string(args.at("a").as_int64() + args.at("b").as_int64()));
    };
    registry.add_tool(add);
    for (int i = 0; i < 5; ++i) {
      Tool t;
      t.name = "t" + std::to_string(i);
      t.handler = [](CallContext&, const json::object&) -> ToolOutcome { return ToolResult::text("x"); };
      registry.add_tool(t);
    }
    Tool ask;
    ask.name = "ask";
    ask.execution = Execution::Pool;
    ask.handler = [](CallContext& c, const json::object&) -> ToolOutcome {
      auto answer = c.ask_client("roots/list", {}, std::chrono::seconds(5));
      if (auto* e = std::get_if<RpcError>(&answer)) return ToolResult::error(e->message);
      return ToolResult::text(json::serialize(std::get<json::value>(answer)));
    };
    registry.add_tool(ask);
    Tool slow;
    slow.name = "slow";
    slow.execution = Execution::Pool;
    slow.handler = [](CallContext& c, const json::object&) -> ToolOutcome {
      for (int i = 0; i < 500 && !c.cancelled(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
      return ToolResult::text("done");
    };
    registry.add_tool(slow);
    dispatcher = std::make_unique<Dispatcher>(registry, ServerInfo{"mcpd", "mcpd", "test", ""}, &pool, nullptr, 3);
    session = sessions.create(sink);
  }

  // Sends a request and returns its reply (the handler runs inline unless it is a Pool tool).
  json::object call(const std::string& text) {
    std::optional<json::object> reply;
    bool got = false;
    dispatcher->handle(session, json::parse(text), [&](std::optional<json::object> r) {
      reply = std::move(r);
      got = true;
    });
    EXPECT_TRUE(got);
    return reply.value_or(json::object{});
  }

  void initialize(const char* version = "2025-11-25") {
    auto r = call(std::string(R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":")") + version +
                  R"(","capabilities":{"roots":{}},"clientInfo":{"name":"t","version":"1"}}})");
    ASSERT_TRUE(r.contains("result")) << json::serialize(r);
  }
};

}  // namespace

TEST_F(Fixture, RequestsBeforeInitializeAreRefusedButPingWorks) {
  auto r = call(R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})");
  EXPECT_EQ(r.at("error").at("code").as_int64(), error_code::kInvalidRequest);
  auto p = call(R"({"jsonrpc":"2.0","id":2,"method":"ping"})");
  EXPECT_TRUE(p.at("result").as_object().empty());
}

TEST_F(Fixture, NegotiatesTheProtocolVersion) {
  auto r = call(R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})");
  EXPECT_EQ(r.at("result").at("protocolVersion").as_string(), "2024-11-05");
  EXPECT_EQ(session->protocol_version(), "2024-11-05");
  auto again = call(R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25"}})");
  EXPECT_EQ(again.at("error").at("code").as_int64(), error_code::kInvalidRequest);
}

TEST_F(Fixture, UnknownVersionGetsOurLatest) {
  auto r = call(R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"1999-01-01","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})");
  EXPECT_EQ(r.at("result").at("protocolVersion").as_string(), "2025-11-25");
}

TEST_F(Fixture, InvalidArgumentsBecomeIsErrorAndTheHandlerDoesNotRun) {
  initialize();
  auto r = call(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":1}}})");
  EXPECT_TRUE(r.at("result").at("isError").as_bool());
  EXPECT_NE(json::serialize(r).find("missing required argument 'b'"), std::string::npos);
  EXPECT_EQ(handler_runs.load(), 0);
  auto ok = call(R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2}}})");
  EXPECT_EQ(ok.at("result").at("content").at(0).at("text").as_string(), "3");
  EXPECT_EQ(handler_runs.load(), 1);
}

TEST_F(Fixture, ProtocolErrors) {
  initialize();
  EXPECT_EQ(call(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"nope"}})").at("error").at("code").as_int64(), error_code::kInvalidParams);
  EXPECT_EQ(call(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}})").at("error").at("code").as_int64(), error_code::kInvalidParams);
  EXPECT_EQ(call(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":[1]}})").at("error").at("code").as_int64(), error_code::kInvalidParams);
  EXPECT_EQ(call(R"({"jsonrpc":"2.0","id":1,"method":"no/such"})").at("error").at("code").as_int64(), error_code::kMethodNotFound);
  EXPECT_EQ(call(R"({"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"x://y"}})").at("error").at("code").as_int64(), error_code::kResourceNotFound);
  EXPECT_EQ(call(R"({"jsonrpc":"2.0","id":1,"method":"logging/setLevel","params":{"level":"loud"}})").at("error").at("code").as_int64(), error_code::kInvalidParams);
  EXPECT_EQ(call(R"({"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":"bogus"}})").at("error").at("code").as_int64(), error_code::kInvalidParams);
}

TEST_F(Fixture, PaginatesWithOpaqueCursors) {
  initialize();
  std::vector<std::string> names;
  json::value cursor = nullptr;
  for (int page = 0; page < 10; ++page) {
    std::string params = cursor.is_null() ? "{}" : R"({"cursor":)" + json::serialize(cursor) + "}";
    auto r = call(R"({"jsonrpc":"2.0","id":1,"method":"tools/list","params":)" + params + "}");
    for (auto& t : r.at("result").at("tools").as_array()) names.emplace_back(t.at("name").as_string());
    auto next = r.at("result").as_object().if_contains("nextCursor");
    if (!next) break;
    cursor = *next;
  }
  EXPECT_EQ(names.size(), registry.tools().size());
  EXPECT_EQ(names.front(), "add");
}

TEST_F(Fixture, ServerToClientRequestIsRoutedBackToTheWaitingTool) {
  initialize();
  std::optional<json::object> reply;
  std::atomic<bool> done{false};
  dispatcher->handle(session, json::parse(R"({"jsonrpc":"2.0","id":"c1","method":"tools/call","params":{"name":"ask"}})"),
                     [&](std::optional<json::object> r) { reply = r; done = true; });
  // Wait for the tool's roots/list request to reach the client, then answer it.
  json::value request_id;
  for (int i = 0; i < 500 && request_id.is_null(); ++i) {
    for (auto& s : sink->snapshot())
      if (s.message.contains("method") && s.message.at("method").as_string() == "roots/list") {
        request_id = s.message.at("id");
        EXPECT_EQ(s.related.as_string(), "c1");  // it travels with the call that asked
      }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_FALSE(request_id.is_null());
  json::object answer{{"jsonrpc", "2.0"}, {"id", request_id}, {"result", json::object{{"roots", json::array{}}}}};
  EXPECT_FALSE(dispatcher->handle(session, answer, [](auto) { FAIL() << "a response gets no reply"; }));
  for (int i = 0; i < 500 && !done; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ASSERT_TRUE(done);
  EXPECT_EQ(reply->at("result").at("content").at(0).at("text").as_string(), R"({"roots":[]})");
}

TEST_F(Fixture, CancellationStopsTheCallAndSuppressesTheAnswer) {
  initialize();
  std::atomic<bool> done{false};
  std::optional<json::object> reply = json::object{{"sentinel", true}};
  dispatcher->handle(session, json::parse(R"({"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"slow"}})"),
                     [&](std::optional<json::object> r) { reply = r; done = true; });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  dispatcher->handle(session, json::parse(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":9}})"), [](auto) {});
  for (int i = 0; i < 500 && !done; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ASSERT_TRUE(done);
  EXPECT_FALSE(reply.has_value());
}

TEST_F(Fixture, ClosingTheSessionFailsPendingClientRequests) {
  initialize();
  std::atomic<bool> done{false};
  std::optional<json::object> reply;
  dispatcher->handle(session, json::parse(R"({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"ask"}})"),
                     [&](std::optional<json::object> r) { reply = r; done = true; });
  for (int i = 0; i < 500 && sink->snapshot().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  sessions.end(session->id());
  for (int i = 0; i < 1000 && !done; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ASSERT_TRUE(done);
  EXPECT_TRUE(sink->closed);
  EXPECT_EQ(sessions.find(session->id()), nullptr);
}

TEST_F(Fixture, AnAnswerOverTheBoundIsReplacedByAnErrorSayingSo) {
  Tool big;
  big.name = "big";
  big.handler = [](CallContext&, const json::object&) -> ToolOutcome { return ToolResult::text(std::string(5000, 'x')); };
  registry.add_tool(big);
  dispatcher->set_limits({64, 4096});
  initialize();
  auto r = call(R"({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"big","arguments":{}}})");
  ASSERT_TRUE(r.contains("error")) << json::serialize(r);
  EXPECT_EQ(r.at("id").as_int64(), 7);
  EXPECT_EQ(r.at("error").at("code").as_int64(), error_code::kInvalidRequest);
  EXPECT_NE(std::string(r.at("error").at("message").as_string()).find("more than 4096 bytes"), std::string::npos);
  // Small answers pass untouched; the list of tools is an answer too.
  auto ok = call(R"({"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2}}})");
  EXPECT_EQ(ok.at("result").at("content").at(0).at("text").as_string(), "3");
  dispatcher->set_limits({64, 100});
  EXPECT_TRUE(call(R"({"jsonrpc":"2.0","id":9,"method":"tools/list"})").contains("error"));
}
