// Bucket and prefix allow-lists; see access_policy.hpp.
#include "packs/storage/access_policy.hpp"

#include <algorithm>

namespace mcpd::packs::storage {

namespace {

std::string listed(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "\"" : ", \"") + v + "\"";
  return out;
}

bool under_some(const std::string& value, const std::vector<std::string>& prefixes) {
  return std::any_of(prefixes.begin(), prefixes.end(), [&](const std::string& p) { return value.starts_with(p); });
}

// "a/../b": flat on S3, but a proxy or an S3-compatible server that tidies paths could turn it into
// a key outside the allowed prefix, so a store with a prefix allow-list refuses it.
bool has_dot_segment(const std::string& value) {
  std::size_t start = 0;
  for (;;) {
    const auto slash = value.find('/', start);
    const auto segment = value.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (segment == "." || segment == "..") return true;
    if (slash == std::string::npos) return false;
    start = slash + 1;
  }
}

}  // namespace

std::string AccessPolicy::bucket_problem(const std::string& bucket) const {
  if (buckets_.empty() || std::find(buckets_.begin(), buckets_.end(), bucket) != buckets_.end()) return {};
  return "the bucket \"" + bucket + "\" is not allowed on store '" + store_ + "'; allowed buckets: " + listed(buckets_);
}

std::string AccessPolicy::key_problem(const std::string& key) const {
  if (prefixes_.empty()) return {};
  if (has_dot_segment(key))
    return "the key \"" + key + "\" has a \".\" or \"..\" segment, which store '" + store_ +
           "' refuses because it has a prefix allow-list";
  if (under_some(key, prefixes_)) return {};
  return "the key \"" + key + "\" is outside the prefixes allowed on store '" + store_ + "'; use a key that starts with " +
         listed(prefixes_);
}

std::string AccessPolicy::list_prefix_problem(const std::string& prefix) const {
  if (prefixes_.empty()) return {};
  if (has_dot_segment(prefix))
    return "the prefix \"" + prefix + "\" has a \".\" or \"..\" segment, which store '" + store_ +
           "' refuses because it has a prefix allow-list";
  if (under_some(prefix, prefixes_)) return {};
  return "listing the prefix \"" + prefix + "\" is not allowed on store '" + store_ +
         "'; give a prefix that starts with " + listed(prefixes_);
}

}  // namespace mcpd::packs::storage
