// The storage pack's settings: [packs.storage] and its [[packs.storage.stores]], with the
// zero-configuration defaults (a local folder under the data directory, plus an S3 store when
// S3_BUCKET is set) and the standard AWS_* variables for what a store leaves out. Parsing throws
// std::invalid_argument with one sentence naming the setting; nothing here touches the network.
#pragma once
#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "packs/storage/sigv4.hpp"

namespace mcpd::packs::storage {

struct StoreConfig {
  std::string name;
  std::string type;  // "local" | "s3"
  std::string root;  // local: the folder that holds the buckets
  // s3:
  std::string endpoint;  // empty: AWS for the region
  std::string region = "us-east-1";
  std::optional<bool> path_style;
  sigv4::Credentials credentials;
  // both:
  std::string bucket;                 // the default bucket; may be empty
  std::vector<std::string> buckets;   // allow-list; empty allows every bucket
  std::vector<std::string> prefixes;  // allow-list of key prefixes; empty allows every key
  bool allow_writes = false;
  long timeout_ms = 10000;
  int breaker_failures = 5;
  std::chrono::milliseconds breaker_open_for{std::chrono::seconds(60)};
  int retries = 3;
  bool seed_readme = false;  // zero configuration: create the default bucket with a README.txt
};

struct StorageConfig {
  bool allow_writes = false;
  std::uint64_t max_object_bytes = 10485760;
  std::vector<StoreConfig> stores;  // never empty
};

// Reads an environment variable; empty values count as unset. Tests pass their own.
using EnvLookup = std::function<std::optional<std::string>(const char* name)>;
std::optional<std::string> process_env(const char* name);

StorageConfig parse_storage_config(const boost::json::object& settings, const std::string& data_dir,
                                   const EnvLookup& env = process_env);

}  // namespace mcpd::packs::storage
