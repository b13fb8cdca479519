// AWS Signature Version 4 for S3, as pure functions: canonical request, string to sign, signing
// key, Authorization header and presigned query strings. No I/O and no clock: the caller passes
// the time, so every step can be checked against AWS's published examples.
#pragma once
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace mcpd::packs::storage::sigv4 {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // temporary (STS) credentials only; empty otherwise
};

inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
// sha256("") in hex: the payload hash of GET, HEAD and DELETE requests.
inline constexpr std::string_view kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
inline constexpr long kMaxPresignExpirySeconds = 604800;  // seven days, AWS's limit

struct QueryParam {
  std::string name;   // raw, not yet percent-encoded
  std::string value;  // raw; an empty value is signed as "name="
};

struct Header {
  std::string name;  // any case
  std::string value;
};

// What the signer needs to know about one HTTP request.
struct Request {
  std::string method = "GET";
  // The raw (decoded) path, e.g. "/bucket/my key.txt". It is encoded exactly once, so the same
  // encoding must go on the wire: see canonical_uri().
  std::string path = "/";
  std::vector<QueryParam> query;
  // Must include Host (as sent, with the port when it is not the scheme's default). Headers that
  // must not be signed (User-Agent, Content-Length, Expect) are simply left out of this list.
  std::vector<Header> headers;
  // Hex sha256 of the body, or kUnsignedPayload. Sent as x-amz-content-sha256 too.
  std::string payload_hash = std::string(kEmptyPayloadSha256);
};

// Where a signature is valid.
struct Scope {
  std::string region = "us-east-1";
  std::string service = "s3";
};

// AWS's URI encoding: A-Z a-z 0-9 - . _ ~ are kept, every other byte becomes %XX (upper case).
// '/' is kept only when encode_slash is false (object key paths); query names and values encode it.
std::string uri_encode(std::string_view raw, bool encode_slash);

// The path as signed and as sent: each byte encoded once, '/' kept; an empty path is "/".
std::string canonical_uri(std::string_view raw_path);

// Parameters encoded, then sorted by name and value, joined with '&'. Also the wire query string.
std::string canonical_query_string(const std::vector<QueryParam>& params);

struct CanonicalHeaders {
  std::string block;           // "name:value\n" per header: lower-case names, trimmed values, sorted
  std::string signed_headers;  // "host;range;x-amz-date"
};
// Names lower-cased, values trimmed with inner runs of spaces collapsed, repeated names joined
// with ',', then sorted by name.
CanonicalHeaders canonical_headers(const std::vector<Header>& headers);

std::string sha256_hex(std::string_view data);

// "20130524T000000Z" and "20130524" for a moment, in UTC.
std::string amz_date(std::chrono::system_clock::time_point when);
std::string date_stamp(std::chrono::system_clock::time_point when);

// "20130524/us-east-1/s3/aws4_request".
std::string credential_scope(std::string_view date_stamp, const Scope& scope);

// method \n canonical URI \n canonical query \n canonical headers \n signed headers \n payload hash.
std::string canonical_request(const Request& request);

// AWS4-HMAC-SHA256 \n amz date \n credential scope \n hex sha256 of the canonical request.
std::string string_to_sign(std::string_view amz_date, std::string_view credential_scope,
                           std::string_view canonical_request);

// HMAC chain "AWS4"+secret → date → region → service → "aws4_request". Raw 32 bytes, not hex.
std::string signing_key(std::string_view secret_access_key, std::string_view date_stamp, const Scope& scope);

// Hex HMAC-SHA256 of the string to sign under the signing key.
std::string signature(std::string_view signing_key, std::string_view string_to_sign);

// A request signed for the Authorization header.
struct SignedRequest {
  std::vector<Header> headers;  // the request's headers plus x-amz-date, x-amz-content-sha256,
                                // x-amz-security-token (when there is a session token), Authorization
  std::string authorization;    // the Authorization header's value
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;
};

// Adds x-amz-date, x-amz-content-sha256 and (with a session token) x-amz-security-token unless the
// request already carries them, signs every header of the request, and builds Authorization.
SignedRequest sign_request(const Request& request, const Credentials& credentials, const Scope& scope,
                           std::chrono::system_clock::time_point now);

// A request signed in its query string (a presigned URL).
struct PresignedRequest {
  std::string query;  // the full query string to send, X-Amz-Signature last
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;
};

// Signs with X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders
// and (with a session token) X-Amz-Security-Token in the query; the payload is UNSIGNED-PAYLOAD.
// The request's headers (at least Host) are the signed headers the URL's user must send.
// Throws std::invalid_argument when expires_seconds is outside 1..604800.
PresignedRequest presign(const Request& request, const Credentials& credentials, const Scope& scope,
                         std::chrono::system_clock::time_point now, long expires_seconds);

}  // namespace mcpd::packs::storage::sigv4
