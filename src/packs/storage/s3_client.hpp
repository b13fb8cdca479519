// An S3 client for the storage pack: list (ListObjectsV2), get (byte ranges, size cap), head, put,
// delete and presigned GET URLs, signed with SigV4 and sent over libcurl, for AWS S3 and
// S3-compatible servers (path-style addressing, custom endpoints). Calls block: run them on the
// worker pool. Thread-safe: concurrent calls each take their own libcurl handle.
//
// Calls answer with core::Result and never throw (only the constructor does, at start-up). A
// failure's message is one sentence without secrets or the endpoint (those go to Error::detail, for
// the log), its code is S3's error Code (NoSuchKey, AccessDenied, SignatureDoesNotMatch, ...) or,
// when S3 gave none, one of the client's own: Forbidden/BadRequest/PreconditionFailed from the
// status (HEAD answers have no body; a bare 404 is NoSuchKey), ConnectionFailed, Timeout,
// TransportError, ObjectTooLarge, MalformedResponse, InternalError, InvalidArgument (a bad bucket,
// key, range or content type, refused before anything is sent). Kinds:
//   NotFound         NoSuchKey, NoSuchBucket, 404;
//   Refused          wrong credentials, AccessDenied, 403;
//   InvalidArgument  refused before sending, ObjectTooLarge, InvalidRange, and every other answer
//                    about the request (3xx, 4xx): the same call fails again;
//   Unavailable      5xx, 429, SlowDown, RequestTimeout, connection and transfer failures;
//   Timeout          no answer within timeout_ms;
//   Internal         an answer that cannot be read, a transport failure retrying cannot fix (TLS
//                    verification, an unsupported redirect), or a library failure.
// Unavailable and Timeout, and only these, are transient: the same request may succeed later.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "packs/storage/sigv4.hpp"

namespace mcpd::packs::storage {

struct S3ClientConfig {
  // "http://127.0.0.1:9000", "https://s3.us-east-1.amazonaws.com", or a base path such as
  // "https://host/storage/v1/s3". Empty: AWS's endpoint for the region.
  std::string endpoint;
  std::string region = "us-east-1";
  // Unset: path style ("/bucket/key") for custom endpoints, virtual-hosted ("bucket.host/key") for
  // *.amazonaws.com. Buckets that are not DNS-safe labels (dots, upper case, '_') always use path
  // style: TLS wildcard certificates do not match them.
  std::optional<bool> path_style;
  sigv4::Credentials credentials;
  long timeout_ms = 30000;                       // whole request; 0 means no limit
  std::uint64_t max_object_bytes = 16ull << 20;  // get_object refuses larger bodies
};

// Whether the same request may succeed later (Unavailable or Timeout): worth a retry, and a
// failure of the endpoint itself rather than an answer about the request.
bool is_transient(const core::Error& error);

struct S3ObjectSummary {
  std::string key;
  std::uint64_t size = 0;
  std::string last_modified;  // as S3 sends it (ISO 8601)
  std::string etag;           // without the surrounding quotes
};

struct ListObjectsResult {
  std::vector<S3ObjectSummary> objects;
  std::vector<std::string> common_prefixes;  // with a delimiter: the "folders"
  bool is_truncated = false;
  std::string next_continuation_token;  // pass back to get the next page
};

struct ObjectInfo {
  std::string content_type;
  std::uint64_t content_length = 0;
  std::string etag;           // without the surrounding quotes
  std::string last_modified;  // as S3 sends it (RFC 7231 date)
};

struct GetObjectResult {
  std::string bytes;
  std::string content_type;
  std::uint64_t content_length = 0;  // of this answer (the range), not of the whole object
  std::string etag;
  std::string content_range;  // "bytes 0-9/100" for a range read; empty otherwise
  std::string last_modified;
};

class S3Client {
 public:
  // Throws std::invalid_argument when the endpoint is not an http(s) URL without user:password.
  explicit S3Client(S3ClientConfig config);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  // One page of keys under prefix; max_keys <= 0 leaves the server's default (1000).
  core::Result<ListObjectsResult> list_objects_v2(const std::string& bucket, const std::string& prefix = "",
                                                  const std::string& delimiter = "", int max_keys = 0,
                                                  const std::string& continuation_token = "") const;
  // range: "" for the whole object, else "bytes=first-last", "bytes=first-" or "bytes=-suffix".
  // Bodies above max_object_bytes are refused without being downloaded (ObjectTooLarge).
  core::Result<GetObjectResult> get_object(const std::string& bucket, const std::string& key,
                                           const std::string& range = "") const;
  core::Result<ObjectInfo> head_object(const std::string& bucket, const std::string& key) const;
  // The new object's ETag (without quotes).
  core::Result<std::string> put_object(const std::string& bucket, const std::string& key, std::string_view bytes,
                                       const std::string& content_type = "application/octet-stream") const;
  // Succeeds when the key does not exist, as S3 does.
  core::Status delete_object(const std::string& bucket, const std::string& key) const;
  // A URL anyone can GET for expires_seconds (1..604800) without credentials. It is a bearer
  // secret: never log it.
  core::Result<std::string> presign_get(const std::string& bucket, const std::string& key, long expires_seconds) const;
  core::Result<std::string> presign_get(const std::string& bucket, const std::string& key, long expires_seconds,
                                        std::chrono::system_clock::time_point now) const;

  // "http://127.0.0.1:9000": the endpoint as shown in the log and on /health.
  const std::string& endpoint() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mcpd::packs::storage
