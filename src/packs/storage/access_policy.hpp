// A store's allow-lists: which buckets, and which key prefixes, the tools may touch. Empty lists
// allow everything. Each check returns why a request is refused (empty when it is allowed), naming
// the allowed values so the caller knows what to ask for instead. Every check applies the rules of
// object_key.hpp first, whatever the lists: a key a server could resolve elsewhere escapes them all.
#pragma once
#include <string>
#include <vector>

namespace mcpd::packs::storage {

class AccessPolicy {
 public:
  AccessPolicy(std::string store, std::vector<std::string> buckets, std::vector<std::string> prefixes)
      : store_(std::move(store)), buckets_(std::move(buckets)), prefixes_(std::move(prefixes)) {}

  std::string bucket_problem(const std::string& bucket) const;
  // A key is allowed when it starts with one of the prefixes.
  std::string key_problem(const std::string& key) const;
  // A listing is allowed when its prefix starts with one of the prefixes, so that everything it can
  // return is allowed too.
  std::string list_prefix_problem(const std::string& prefix) const;

 private:
  std::string store_;
  std::vector<std::string> buckets_;
  std::vector<std::string> prefixes_;
};

}  // namespace mcpd::packs::storage
