// The legacy HTTP+SSE transport (MCP 2024-11-05): GET /sse announces the POST endpoint,
// POST /messages?sessionId=ID carries client messages, every answer travels on the SSE stream.
#pragma once
#include "transport/http_context.hpp"
#include "transport/session_states.hpp"

namespace mcpd::transport {

class LegacySink;

class LegacySse {
 public:
  explicit LegacySse(HttpContext& context) : ctx_(context) {}
  void open(const Request& request, const ChannelPtr& channel, const std::string& principal);
  void message(const Request& request, const ChannelPtr& channel, const std::string& principal);

 private:
  HttpContext& ctx_;
  SessionStates<LegacySink> sinks_;  // the stream of each session opened here
};

}  // namespace mcpd::transport
