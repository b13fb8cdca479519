// Validates tool arguments against a tool's inputSchema before the handler runs.
// A JSON Schema (2020-12) subset: type, properties, required, additionalProperties, items, enum,
// const, numeric and length bounds, pattern, anyOf/oneOf/allOf/not and local $ref.
#pragma once
#include <boost/json.hpp>
#include <optional>
#include <string>

namespace mcpd::core {

// Returns nullopt when `value` satisfies `schema`, else one sentence naming the first violation
// and where it is (a JSON pointer into the arguments).
std::optional<std::string> validate_against_schema(const boost::json::value& value,
                                                   const boost::json::value& schema);

}  // namespace mcpd::core
