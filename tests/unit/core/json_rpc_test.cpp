// JSON-RPC codec: classification of every message shape and the errors for malformed ones.
#include <gtest/gtest.h>

#include "core/json_rpc.hpp"

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
