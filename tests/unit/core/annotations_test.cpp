// Tool annotations: one vocabulary for every pack.
#include <gtest/gtest.h>

#include "core/annotations.hpp"

using namespace mcpd::core;
namespace json = boost::json;

TEST(Annotations, SayWhatATouchDoesInTheSameFourHints) {
  EXPECT_EQ(json::serialize(read_only()),
            R"({"readOnlyHint":true,"destructiveHint":false,"idempotentHint":true,"openWorldHint":false})");
  EXPECT_EQ(json::serialize(read_only({.open_world = true})),
            R"({"readOnlyHint":true,"destructiveHint":false,"idempotentHint":true,"openWorldHint":true})");
  EXPECT_EQ(json::serialize(writes({.idempotent = false})),
            R"({"readOnlyHint":false,"destructiveHint":false,"idempotentHint":false,"openWorldHint":false})");
  EXPECT_EQ(json::serialize(destructive()),
            R"({"readOnlyHint":false,"destructiveHint":true,"idempotentHint":true,"openWorldHint":false})");
}
