// MCP Streamable HTTP at /mcp: POST (JSON or SSE answers), GET (server stream, resumption), DELETE.
#pragma once
#include <optional>

#include "transport/http_context.hpp"
#include "transport/session_states.hpp"
#include "transport/sse_session_state.hpp"

namespace mcpd::transport {

class StreamableHttp {
 public:
  explicit StreamableHttp(HttpContext& context, std::optional<int> sse_retry_ms = std::nullopt)
      : ctx_(context), retry_ms_(sse_retry_ms) {}

  void post(Request&& request, const ChannelPtr& channel, const std::string& principal);
  void get(const Request& request, const ChannelPtr& channel, const std::string& principal);
  void del(const Request& request, const ChannelPtr& channel, const std::string& principal);

 private:
  // A JSON-RPC batch of `members` messages (counted from the text): refused unless the session
  // negotiated 2025-03-26 and the batch is within server.max_batch.
  void post_batch(const Request& request, std::size_t members, const ChannelPtr& channel, const std::string& principal);
  // The session named by Mcp-Session-Id, or an error response already sent.
  core::SessionPtr lookup(const Request& request, const ChannelPtr& channel, const std::string& principal);

  HttpContext& ctx_;
  std::optional<int> retry_ms_;
  SessionStates<SseSessionState> states_;  // the SSE side of each session opened here
};

}  // namespace mcpd::transport
