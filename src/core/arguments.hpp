// Typed readers over a tool's arguments. The input schema has already been checked by the dispatcher,
// so these mostly add what a schema does not say well (defaults, ranges, non-empty strings), and every
// failure is an InvalidArgument Error that names the argument and says what is expected.
#pragma once
#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace mcpd::core {

class Arguments {
 public:
  explicit Arguments(const boost::json::object& args) : args_(args) {}

  // A string that must be present (and, unless allow_empty, not empty).
  Result<std::string> string(std::string_view key, bool allow_empty = false) const;
  // A string, or nullopt when absent or null; an error when present with another type.
  Result<std::optional<std::string>> optional_string(std::string_view key) const;
  // A whole number within [min, max]; `fallback` when absent or null.
  Result<std::int64_t> integer(std::string_view key, std::int64_t fallback, std::int64_t min, std::int64_t max) const;
  // A number within [min, max]; `fallback` when absent or null.
  Result<double> number(std::string_view key, double fallback, double min, double max) const;
  // true or false; `fallback` when absent or null.
  Result<bool> boolean(std::string_view key, bool fallback) const;
  // An array of strings; empty when absent or null.
  Result<std::vector<std::string>> strings(std::string_view key) const;
  // The raw value, or nullptr when absent.
  const boost::json::value* raw(std::string_view key) const;

 private:
  const boost::json::object& args_;
};

}  // namespace mcpd::core
