// Error → JSON-RPC error and HTTP status, in one place for every transport.
#include "core/error_mapping.hpp"

namespace mcpd::core {

RpcError to_rpc_error(const Error& error, int not_found_code) {
  json::value data = error.data;
  int code = error_code::kInternalError;
  switch (error.kind) {
    case ErrorKind::InvalidArgument:
    case ErrorKind::Refused: code = error_code::kInvalidParams; break;
    case ErrorKind::NotFound: code = not_found_code; break;
    case ErrorKind::Busy:
      code = error_code::kServerBusy;
      if (data.is_null()) data = json::object{{"retryAfterSeconds", kRetryAfterSeconds}};
      break;
    case ErrorKind::Unavailable:
    case ErrorKind::Timeout:
    case ErrorKind::Internal: code = error_code::kInternalError; break;
  }
  return RpcError{code, error.message, std::move(data)};
}

unsigned http_status(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::InvalidArgument: return 400;
    case ErrorKind::NotFound: return 404;
    case ErrorKind::Refused: return 403;
    case ErrorKind::Unavailable:
    case ErrorKind::Busy: return 503;
    case ErrorKind::Timeout: return 504;
    case ErrorKind::Internal: return 500;
  }
  return 500;
}

}  // namespace mcpd::core
