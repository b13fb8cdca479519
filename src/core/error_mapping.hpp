// How an Error reaches each surface: a JSON-RPC error or an HTTP status. (Tool calls turn errors
// into isError results; see Dispatcher::tools_call.)
#pragma once
#include "core/json_rpc.hpp"
#include "core/result.hpp"

namespace mcpd::core {

namespace error_code {
// The worker queue is full: retry after data.retryAfterSeconds. In the implementation-defined
// server-error range, away from the codes the SDKs use for their own transport errors.
inline constexpr int kServerBusy = -32010;
}  // namespace error_code

inline constexpr int kRetryAfterSeconds = 1;

// NotFound maps to `not_found_code` (-32002 for resources/read, else -32602).
RpcError to_rpc_error(const Error& error, int not_found_code = error_code::kInvalidParams);

// 400 invalid argument, 404 not found, 403 refused, 503 unavailable or busy, 504 timeout, 500 internal.
unsigned http_status(ErrorKind kind);

}  // namespace mcpd::core
