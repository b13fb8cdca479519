// Typed tool argument readers; see arguments.hpp.
#include "core/arguments.hpp"

#include <cmath>

namespace mcpd::core {

namespace {

Error wrong(std::string_view key, std::string_view expected) {
  return Error::invalid_argument("'" + std::string(key) + "' must be " + std::string(expected));
}

std::string range(double min, double max) {
  auto show = [](double v) {
    if (std::floor(v) == v && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
    std::string s = std::to_string(v);
    while (!s.empty() && s.back() == '0') s.pop_back();
    return s;
  };
  return "from " + show(min) + " to " + show(max);
}

}  // namespace

const boost::json::value* Arguments::raw(std::string_view key) const {
  auto it = args_.find(key);
  return it == args_.end() ? nullptr : &it->value();
}

Result<std::string> Arguments::string(std::string_view key, bool allow_empty) const {
  const auto* v = raw(key);
  if (!v || v->is_null()) return Error::invalid_argument("'" + std::string(key) + "' is required");
  if (!v->is_string()) return wrong(key, "a string");
  if (!allow_empty && v->get_string().empty()) return wrong(key, "a non-empty string");
  return std::string(v->get_string());
}

Result<std::optional<std::string>> Arguments::optional_string(std::string_view key) const {
  const auto* v = raw(key);
  if (!v || v->is_null()) return std::optional<std::string>{};
  if (!v->is_string()) return wrong(key, "a string");
  return std::optional<std::string>{std::string(v->get_string())};
}

Result<std::int64_t> Arguments::integer(std::string_view key, std::int64_t fallback, std::int64_t min,
                                        std::int64_t max) const {
  const auto* v = raw(key);
  if (!v || v->is_null()) return fallback;
  std::optional<std::int64_t> n;
  if (v->is_int64()) n = v->get_int64();
  else if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) n = static_cast<std::int64_t>(v->get_uint64());
  else if (v->is_double() && std::floor(v->get_double()) == v->get_double() && std::fabs(v->get_double()) < 9e15)
    n = static_cast<std::int64_t>(v->get_double());
  if (!n || *n < min || *n > max)
    return wrong(key, "a whole number " + range(static_cast<double>(min), static_cast<double>(max)));
  return *n;
}

Result<double> Arguments::number(std::string_view key, double fallback, double min, double max) const {
  const auto* v = raw(key);
  if (!v || v->is_null()) return fallback;
  if (!v->is_number()) return wrong(key, "a number " + range(min, max));
  double d = v->to_number<double>();
  if (!(d >= min && d <= max)) return wrong(key, "a number " + range(min, max));
  return d;
}

Result<bool> Arguments::boolean(std::string_view key, bool fallback) const {
  const auto* v = raw(key);
  if (!v || v->is_null()) return fallback;
  if (!v->is_bool()) return wrong(key, "true or false");
  return v->get_bool();
}

Result<std::vector<std::string>> Arguments::strings(std::string_view key) const {
  const auto* v = raw(key);
  std::vector<std::string> out;
  if (!v || v->is_null()) return out;
  if (!v->is_array()) return wrong(key, "an array of strings");
  for (const auto& item : v->get_array()) {
    if (!item.is_string()) return wrong(key, "an array of strings");
    out.emplace_back(item.get_string());
  }
  return out;
}

}  // namespace mcpd::core
