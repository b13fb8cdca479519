// Reading a pack's settings (its [packs.<name>] table, as JSON): typed values with defaults and
// ranges, unknown keys refused, and every problem reported in one sentence that names the key path,
// e.g. "stores.a.timeout_ms: must be an integer from 100 to 600000".
#pragma once
#include <boost/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace mcpd::infra {

// A bad setting. what() is "<path>: <problem>", or just the problem when the path is empty.
class SettingsError : public std::invalid_argument {
 public:
  SettingsError(std::string path, std::string problem);
  ~SettingsError() override;
  const std::string& path() const { return path_; }        // "stores.a.timeout_ms"; empty: the pack's table
  const std::string& problem() const { return problem_; }  // "must be an integer from 100 to 600000"

 private:
  std::string path_;
  std::string problem_;
};

// Reads one table of settings. `path` names the table in messages ("stores.a"; empty for the pack's
// own table). A missing key yields the fallback; a present one of the wrong type or out of range
// throws SettingsError. The reader refers to `object`, which must outlive it.
class SettingsReader {
 public:
  explicit SettingsReader(const boost::json::object& object, std::string path = {});

  const std::string& path() const { return path_; }
  std::string path_of(std::string_view key) const;  // "stores.a" + "root" -> "stores.a.root"
  bool has(std::string_view key) const { return object_->contains(key); }
  const boost::json::value* find(std::string_view key) const { return object_->if_contains(key); }

  // Throws SettingsError for `key` (empty: the table itself).
  [[noreturn]] void fail(std::string_view key, std::string problem) const;

  // "unknown setting 'k' (known: a, b, c)" for the first key not listed; `hint` replaces the list
  // of known keys in the parenthesis when given.
  void reject_unknown(std::initializer_list<std::string_view> known, std::string_view hint = {}) const;

  std::string string(std::string_view key, std::string fallback = {}) const;
  std::optional<std::string> optional_string(std::string_view key) const;
  bool boolean(std::string_view key, bool fallback) const;
  std::optional<bool> optional_boolean(std::string_view key) const;
  // An integer from lo to hi (both included).
  std::int64_t integer(std::string_view key, std::int64_t fallback, std::int64_t lo, std::int64_t hi) const;
  // A list of non-empty strings; empty when the key is missing.
  std::vector<std::string> strings(std::string_view key) const;
  // The nested table `key` ([packs.<name>.<key>]), named "<path>.<key>" in messages; an empty
  // table when the key is missing.
  SettingsReader table(std::string_view key) const;

 private:
  const boost::json::object* object_;
  std::string path_;
};

// The process environment variable `name`; unset and empty both give nullopt.
std::optional<std::string> env_value(const char* name);

// A name that packs put in URIs and messages (a source, a store): 1 to 64 ASCII letters, digits,
// '_' or '-'.
bool valid_name(std::string_view name);

}  // namespace mcpd::infra
