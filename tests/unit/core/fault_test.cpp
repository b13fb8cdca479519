// The fault boundary and the one Result type: exceptions become internal errors with a logged id.
#include <gtest/gtest.h>

#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/error_mapping.hpp"
#include "core/fault.hpp"

using namespace mcpd::core;

namespace {

std::vector<std::string> logged;
void record(std::string_view id, std::string_view where, std::string_view what) {
  logged.push_back(std::string(id) + "|" + std::string(where) + "|" + std::string(what));
}

Result<int> parse_positive(const std::string& text) {
  int n = std::stoi(text);  // throws on "x": the boundary's job
  if (n <= 0) return Error::invalid_argument("'n' must be greater than 0");
  return n;
}

Result<int> twice(const std::string& text) {
  auto n = parse_positive(text);
  if (!n) return std::move(n).failure();
  return *n * 2;
}

}  // namespace

TEST(Fault, GuardedPassesValuesAndErrorsThroughAndTurnsExceptionsIntoInternalErrors) {
  logged.clear();
  set_fault_sink(&record);
  EXPECT_EQ(*guarded("parse", "", [] { return parse_positive("21"); }), 21);
  auto refused = guarded("parse", "", [] { return parse_positive("-1"); });
  ASSERT_TRUE(refused.failed());
  EXPECT_EQ(refused.error().kind, ErrorKind::InvalidArgument);
  EXPECT_TRUE(logged.empty());

  auto thrown = guarded("parse", "", [] { return parse_positive("not a number"); });
  ASSERT_TRUE(thrown.failed());
  EXPECT_EQ(thrown.error().kind, ErrorKind::Internal);
  const std::string& message = thrown.error().message;
  EXPECT_NE(message.find("Internal error in parse (id "), std::string::npos) << message;
  EXPECT_EQ(message.find("stoi"), std::string::npos) << "the exception's text must stay in the log";
  ASSERT_EQ(logged.size(), 1u);
  std::string id = message.substr(message.find("(id ") + 4, 8);
  EXPECT_EQ(logged[0].substr(0, 9), id + "|");
  EXPECT_NE(logged[0].find("stoi"), std::string::npos);

  auto other = guarded("odd", "", []() -> Result<int> { throw 7; });
  ASSERT_TRUE(other.failed());
  EXPECT_NE(other.error().message.find("(id "), std::string::npos);
  EXPECT_NE(other.error().message.substr(other.error().message.find("(id ") + 4, 8), id) << "ids are fresh";
  set_fault_sink(nullptr);
}

TEST(Fault, FailuresCarryOnThroughCallersAndCancellationIsItsOwnCase) {
  EXPECT_EQ(*twice("4"), 8);
  auto failed = twice("0");
  ASSERT_TRUE(failed.failed());
  EXPECT_EQ(failed.error().message, "'n' must be greater than 0");
  Result<int> cancelled = Cancelled{};
  EXPECT_TRUE(cancelled.cancelled());
  EXPECT_FALSE(cancelled.failed());
  EXPECT_FALSE(cancelled.ok());
  Result<std::string> carried = std::move(cancelled).failure();
  EXPECT_TRUE(carried.cancelled());
  Status done;
  EXPECT_TRUE(done.ok());
}

TEST(ErrorMapping, EachKindHasOneJsonRpcCodeAndOneHttpStatus) {
  EXPECT_EQ(to_rpc_error(Error::invalid_argument("x")).code, error_code::kInvalidParams);
  EXPECT_EQ(to_rpc_error(Error::refused("x")).code, error_code::kInvalidParams);
  EXPECT_EQ(to_rpc_error(Error::not_found("x")).code, error_code::kInvalidParams);
  EXPECT_EQ(to_rpc_error(Error::not_found("x"), error_code::kResourceNotFound).code, error_code::kResourceNotFound);
  EXPECT_EQ(to_rpc_error(Error::unavailable("x")).code, error_code::kInternalError);
  EXPECT_EQ(to_rpc_error(Error::timeout("x")).code, error_code::kInternalError);
  EXPECT_EQ(to_rpc_error(Error::internal("x")).code, error_code::kInternalError);
  auto busy = to_rpc_error(Error::busy());
  EXPECT_EQ(busy.code, error_code::kServerBusy);
  EXPECT_EQ(busy.data.at("retryAfterSeconds").as_int64(), kRetryAfterSeconds);
  // The detail never travels.
  auto mapped = to_rpc_error(Error::unavailable("The store is unreachable", "s3.internal:9000 refused"));
  EXPECT_EQ(mapped.message, "The store is unreachable");
  EXPECT_TRUE(mapped.data.is_null());
  EXPECT_EQ(http_status(ErrorKind::InvalidArgument), 400u);
  EXPECT_EQ(http_status(ErrorKind::NotFound), 404u);
  EXPECT_EQ(http_status(ErrorKind::Refused), 403u);
  EXPECT_EQ(http_status(ErrorKind::Unavailable), 503u);
  EXPECT_EQ(http_status(ErrorKind::Busy), 503u);
  EXPECT_EQ(http_status(ErrorKind::Timeout), 504u);
  EXPECT_EQ(http_status(ErrorKind::Internal), 500u);
}

TEST(Fault, TheHandlerIsNamedByKindAndName) {
  EXPECT_EQ(handler_name("tool", "echo"), "tool 'echo'");
  EXPECT_EQ(handler_name("parse", ""), "parse");
  auto thrown = guarded("tool", "echo", []() -> Result<int> { throw std::runtime_error("x"); });
  EXPECT_NE(thrown.error().message.find("Internal error in tool 'echo' (id "), std::string::npos) << thrown.error().message;
}
