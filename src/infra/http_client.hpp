// The one HTTP client on libcurl for every pack that calls a web API (embeddings, S3, OpenProject,
// Google, Slack): retries with backoff and Retry-After, a circuit breaker, bounded answers, pooled
// connections, and debug logs that never show a secret. Its own library (mcpd_http_client), so
// only the plug-ins that use it link libcurl.
#pragma once
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "infra/resilience/circuit_breaker.hpp"
#include "infra/resilience/retry.hpp"

namespace mcpd::infra {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";
  std::string url;  // http:// or https:// only; the path is sent exactly as given (no ../ folding)
  HttpHeaders headers;
  std::string body;  // sent with POST, PUT, PATCH, or any method when not empty (never with HEAD)
  std::chrono::milliseconds timeout{30000};          // each attempt, whole exchange; 0: only the deadline
  std::chrono::milliseconds connect_timeout{10000};  // each attempt; 0: libcurl's default
  // Whether the request may be sent again after it reached the server. Unset: GET, HEAD, PUT,
  // DELETE and OPTIONS yes, anything else (POST, PATCH) no. A failure before anything was sent
  // (no DNS, connection refused) is always retried.
  std::optional<bool> idempotent;
  // Header names (any case) whose values are secrets, besides authorization, proxy-authorization,
  // x-api-key, cookie and x-amz-security-token, which always are. Header values are never logged;
  // these are also scrubbed from every error text the client builds.
  std::vector<std::string> redact;
  // True when the path itself is a secret (a Slack webhook URL): logs show only the host.
  bool redact_path = false;
  std::size_t max_response_bytes = 0;  // 0: the client's limit
};

struct HttpResponse {
  long status = 0;
  HttpHeaders headers;  // names in lower case, values trimmed, in arrival order
  std::string body;     // empty for HEAD
  int attempts = 1;     // how many times the request was sent

  // The first value of a header (name in lower case), or "" when absent.
  std::string header(std::string_view lower_case_name) const;
  bool ok() const { return status >= 200 && status < 300; }
};

struct HttpClientOptions {
  // How messages and logs call the backend: "the embeddings endpoint https://api.openai.com/v1",
  // "OpenProject". Never put a credential in it.
  std::string name = "the HTTP backend";
  RetryPolicy retry{};             // attempts in total, exponential backoff with full jitter
  CircuitBreakerConfig breaker{};  // consecutive failed calls before it opens, and for how long
  std::string user_agent = "mcpd";
  std::size_t max_response_bytes = std::size_t{16} << 20;  // a larger answer is an error, never half kept
  std::chrono::milliseconds retry_after_cap{10000};        // a longer Retry-After waits this long
  std::vector<long> retry_statuses{429, 502, 503, 504};    // answers worth another attempt
  bool accept_compressed = false;  // ask for gzip/deflate/br and decompress (not for byte-exact bodies)
  std::size_t max_idle_connections = 8;  // kept open for reuse
};

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options = {});  // throws std::runtime_error if libcurl fails to start
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends the request, retrying what may be retried within `deadline`, and returns the answer,
  // whatever its status: the caller interprets non-2xx answers (after retries on a retryable
  // status, the last one). Errors, each with one sentence for the user and a detail for the log:
  //   InvalidArgument  a URL that is not http(s), a header with a line break (nothing sent)
  //   Unavailable      unreachable or broken exchange; code "CircuitOpen" when the breaker refused
  //                    (nothing sent), "ConnectionFailed" or "TransportError" otherwise
  //   Timeout          no answer within the timeout or the deadline (code "Timeout")
  //   Refused          the answer exceeded max_response_bytes (code "ResponseTooLarge")
  // Thread-safe: any number of threads may send at once. Blocks: call it on the worker pool.
  core::Result<HttpResponse> send(const HttpRequest& request,
                                  std::chrono::steady_clock::time_point deadline =
                                      std::chrono::steady_clock::time_point::max()) const;

  // For health checks: open means calls fail fast without reaching the backend.
  const CircuitBreaker& breaker() const;
  const std::string& name() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mcpd::infra
