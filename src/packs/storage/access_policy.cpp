// Bucket and prefix allow-lists; see access_policy.hpp.
#include "packs/storage/access_policy.hpp"

#include <algorithm>

#include "packs/storage/object_key.hpp"

namespace mcpd::packs::storage {

using core::Error;

namespace {

std::string listed(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "\"" : ", \"") + v + "\"";
  return out;
}

bool under_some(const std::string& value, const std::vector<std::string>& prefixes) {
  return std::any_of(prefixes.begin(), prefixes.end(), [&](const std::string& p) { return value.starts_with(p); });
}

}  // namespace

core::Status AccessPolicy::check_bucket(const std::string& bucket) const {
  if (auto problem = bucket_name_problem(bucket); !problem.empty())
    return Error::invalid_argument(std::move(problem)).with_code("InvalidBucketName");
  if (buckets_.empty() || std::find(buckets_.begin(), buckets_.end(), bucket) != buckets_.end()) return {};
  return Error::refused("the bucket \"" + bucket + "\" is not allowed on store '" + store_ + "'; allowed buckets: " +
                        listed(buckets_))
      .with_code("AccessDenied");
}

core::Status AccessPolicy::check_key(const std::string& key) const {
  // First, whatever the allow-lists: a key that a server could resolve elsewhere escapes them all.
  if (auto problem = object_key_problem(key); !problem.empty())
    return Error::invalid_argument(std::move(problem)).with_code("InvalidArgument");
  if (prefixes_.empty() || under_some(key, prefixes_)) return {};
  return Error::refused("the key \"" + key + "\" is outside the prefixes allowed on store '" + store_ +
                        "'; use a key that starts with " + listed(prefixes_))
      .with_code("AccessDenied");
}

core::Status AccessPolicy::check_list_prefix(const std::string& prefix) const {
  if (auto problem = list_prefix_problem(prefix); !problem.empty())
    return Error::invalid_argument(std::move(problem)).with_code("InvalidArgument");
  if (prefixes_.empty() || under_some(prefix, prefixes_)) return {};
  return Error::refused("listing the prefix \"" + prefix + "\" is not allowed on store '" + store_ +
                        "'; give a prefix that starts with " + listed(prefixes_))
      .with_code("AccessDenied");
}

}  // namespace mcpd::packs::storage
