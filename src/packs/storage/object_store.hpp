// The storage pack's view of an object store (a local directory or an S3 endpoint): list, get, head,
// put, delete and presigned URLs, answering with core::Result, so the tools never need to know which
// kind of store answers them. Failures are values, never exceptions. The kinds a store answers with:
//   InvalidArgument  a bad bucket name, key, range or token, or an object above max_object_bytes
//                    (the message says to read it in parts): the caller must change the request;
//   NotFound         no such key or bucket;
//   Refused          refused by the store (credentials, permissions, a symbolic link), or a call
//                    the store cannot make (a presigned URL for a local directory);
//   Unavailable      the backend is down, overloaded or its circuit breaker is open: try again later;
//   Timeout          the backend did not answer in time: try again later;
//   Internal         an unexpected failure (an answer that cannot be read, a library failure).
// Error::code is S3's error code (NoSuchKey, AccessDenied, ...) or the local store's equivalent.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace mcpd::packs::storage {

using core::Result;
using core::Status;

struct ObjectSummary {
  std::string key;
  std::uint64_t size = 0;
  std::string last_modified;  // ISO 8601, UTC
  std::string etag;           // without quotes
};

struct ListRequest {
  std::string bucket;
  std::string prefix;
  std::string delimiter;
  int max_keys = 1000;  // 1..1000
  std::string continuation_token;
};

struct ListPage {
  std::vector<ObjectSummary> objects;
  std::vector<std::string> common_prefixes;  // with a delimiter: the "folders"
  bool is_truncated = false;
  std::string next_continuation_token;  // opaque; pass it back unchanged for the next page
};

struct ObjectMeta {
  std::string key;
  std::uint64_t size = 0;  // of the whole object
  std::string content_type;
  std::string etag;
  std::string last_modified;  // ISO 8601, UTC
};

struct ObjectData {
  ObjectMeta info;             // info.size is the whole object's size when known
  std::string bytes;           // the object, or the requested range of it
  std::string content_range;   // "bytes 0-9/100" for a range read; empty otherwise
};

struct PutOutcome {
  std::string etag;
  std::uint64_t size = 0;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  virtual std::string_view type() const = 0;  // "local" | "s3"
  // Where the store lives, for messages and logs: a directory or an endpoint (never credentials).
  virtual std::string location() const = 0;

  virtual Result<ListPage> list(const ListRequest& request) = 0;
  // range: "" for the whole object, else "bytes=FIRST-LAST", "bytes=FIRST-" or "bytes=-COUNT".
  // Objects (or ranges) above the store's size cap are refused (InvalidArgument, code ObjectTooLarge).
  virtual Result<ObjectData> get(const std::string& bucket, const std::string& key, const std::string& range) = 0;
  virtual Result<ObjectMeta> head(const std::string& bucket, const std::string& key) = 0;
  virtual Result<PutOutcome> put(const std::string& bucket, const std::string& key, std::string_view bytes,
                                 const std::string& content_type) = 0;
  // Succeeds when the key does not exist, as S3 does.
  virtual Status remove(const std::string& bucket, const std::string& key) = 0;
  // A URL that reads the object without credentials until it expires. A bearer secret: never log it.
  virtual Result<std::string> presign_get(const std::string& bucket, const std::string& key, long expires_seconds) = 0;

  // "ok", or a short reason the store cannot serve ("connection refused", "circuit open ...").
  // `probe_bucket` is a bucket the check may look at (the store's default bucket; may be empty).
  virtual std::string health(const std::string& probe_bucket) = 0;
};

}  // namespace mcpd::packs::storage
