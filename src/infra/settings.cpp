// Typed reading of a pack's settings; see settings.hpp.
#include "infra/settings.hpp"

#include <algorithm>
#include <cstdlib>

namespace mcpd::infra {

namespace json = boost::json;

SettingsError::SettingsError(std::string path, std::string problem)
    : std::invalid_argument(path.empty() ? problem : path + ": " + problem),
      path_(std::move(path)),
      problem_(std::move(problem)) {}

SettingsError::~SettingsError() = default;

SettingsReader::SettingsReader(const json::object& object, std::string path) : object_(&object), path_(std::move(path)) {}

std::string SettingsReader::path_of(std::string_view key) const {
  if (path_.empty()) return std::string(key);
  if (key.empty()) return path_;
  return path_ + "." + std::string(key);
}

void SettingsReader::fail(std::string_view key, std::string problem) const {
  throw SettingsError(path_of(key), std::move(problem));
}

void SettingsReader::reject_unknown(std::initializer_list<std::string_view> known, std::string_view hint) const {
  for (const auto& [key, value] : *object_) {
    if (std::find(known.begin(), known.end(), std::string_view(key)) != known.end()) continue;
    std::string list;
    std::vector<std::string_view> sorted(known);
    std::sort(sorted.begin(), sorted.end());
    for (auto k : sorted) list += (list.empty() ? "" : ", ") + std::string(k);
    fail({}, "unknown setting '" + std::string(key) + "' (" +
                 (hint.empty() ? "known: " + (list.empty() ? std::string("none") : list) : std::string(hint)) + ")");
  }
}

std::string SettingsReader::string(std::string_view key, std::string fallback) const {
  return optional_string(key).value_or(std::move(fallback));
}

std::optional<std::string> SettingsReader::optional_string(std::string_view key) const {
  auto v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_string()) fail(key, "must be a string");
  return std::string(v->get_string());
}

bool SettingsReader::boolean(std::string_view key, bool fallback) const {
  return optional_boolean(key).value_or(fallback);
}

std::optional<bool> SettingsReader::optional_boolean(std::string_view key) const {
  auto v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_bool()) fail(key, "must be true or false");
  return v->get_bool();
}

std::int64_t SettingsReader::integer(std::string_view key, std::int64_t fallback, std::int64_t lo, std::int64_t hi) const {
  auto v = find(key);
  if (!v) return fallback;
  if (!v->is_int64() || v->get_int64() < lo || v->get_int64() > hi)
    fail(key, "must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
  return v->get_int64();
}

std::vector<std::string> SettingsReader::strings(std::string_view key) const {
  std::vector<std::string> out;
  auto v = find(key);
  if (!v) return out;
  if (!v->is_array()) fail(key, "must be a list of strings");
  for (const auto& s : v->get_array()) {
    if (!s.is_string() || s.get_string().empty()) fail(key, "must be a list of non-empty strings");
    out.emplace_back(s.get_string());
  }
  return out;
}

SettingsReader SettingsReader::table(std::string_view key) const {
  static const json::object kEmpty;
  auto v = find(key);
  if (v && !v->is_object()) fail(key, "must be a table");
  return SettingsReader(v ? v->get_object() : kEmpty, path_of(key));
}

std::optional<std::string> env_value(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::nullopt;
  return std::string(v);
}

bool valid_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

}  // namespace mcpd::infra
