// Input-schema validation: what passes, what fails, and that the message names the problem.
#include <gtest/gtest.h>

#include "core/schema_validator.hpp"

using mcpd::core::validate_against_schema;
namespace json = boost::json;

namespace {
std::optional<std::string> check(const char* value, const char* schema) {
  return validate_against_schema(json::parse(value), json::parse(schema));
}
}  // namespace

TEST(SchemaValidator, TypesAndRequired) {
  const char* schema = R"({"type":"object","properties":{"n":{"type":"integer"},"s":{"type":"string"}},"required":["s"]})";
  EXPECT_FALSE(check(R"({"s":"x","n":3})", schema));
  EXPECT_FALSE(check(R"({"s":"x","n":3.0})", schema));  // 3.0 is an integer in JSON Schema
  auto missing = check(R"({"n":3})", schema);
  ASSERT_TRUE(missing);
  EXPECT_NE(missing->find("'s'"), std::string::npos);
  auto wrong = check(R"({"s":"x","n":"3"})", schema);
  ASSERT_TRUE(wrong);
  EXPECT_NE(wrong->find("'/n'"), std::string::npos);
  EXPECT_NE(wrong->find("integer"), std::string::npos);
  EXPECT_TRUE(check(R"([1])", schema));
}

TEST(SchemaValidator, BoundsEnumsPatternsAndArrays) {
  EXPECT_TRUE(check("0", R"({"type":"number","minimum":1})"));
  EXPECT_FALSE(check("1", R"({"type":"number","minimum":1})"));
  EXPECT_TRUE(check("1", R"({"exclusiveMinimum":1})"));
  EXPECT_TRUE(check(R"("toolong")", R"({"maxLength":3})"));
  EXPECT_FALSE(check(R"("été")", R"({"maxLength":3})"));  // code points, not bytes
  EXPECT_TRUE(check(R"("c")", R"({"enum":["a","b"]})"));
  EXPECT_TRUE(check(R"("abc")", R"({"pattern":"^[0-9]+$"})"));
  EXPECT_FALSE(check(R"("123")", R"({"pattern":"^[0-9]+$"})"));
  EXPECT_TRUE(check(R"([1,"x"])", R"({"type":"array","items":{"type":"integer"}})"));
  EXPECT_TRUE(check(R"([])", R"({"type":"array","minItems":1})"));
}

TEST(SchemaValidator, AdditionalPropertiesCompositionAndRefs) {
  const char* closed = R"({"type":"object","properties":{"a":{}},"additionalProperties":false})";
  auto extra = check(R"({"a":1,"b":2})", closed);
  ASSERT_TRUE(extra);
  EXPECT_NE(extra->find("unexpected argument 'b'"), std::string::npos);
  const char* any = R"({"anyOf":[{"required":["phone"]},{"required":["email"]}]})";
  EXPECT_FALSE(check(R"({"email":"x"})", any));
  EXPECT_TRUE(check(R"({})", any));
  EXPECT_TRUE(check(R"(1)", R"({"oneOf":[{"type":"integer"},{"type":"number"}]})"));  // matches both
  const char* ref = R"({"$defs":{"addr":{"type":"object","required":["city"]}},"properties":{"address":{"$ref":"#/$defs/addr"}}})";
  EXPECT_FALSE(check(R"({"address":{"city":"Paris"}})", ref));
  EXPECT_TRUE(check(R"({"address":{}})", ref));
  EXPECT_TRUE(check(R"({})", R"({"$ref":"#/$defs/missing"})"));
}

TEST(SchemaValidator, DeepNestingIsBoundedNotACrash) {
  std::string schema = R"({"$ref":"#"})";  // a self-reference: must stop, not recurse forever
  EXPECT_TRUE(validate_against_schema(json::parse("1"), json::parse(schema)));
}
