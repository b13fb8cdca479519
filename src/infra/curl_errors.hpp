// libcurl transport failures worth retrying: shared by the HTTP clients built on libcurl (the
// OpenAI-compatible embedder, the S3 client). Header-only, so infra itself does not link libcurl.
#pragma once
#include <curl/curl.h>

namespace mcpd::infra {

// Resolution, connection, timeout and broken-transfer errors: the same request may succeed later.
inline bool retryable_curl_error(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

}  // namespace mcpd::infra
