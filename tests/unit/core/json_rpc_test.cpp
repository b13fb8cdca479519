// JSON-RPC codec: classification of every message shape and the errors for malformed ones.
#include <gtest/gtest.h>

#include "core/json_rpc.hpp"

#include <string>
#include <utility>
#include <vector>

using namespace mcpd::core;

namespace {
Classified classify_text(const char* text) { return classify(boost::json::parse(text)); }
}  // namespace

TEST(JsonRpc, ClassifiesRequestNotificationResponseAndError) {
  auto r = std::get<Message>(classify_text(R"({"jsonrpc":"2.0","id":7,"method":"ping"})"));
  EXPECT_EQ(r.kind, MessageKind::Request);
  EXPECT_EQ(r.id.as_int64(), 7);
  auto n = std::get<Message>(classify_text(R"({"jsonrpc":"2.0","method":"notifications/initialized"})"));
  EXPECT_EQ(n.kind, MessageKind::Notification);
  auto res = std::get<Message>(classify_text(R"({"jsonrpc":"2.0","id":"a","result":{"x":1}})"));
  EXPECT_EQ(res.kind, MessageKind::Response);
  EXPECT_EQ(res.result.at("x").as_int64(), 1);
  auto err = std::get<Message>(classify_text(R"({"jsonrpc":"2.0","id":"a","error":{"code":-1,"message":"no"}})"));
  EXPECT_EQ(err.kind, MessageKind::Error);
  EXPECT_EQ(err.error.code, -1);
  EXPECT_EQ(err.error.message, "no");
}

TEST(JsonRpc, RejectsWrongVersionMissingMethodAndBadIds) {
  auto v = std::get<InvalidMessage>(classify_text(R"({"jsonrpc":"1.0","id":1,"method":"ping"})"));
  EXPECT_EQ(v.error.code, error_code::kInvalidRequest);
  EXPECT_EQ(v.id.as_int64(), 1);  // the id survives so the error can be addressed
  auto m = std::get<InvalidMessage>(classify_text(R"({"jsonrpc":"2.0"})"));
  EXPECT_EQ(m.error.code, error_code::kInvalidRequest);
  auto id = std::get<InvalidMessage>(classify_text(R"({"jsonrpc":"2.0","id":{"a":1},"method":"ping"})"));
  EXPECT_EQ(id.error.code, error_code::kInvalidRequest);
  EXPECT_TRUE(id.id.is_null());
  auto arr = std::get<InvalidMessage>(classify_text(R"([1,2])"));
  EXPECT_EQ(arr.error.code, error_code::kInvalidRequest);
  auto params = std::get<InvalidMessage>(classify_text(R"({"jsonrpc":"2.0","id":1,"method":"x","params":[1]})"));
  EXPECT_EQ(params.error.code, error_code::kInvalidParams);
}

TEST(JsonRpc, ParseErrorIsMinus32700) {
  auto r = parse_json("{not json");
  ASSERT_TRUE(std::holds_alternative<RpcError>(r));
  EXPECT_EQ(std::get<RpcError>(r).code, error_code::kParseError);
}

TEST(JsonRpc, BuildsRepliesThatKeepTheIdType) {
  auto ok = make_result(boost::json::value("abc"), boost::json::object{});
  EXPECT_EQ(boost::json::serialize(ok), R"({"jsonrpc":"2.0","id":"abc","result":{}})");
  auto e = make_error(42, RpcError{error_code::kMethodNotFound, "Method not found: x", nullptr});
  EXPECT_EQ(boost::json::serialize(e), R"({"jsonrpc":"2.0","id":42,"error":{"code":-32601,"message":"Method not found: x"}})");
  EXPECT_NE(id_key(boost::json::value("1")), id_key(boost::json::value(1)));
}

TEST(JsonRpc, SerializedSizeIsExactAndStopsPastTheLimit) {
  boost::json::object o{{"a", std::string(10000, 'x')}, {"b", 1}};
  std::size_t exact = boost::json::serialize(o).size();
  EXPECT_EQ(serialized_size(o, 1u << 20), exact);
  EXPECT_EQ(serialized_size(o, exact), exact);
  EXPECT_EQ(serialized_size(o, 100), 101u);
}

TEST(JsonRpc, CountsBatchMembersFromTheTextWithoutParsing) {
  EXPECT_EQ(count_batch_members(R"({"jsonrpc":"2.0"})", 64), std::nullopt);
  EXPECT_EQ(count_batch_members("  []", 64), 0u);
  EXPECT_EQ(count_batch_members(" [ 1 ] ", 64), 1u);
  // Commas inside members, strings and escapes do not count.
  EXPECT_EQ(count_batch_members(R"([{"a":[1,2,3]},"x,y\",z",[4,5]])", 64), 3u);
  EXPECT_EQ(count_batch_members("[1,1,1,1,1,1,1,1,1,1]", 64), 10u);
  // Past the limit the scan stops: a million members cost no more than limit + 1.
  std::string huge = "[1";
  for (int i = 0; i < 1000000; ++i) huge += ",1";
  huge += "]";
  EXPECT_EQ(count_batch_members(huge, 64), 65u);
  EXPECT_EQ(count_batch_members("[1,2]", 0), 1u);
}

TEST(JsonRpc, BatchesRunOnlyAt20250326WithinTheCap) {
  EXPECT_EQ(refuse_batch(3, "2025-03-26", 64), std::nullopt);
  EXPECT_EQ(refuse_batch(64, "2025-03-26", 64), std::nullopt);
  auto over = refuse_batch(65, "2025-03-26", 64);
  ASSERT_TRUE(over);
  EXPECT_EQ(over->code, error_code::kInvalidRequest);
  EXPECT_NE(over->message.find("at most 64"), std::string::npos);
  for (const char* v : {"2025-06-18", "2025-11-25"}) {
    auto refused = refuse_batch(2, v, 64);
    ASSERT_TRUE(refused) << v;
    EXPECT_NE(refused->message.find("not part of MCP"), std::string::npos);
  }
  auto uninitialized = refuse_batch(1, "", 64);
  ASSERT_TRUE(uninitialized);
  EXPECT_NE(uninitialized->message.find("initialize"), std::string::npos);
  EXPECT_TRUE(refuse_batch(0, "2025-03-26", 64));
  auto with_initialize = boost::json::parse(R"([{"jsonrpc":"2.0","id":1,"method":"ping"},
      {"jsonrpc":"2.0","id":2,"method":"initialize","params":{}}])").as_array();
  auto refused = refuse_batch(with_initialize, "2025-03-26", 64);
  ASSERT_TRUE(refused);
  EXPECT_NE(refused->message.find("'initialize' must be sent on its own"), std::string::npos);
}

TEST(JsonRpc, BatchAnswersStayWithinTheByteBudget) {
  std::string out;
  int calls = 0;
  BatchAnswers answers(3, 200, [&](std::string text) {
    out = std::move(text);
    ++calls;
  });
  answers.add(make_result(1, boost::json::object{{"t", "small"}}));
  answers.add(make_result(2, boost::json::object{{"t", std::string(500, 'x')}}));  // over the budget: replaced
  answers.add(std::nullopt);                                                      // a notification
  EXPECT_EQ(calls, 0);  // not before seal()
  answers.seal();
  ASSERT_EQ(calls, 1);
  auto arr = boost::json::parse(out).as_array();
  ASSERT_EQ(arr.size(), 2u);
  EXPECT_EQ(arr[0].at("id").as_int64(), 1);
  EXPECT_EQ(arr[1].at("id").as_int64(), 2);
  EXPECT_NE(std::string(arr[1].at("error").at("message").as_string()).find("Response too large"), std::string::npos);
  EXPECT_LT(out.size(), 200u + 400u);  // the budget plus one short error

  std::string none = "unset";
  BatchAnswers only_notifications(2, 200, [&](std::string text) { none = std::move(text); });
  only_notifications.add(std::nullopt);
  only_notifications.add(std::nullopt);
  only_notifications.seal();
  EXPECT_EQ(none, "");
}

// parse_json skips the budget for messages up to a 32nd of it, on the ground that no text takes more
// than 24 bytes of memory per byte once parsed: the densest shapes must fit a budget of 24x their size.
TEST(JsonRpc, NoTextParsesIntoMoreThan24BytesPerByte) {
  const std::vector<std::pair<std::string, std::string>> shapes = {
      {"1", ","}, {"[1]", ","}, {"[]", ","}, {"{}", ","}, {"\"\"", ","}, {"{\"a\":1}", ","},
      {"[[1]]", ","}, {"[{}]", ","}, {"1e5", ","}, {"null", ","}, {"true", ","}};
  for (const auto& [item, sep] : shapes) {
    std::string text = "[" + item;
    while (text.size() < (64u << 10)) text += sep + item;
    text += "]";
    EXPECT_TRUE(std::holds_alternative<boost::json::value>(parse_json(text, 24 * text.size()))) << "[" << item << ",...]";
  }
  for (const std::string key : {"", "a"}) {  // members with empty or repeated keys
    std::string members = "{";
    for (int i = 0; members.size() < (64u << 10); ++i) members += std::string(i ? "," : "") + "\"" + key + "\":1";
    members += "}";
    EXPECT_TRUE(std::holds_alternative<boost::json::value>(parse_json(members, 24 * members.size()))) << key;
  }
}

TEST(JsonRpc, ParsingIsBoundedByMemoryNotBytesOnTheWire) {
  std::string tiny = "[1";
  for (int i = 0; i < 100000; ++i) tiny += ",1";
  tiny += "]";  // 200 KB of text, 1.6 MB of values
  auto refused = parse_json(tiny, 1u << 20);
  ASSERT_TRUE(std::holds_alternative<RpcError>(refused));
  EXPECT_EQ(std::get<RpcError>(refused).code, error_code::kInvalidRequest);
  EXPECT_NE(std::get<RpcError>(refused).message.find("too many JSON values"), std::string::npos);
  auto fits = parse_json(tiny, 8u << 20);
  ASSERT_TRUE(std::holds_alternative<boost::json::value>(fits));
  EXPECT_EQ(std::get<boost::json::value>(fits).as_array().size(), 100001u);
  // A large string is one value: a body at the 4 MiB limit holding one string fits the default
  // budget (twice the body limit).
  std::string text = "{\"s\":\"" + std::string((4u << 20) - 16, 'x') + "\"}";
  auto one = parse_json(text, 8u << 20);
  ASSERT_TRUE(std::holds_alternative<boost::json::value>(one));
  // Copies made after parsing never fail, whatever the budget was.
  auto copy = boost::json::value(std::get<boost::json::value>(one));
  EXPECT_EQ(copy.at("s").as_string().size(), (4u << 20) - 16);
  EXPECT_EQ(std::get<RpcError>(parse_json("{oops", 1u << 20)).code, error_code::kParseError);
}

TEST(JsonRpc, NumbersBeyondADoubleAreAParseErrorNotAValueThatCannotBeWrittenBack) {
  // Found by fuzzing: Boost.JSON reads 0e400 as NaN and 1e400 as infinity, and writes neither as JSON.
  for (const char* text : {R"({"a":0e400})", R"({"a":[1e400]})", R"({"a":{"b":-1e999}})"}) {
    auto parsed = parse_json(text);
    ASSERT_TRUE(std::holds_alternative<RpcError>(parsed)) << text;
    EXPECT_EQ(std::get<RpcError>(parsed).code, error_code::kParseError);
    auto budgeted = parse_json(text, 64);
    ASSERT_TRUE(std::holds_alternative<RpcError>(budgeted)) << text;
  }
  auto fine = parse_json(R"({"a":1e300,"b":0e5,"c":-2.5})");
  ASSERT_TRUE(std::holds_alternative<json::value>(fine));
  EXPECT_TRUE(std::holds_alternative<json::value>(parse_json(json::serialize(std::get<json::value>(fine)))));
}
