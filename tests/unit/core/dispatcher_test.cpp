// Dispatcher: lifecycle, validation before handlers, errors, pagination, cancellation, client requests.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "core/dispatcher.hpp"
#include "core/error_mapping.hpp"
#include "core/fault.hpp"
#include "test_support.hpp"

using namespace mcpd::core;
namespace json = boost::json;

namespace {

class ThreadExecutor : public Executor {
 public:
  ~ThreadExecutor() override {
    for (auto& t : threads) t.join();
  }
  bool post(std::function<void()> work) override {
    threads.emplace_back(std::move(work));
    return true;
  }
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
      if (!answer) return ToolResult::error(answer.error().message);
      return ToolResult::text(json::serialize(*answer));
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

namespace {

// Refuses all work, as a worker pool at its bound does.
class FullExecutor : public Executor {
 public:
  bool post(std::function<void()>) override { return false; }
};

// What the fault sink saw, for the tests below.
std::mutex fault_mutex;
std::vector<std::string> faults;
void record_fault(std::string_view id, std::string_view where, std::string_view what) {
  std::lock_guard lock(fault_mutex);
  faults.push_back(std::string(id) + " " + std::string(where) + ": " + std::string(what));
}

std::string text_of(const json::object& r) { return json::serialize(r); }

}  // namespace

TEST_F(Fixture, AnExceptionFromAnyPackHandlerIsAnInternalErrorWithAnIdNotADeadProcess) {
  set_fault_sink(&record_fault);
  const std::string secret = "/srv/secret/path";
  Tool sync_tool;
  sync_tool.name = "throws";
  sync_tool.handler = [secret](CallContext&, const json::object&) -> ToolOutcome { throw std::runtime_error(secret); };
  registry.add_tool(sync_tool);
  Tool async_tool;
  async_tool.name = "throws_async";
  async_tool.async_handler = [secret](CallContextPtr, json::object, ToolCompletion) { throw std::runtime_error(secret); };
  registry.add_tool(async_tool);
  Resource resource;
  resource.uri = "test://throws";
  resource.name = "throws";
  resource.read = [secret](CallContext&) -> ReadOutcome { throw std::runtime_error(secret); };
  registry.add_resource(resource);
  ResourceTemplate tmpl;
  tmpl.uri_template = "test://t/{id}";
  tmpl.name = "t";
  tmpl.execution = Execution::Pool;
  tmpl.read = [secret](CallContext&, const std::string&, const std::map<std::string, std::string>&) -> ReadOutcome {
    throw std::runtime_error(secret);
  };
  tmpl.completers["id"] = [secret](std::string_view, const std::map<std::string, std::string>&) -> std::vector<std::string> {
    throw std::runtime_error(secret);
  };
  registry.add_resource_template(tmpl);
  Prompt prompt;
  prompt.name = "throws";
  prompt.get = [](CallContext&, const std::map<std::string, std::string>&) -> PromptOutcome { throw 42; };
  registry.add_prompt(prompt);
  initialize();

  auto expect_internal = [&](const json::object& r, bool as_tool_result) {
    std::string message;
    if (as_tool_result) {
      ASSERT_TRUE(r.contains("result")) << text_of(r);
      EXPECT_TRUE(r.at("result").at("isError").as_bool());
      message = r.at("result").at("content").at(0).at("text").as_string();
    } else {
      ASSERT_TRUE(r.contains("error")) << text_of(r);
      EXPECT_EQ(r.at("error").at("code").as_int64(), error_code::kInternalError);
      message = r.at("error").at("message").as_string();
    }
    EXPECT_NE(message.find("Internal error"), std::string::npos) << message;
    EXPECT_NE(message.find("(id "), std::string::npos) << message;
    EXPECT_EQ(message.find(secret), std::string::npos) << "the exception's text reached the client: " << message;
  };
  expect_internal(call(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"throws"}})"), true);
  expect_internal(call(R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"throws_async"}})"), true);
  expect_internal(call(R"({"jsonrpc":"2.0","id":3,"method":"resources/read","params":{"uri":"test://throws"}})"), false);
  expect_internal(call(R"({"jsonrpc":"2.0","id":5,"method":"prompts/get","params":{"name":"throws"}})"), false);
  // The template (read and completer) runs on the pool: its answers arrive from another thread.
  auto call_pooled = [&](const std::string& text) {
    std::atomic<bool> done{false};
    std::optional<json::object> reply;
    dispatcher->handle(session, json::parse(text), [&](std::optional<json::object> r) { reply = std::move(r); done = true; });
    for (int i = 0; i < 1000 && !done; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    EXPECT_TRUE(done);
    return reply.value_or(json::object{});
  };
  expect_internal(call_pooled(R"({"jsonrpc":"2.0","id":6,"method":"completion/complete","params":{"ref":{"type":"ref/resource","uri":"test://t/{id}"},"argument":{"name":"id","value":"1"}}})"), false);
  auto reply = call_pooled(R"({"jsonrpc":"2.0","id":4,"method":"resources/read","params":{"uri":"test://t/1"}})");
  expect_internal(reply, false);

  // Each fault is in the log, under the id the client saw, with the exception's text.
  std::lock_guard lock(fault_mutex);
  EXPECT_EQ(faults.size(), 6u);
  for (const auto& f : faults) EXPECT_TRUE(f.find(secret) != std::string::npos || f.find("not a std::exception") != std::string::npos) << f;
  auto id = std::string(reply.at("error").at("message").as_string());
  id = id.substr(id.find("(id ") + 4, 8);
  EXPECT_TRUE(std::any_of(faults.begin(), faults.end(), [&](const std::string& f) { return f.rfind(id, 0) == 0; }));
  set_fault_sink(nullptr);
}

TEST_F(Fixture, PackErrorsAreMappedOnceByKind) {
  Tool down;
  down.name = "down";
  down.handler = [](CallContext&, const json::object&) -> ToolOutcome {
    return Error::unavailable("The database is unreachable; retry later", "host db.internal:5432 refused");
  };
  registry.add_tool(down);
  Resource missing;
  missing.uri = "test://missing";
  missing.name = "missing";
  missing.read = [](CallContext&) -> ReadOutcome { return Error::not_found("No such document"); };
  registry.add_resource(missing);
  Prompt picky;
  picky.name = "picky";
  picky.get = [](CallContext&, const std::map<std::string, std::string>&) -> PromptOutcome {
    return Error::invalid_argument("'topic' must be one word");
  };
  registry.add_prompt(picky);
  initialize();
  auto tool = call(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"down"}})");
  EXPECT_TRUE(tool.at("result").at("isError").as_bool());  // the model reads it
  EXPECT_EQ(tool.at("result").at("content").at(0).at("text").as_string(), "The database is unreachable; retry later");
  EXPECT_EQ(text_of(tool).find("db.internal"), std::string::npos);  // the detail stays in the log
  auto read = call(R"({"jsonrpc":"2.0","id":2,"method":"resources/read","params":{"uri":"test://missing"}})");
  EXPECT_EQ(read.at("error").at("code").as_int64(), error_code::kResourceNotFound);
  EXPECT_EQ(read.at("error").at("message").as_string(), "No such document");
  auto prompt = call(R"({"jsonrpc":"2.0","id":3,"method":"prompts/get","params":{"name":"picky"}})");
  EXPECT_EQ(prompt.at("error").at("code").as_int64(), error_code::kInvalidParams);
}

TEST_F(Fixture, AHandlerThatReturnsCancelledGetsNoAnswer) {
  Tool gives_up;
  gives_up.name = "gives_up";
  gives_up.handler = [](CallContext&, const json::object&) -> ToolOutcome { return Cancelled{}; };
  registry.add_tool(gives_up);
  initialize();
  bool got = false;
  std::optional<json::object> reply = json::object{{"sentinel", true}};
  dispatcher->handle(session, json::parse(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"gives_up"}})"),
                     [&](std::optional<json::object> r) { reply = std::move(r); got = true; });
  EXPECT_TRUE(got);
  EXPECT_FALSE(reply.has_value());
}

TEST_F(Fixture, PoolResourcesAndPromptsRunOffTheCallingThread) {
  std::atomic<std::thread::id> read_on{}, prompt_on{};
  Resource r;
  r.uri = "test://pooled";
  r.name = "pooled";
  r.execution = Execution::Pool;
  r.read = [&](CallContext&) -> ReadOutcome {
    read_on = std::this_thread::get_id();
    return std::vector<ResourceContents>{{"test://pooled", "text/plain", "x", "", false}};
  };
  registry.add_resource(r);
  Prompt p;
  p.name = "pooled";
  p.execution = Execution::Pool;
  p.get = [&](CallContext&, const std::map<std::string, std::string>&) -> PromptOutcome {
    prompt_on = std::this_thread::get_id();
    return json::object{{"messages", json::array{}}};
  };
  registry.add_prompt(p);
  initialize();
  std::atomic<int> answers{0};
  dispatcher->handle(session, json::parse(R"({"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"test://pooled"}})"),
                     [&](std::optional<json::object> a) { if (a && a->contains("result")) ++answers; });
  dispatcher->handle(session, json::parse(R"({"jsonrpc":"2.0","id":2,"method":"prompts/get","params":{"name":"pooled"}})"),
                     [&](std::optional<json::object> a) { if (a && a->contains("result")) ++answers; });
  for (int i = 0; i < 1000 && answers < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ASSERT_EQ(answers.load(), 2);
  EXPECT_NE(read_on.load(), std::this_thread::get_id());
  EXPECT_NE(prompt_on.load(), std::this_thread::get_id());
}

TEST(DispatcherBusy, AFullWorkerQueueAnswersBusyAndRunsNothing) {
  Registry registry;
  std::atomic<int> runs{0};
  Tool slow;
  slow.name = "slow";
  slow.execution = Execution::Pool;
  slow.handler = [&](CallContext&, const json::object&) -> ToolOutcome { ++runs; return ToolResult::text("x"); };
  registry.add_tool(slow);
  Resource r;
  r.uri = "test://pooled";
  r.name = "pooled";
  r.execution = Execution::Pool;
  r.read = [&](CallContext&) -> ReadOutcome { ++runs; return std::vector<ResourceContents>{}; };
  registry.add_resource(r);
  FullExecutor full;
  Dispatcher dispatcher(registry, ServerInfo{}, &full, nullptr);
  SessionManager sessions{4, std::chrono::seconds(60), [] { return std::string("s"); }};
  auto session = sessions.create(std::make_shared<mcpd::testing::RecordingSink>());
  auto call = [&](const char* text) {
    std::optional<json::object> reply;
    dispatcher.handle(session, json::parse(text), [&](std::optional<json::object> r) { reply = std::move(r); });
    return reply.value_or(json::object{});
  };
  call(R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25"}})");
  for (const char* text : {R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"slow"}})",
                           R"({"jsonrpc":"2.0","id":2,"method":"resources/read","params":{"uri":"test://pooled"}})"}) {
    auto answer = call(text);
    ASSERT_TRUE(answer.contains("error")) << json::serialize(answer);
    EXPECT_EQ(answer.at("error").at("code").as_int64(), error_code::kServerBusy);
    EXPECT_EQ(answer.at("error").at("data").at("retryAfterSeconds").as_int64(), kRetryAfterSeconds);
    EXPECT_NE(std::string(answer.at("error").at("message").as_string()).find("busy"), std::string::npos);
  }
  EXPECT_EQ(runs.load(), 0);
}
