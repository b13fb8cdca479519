// The HTTP front door: DNS-rebinding guard, authentication, draining, metrics, then routing to
// Streamable HTTP, legacy SSE and the REST facade.
#pragma once
#include <atomic>
#include <functional>

#include "transport/http_context.hpp"
#include "transport/http_server.hpp"
#include "transport/legacy_sse.hpp"
#include "transport/rest_facade.hpp"
#include "transport/streamable_http.hpp"

namespace mcpd::transport {

class McpRouter : public Router {
 public:
  explicit McpRouter(HttpContext& context) : ctx_(context), endpoints_{context, StreamableHttp(context), LegacySse(context), RestFacade(context)} {}

  // What the built-in routes serve (the route table is in mcp_router.cpp).
  struct Endpoints {
    HttpContext& ctx;
    StreamableHttp streamable;
    LegacySse legacy;
    RestFacade rest;
    // GET /: the endpoints (from the route table and the packs' routes) and the server's description.
    void describe_api(const Request& request, const ChannelPtr& channel) const;
  };

  void handle(Request&& request, const ChannelPtr& channel, const ConnectionInfo& info) override;

  // While draining, new work is refused with 503 (health checks still answer).
  void start_draining() { draining_.store(true); }
  std::size_t in_flight() const { return in_flight_->load(); }

 private:
  // Builds a refusal with the body of the request's surface.
  using Refusal = std::function<Response(unsigned status, std::string_view message)>;
  // True when `principal` is over its request rate; the 429 with Retry-After is then sent.
  bool over_rate_limit(const std::string& principal, const ChannelPtr& channel, const Refusal& refusal);
  void run_route(const core::HttpRoute& route, Request&& request, const ChannelPtr& channel, const std::string& principal);

  HttpContext& ctx_;
  Endpoints endpoints_;
  std::atomic<bool> draining_{false};
  std::shared_ptr<std::atomic<std::size_t>> in_flight_ = std::make_shared<std::atomic<std::size_t>>(0);
};

}  // namespace mcpd::transport
