// JSON Schema subset validator (hand-written: Debian 12 packages no C++ validator for Boost.JSON).
#include "core/schema_validator.hpp"

#include <cmath>
#include <regex>

namespace mcpd::core {
namespace json = boost::json;

namespace {

struct Validator {
  const json::value& root;
  int depth = 0;

  static std::string type_of(const json::value& v) {
    switch (v.kind()) {
      case json::kind::null: return "null";
      case json::kind::bool_: return "boolean";
      case json::kind::int64:
      case json::kind::uint64: return "integer";
      case json::kind::double_: return "number";
      case json::kind::string: return "string";
      case json::kind::array: return "array";
      case json::kind::object: return "object";
    }
    return "unknown";
  }

  static bool type_matches(const json::value& v, std::string_view t) {
    if (t == "number") return v.is_number();
    if (t == "integer") {
      if (v.is_int64() || v.is_uint64()) return true;
      if (v.is_double()) { double d = v.get_double(); return std::isfinite(d) && std::floor(d) == d; }
      return false;
    }
    return type_of(v) == t;
  }

  static double as_double(const json::value& v) {
    if (v.is_int64()) return static_cast<double>(v.get_int64());
    if (v.is_uint64()) return static_cast<double>(v.get_uint64());
    return v.get_double();
  }

  static std::size_t utf8_length(std::string_view s) {
    std::size_t n = 0;
    for (unsigned char c : s) if ((c & 0xC0) != 0x80) ++n;
    return n;
  }

  // Resolves a local reference such as "#/$defs/name"; nullptr when it does not exist.
  const json::value* resolve_ref(std::string_view ref) const {
    if (ref == "#") return &root;
    if (ref.rfind("#/", 0) != 0) return nullptr;
    const json::value* cur = &root;
    std::string_view rest = ref.substr(2);
    while (true) {
      if (!cur->is_object()) return nullptr;
      auto slash = rest.find('/');
      auto it = cur->get_object().find(rest.substr(0, slash));
      if (it == cur->get_object().end()) return nullptr;
      cur = &it->value();
      if (slash == std::string_view::npos) return cur;
      rest = rest.substr(slash + 1);
    }
  }

  std::optional<std::string> check(const json::value& v, const json::value& schema_value, const std::string& path) {
    if (schema_value.is_bool()) {
      if (schema_value.get_bool()) return std::nullopt;
      return at(path) + "is not allowed";
    }
    if (!schema_value.is_object()) return std::nullopt;
    if (++depth > 64) { --depth; return at(path) + "schema nesting is too deep"; }
    auto r = check_object(v, schema_value.get_object(), path);
    --depth;
    return r;
  }

  static std::string at(const std::string& path) { return path.empty() ? "arguments " : "'" + path + "' "; }

  std::optional<std::string> check_object(const json::value& v, const json::object& s, const std::string& path) {
    if (auto it = s.find("$ref"); it != s.end() && it->value().is_string()) {
      const json::value* target = resolve_ref(it->value().get_string());
      if (!target) return "schema reference " + std::string(it->value().get_string()) + " cannot be resolved";
      if (auto e = check(v, *target, path)) return e;
    }
    if (auto it = s.find("type"); it != s.end()) {
      bool ok = false;
      std::string wanted;
      if (it->value().is_string()) {
        wanted = std::string(it->value().get_string());
        ok = type_matches(v, wanted);
      } else if (it->value().is_array()) {
        for (const auto& t : it->value().get_array()) {
          if (!t.is_string()) continue;
          if (!wanted.empty()) wanted += " or ";
          wanted += std::string(t.get_string());
          ok = ok || type_matches(v, t.get_string());
        }
      } else {
        ok = true;
      }
      if (!ok) return at(path) + "must be of type " + wanted + ", got " + type_of(v);
    }
    if (auto it = s.find("enum"); it != s.end() && it->value().is_array()) {
      bool found = false;
      for (const auto& e : it->value().get_array()) found = found || e == v;
      if (!found) return at(path) + "must be one of " + json::serialize(it->value());
    }
    if (auto it = s.find("const"); it != s.end() && !(it->value() == v))
      return at(path) + "must equal " + json::serialize(it->value());

    if (v.is_number()) {
      double d = as_double(v);
      auto bound = [&](const char* key) -> std::optional<double> {
        auto b = s.find(key);
        if (b == s.end() || !b->value().is_number()) return std::nullopt;
        return as_double(b->value());
      };
      if (auto b = bound("minimum"); b && d < *b) return at(path) + "must be >= " + json::serialize(s.at("minimum"));
      if (auto b = bound("maximum"); b && d > *b) return at(path) + "must be <= " + json::serialize(s.at("maximum"));
      if (auto b = bound("exclusiveMinimum"); b && d <= *b) return at(path) + "must be > " + json::serialize(s.at("exclusiveMinimum"));
      if (auto b = bound("exclusiveMaximum"); b && d >= *b) return at(path) + "must be < " + json::serialize(s.at("exclusiveMaximum"));
    }
    if (v.is_string()) {
      std::string_view str = v.get_string();
      std::size_t len = utf8_length(str);
      if (auto b = s.find("minLength"); b != s.end() && b->value().is_number() && len < as_double(b->value()))
        return at(path) + "must be at least " + json::serialize(b->value()) + " characters long";
      if (auto b = s.find("maxLength"); b != s.end() && b->value().is_number() && len > as_double(b->value()))
        return at(path) + "must be at most " + json::serialize(b->value()) + " characters long";
      if (auto b = s.find("pattern"); b != s.end() && b->value().is_string()) {
        try {
          std::regex re(std::string(b->value().get_string()), std::regex::ECMAScript);
          if (!std::regex_search(str.begin(), str.end(), re))
            return at(path) + "must match the pattern " + std::string(b->value().get_string());
        } catch (const std::regex_error&) {
          // An unsupported pattern in a tool's own schema is not the caller's fault: skip it.
        }
      }
    }
    if (v.is_array()) {
      const auto& arr = v.get_array();
      if (auto b = s.find("minItems"); b != s.end() && b->value().is_number() && arr.size() < as_double(b->value()))
        return at(path) + "must have at least " + json::serialize(b->value()) + " items";
      if (auto b = s.find("maxItems"); b != s.end() && b->value().is_number() && arr.size() > as_double(b->value()))
        return at(path) + "must have at most " + json::serialize(b->value()) + " items";
      if (auto items = s.find("items"); items != s.end())
        for (std::size_t i = 0; i < arr.size(); ++i)
          if (auto e = check(arr[i], items->value(), path + "/" + std::to_string(i))) return e;
    }
    if (v.is_object()) {
      const auto& obj = v.get_object();
      if (auto req = s.find("required"); req != s.end() && req->value().is_array())
        for (const auto& name : req->value().get_array())
          if (name.is_string() && !obj.contains(name.get_string()))
            return "missing required argument '" + (path.empty() ? "" : path.substr(1) + "/") +
                   std::string(name.get_string()) + "'";
      const json::object* props = nullptr;
      if (auto p = s.find("properties"); p != s.end() && p->value().is_object()) props = &p->value().get_object();
      auto additional = s.find("additionalProperties");
      for (const auto& [key, val] : obj) {
        std::string child = path + "/" + std::string(key);
        if (props) {
          if (auto p = props->find(key); p != props->end()) {
            if (auto e = check(val, p->value(), child)) return e;
            continue;
          }
        }
        if (additional != s.end()) {
          if (auto e = check(val, additional->value(), child)) {
            if (additional->value().is_bool()) return "unexpected argument '" + child.substr(1) + "'";
            return e;
          }
        }
      }
    }
    for (const char* key : {"allOf", "anyOf", "oneOf"}) {
      auto it = s.find(key);
      if (it == s.end() || !it->value().is_array()) continue;
      int matched = 0;
      std::optional<std::string> first_error;
      for (const auto& sub : it->value().get_array()) {
        auto e = check(v, sub, path);
        if (!e) ++matched;
        else if (!first_error) first_error = e;
        if (std::string_view(key) == "allOf" && e) return e;
      }
      if (std::string_view(key) == "anyOf" && matched == 0) return first_error ? *first_error : at(path) + "matches no alternative";
      if (std::string_view(key) == "oneOf" && matched != 1)
        return at(path) + (matched == 0 ? "matches none of the alternatives" : "matches more than one alternative");
    }
    if (auto it = s.find("not"); it != s.end() && !check(v, it->value(), path))
      return at(path) + "matches a schema it must not match";
    return std::nullopt;
  }
};

}  // namespace

std::optional<std::string> validate_against_schema(const json::value& value, const json::value& schema) {
  Validator validator{schema};
  return validator.check(value, schema, "");
}

}  // namespace mcpd::core
