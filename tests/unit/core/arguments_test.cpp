// Typed argument readers: defaults, ranges, and errors that name the argument.
#include <gtest/gtest.h>

#include "core/arguments.hpp"

using namespace mcpd::core;
namespace json = boost::json;

TEST(Arguments, ReadsTypedValuesWithDefaults) {
  auto o = json::parse(R"({"q":"hello","limit":5,"f":0.5,"flag":true,"tags":["a","b"],"n":null})").as_object();
  Arguments a(o);
  EXPECT_EQ(*a.string("q"), "hello");
  EXPECT_EQ(*a.integer("limit", 10, 1, 100), 5);
  EXPECT_EQ(*a.integer("absent", 10, 1, 100), 10);
  EXPECT_EQ(*a.integer("n", 10, 1, 100), 10);
  EXPECT_DOUBLE_EQ(*a.number("f", 0, 0, 1), 0.5);
  EXPECT_TRUE(*a.boolean("flag", false));
  EXPECT_EQ(*a.strings("tags"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(a.strings("absent")->empty());
  EXPECT_FALSE(a.optional_string("absent")->has_value());
  EXPECT_EQ(a.optional_string("q")->value(), "hello");
}

TEST(Arguments, EveryFailureIsAnInvalidArgumentThatNamesTheArgument) {
  auto o = json::parse(R"({"q":"","limit":500,"frac":2.5,"flag":"yes","tags":["a",1],"big":1.5,"s":3})").as_object();
  Arguments a(o);
  auto expect = [](const auto& r, std::string_view message) {
    ASSERT_TRUE(r.failed());
    EXPECT_EQ(r.error().kind, ErrorKind::InvalidArgument);
    EXPECT_EQ(r.error().message, message);
  };
  expect(a.string("q"), "'q' must be a non-empty string");
  EXPECT_EQ(*a.string("q", true), "");
  expect(a.string("missing"), "'missing' is required");
  expect(a.string("s"), "'s' must be a string");
  expect(a.optional_string("s"), "'s' must be a string");
  expect(a.integer("limit", 10, 1, 100), "'limit' must be a whole number from 1 to 100");
  expect(a.integer("big", 10, 1, 100), "'big' must be a whole number from 1 to 100");
  expect(a.number("frac", 0, 0, 1), "'frac' must be a number from 0 to 1");
  expect(a.boolean("flag", false), "'flag' must be true or false");
  expect(a.strings("tags"), "'tags' must be an array of strings");
}
