// A store's allow-lists: which buckets, and which key prefixes, the tools may touch. Empty lists
// allow everything. Each check answers with an Error when the request may not go ahead: a name no
// store accepts is InvalidArgument, a name outside the lists is Refused, naming the allowed values
// so the caller knows what to ask for instead. Every check applies the rules of object_key.hpp
// first, whatever the lists: a key a server could resolve elsewhere escapes them all.
#pragma once
#include <string>
#include <vector>

#include "core/result.hpp"

namespace mcpd::packs::storage {

class AccessPolicy {
 public:
  AccessPolicy(std::string store, std::vector<std::string> buckets, std::vector<std::string> prefixes)
      : store_(std::move(store)), buckets_(std::move(buckets)), prefixes_(std::move(prefixes)) {}

  core::Status check_bucket(const std::string& bucket) const;
  // A key is allowed when it starts with one of the prefixes.
  core::Status check_key(const std::string& key) const;
  // A listing is allowed when its prefix starts with one of the prefixes, so that everything it can
  // return is allowed too.
  core::Status check_list_prefix(const std::string& prefix) const;

 private:
  std::string store_;
  std::vector<std::string> buckets_;
  std::vector<std::string> prefixes_;
};

}  // namespace mcpd::packs::storage
