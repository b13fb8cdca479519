// Routing table of the HTTP listener(s).
#include "transport/mcp_router.hpp"

#include <chrono>
#include <cmath>
#include <vector>

#include "core/fault.hpp"
#include "core/json_rpc.hpp"
#include "infra/logging.hpp"

namespace mcpd::transport {

namespace json = boost::json;

namespace {

// The built-in endpoints, in one table: the routing below, the 405 Allow lists, the metrics label
// and GET /'s description all come from it (pack routes come from the registry).
struct BuiltinRoute {
  std::string_view path;
  bool mcp;                      // an MCP endpoint: errors are JSON-RPC errors; else REST: {"error": …}
  http::verb method;
  std::string_view listed_as;    // the key in GET /'s "endpoints" (path with its query, if any)
  std::string_view description;  // empty: not listed
  bool open = false;             // no API key; also served on the status listener
  bool on_status_listener = false;
  void (*serve)(McpRouter::Endpoints&, Request&&, const ChannelPtr&, const std::string& principal);
};

const std::vector<BuiltinRoute>& builtin_routes() {
  using E = McpRouter::Endpoints;
  static const std::vector<BuiltinRoute> routes{
      {"/mcp", true, http::verb::post, "POST /mcp", "MCP Streamable HTTP (JSON-RPC requests; JSON or SSE answers)", false, false,
       [](E& e, Request&& r, const ChannelPtr& c, const std::string& p) { e.streamable.post(std::move(r), c, p); }},
      {"/mcp", true, http::verb::get, "GET /mcp", "MCP Streamable HTTP server-to-client SSE stream (Mcp-Session-Id, Last-Event-ID)",
       false, false, [](E& e, Request&& r, const ChannelPtr& c, const std::string& p) { e.streamable.get(r, c, p); }},
      {"/mcp", true, http::verb::delete_, "DELETE /mcp", "end an MCP session", false, false,
       [](E& e, Request&& r, const ChannelPtr& c, const std::string& p) { e.streamable.del(r, c, p); }},
      {"/sse", true, http::verb::get, "GET /sse", "legacy MCP HTTP+SSE stream (announces the POST endpoint)", false, false,
       [](E& e, Request&& r, const ChannelPtr& c, const std::string& p) { e.legacy.open(r, c, p); }},
      {"/messages", true, http::verb::post, "POST /messages?sessionId=ID", "legacy MCP HTTP+SSE messages", false, false,
       [](E& e, Request&& r, const ChannelPtr& c, const std::string& p) { e.legacy.message(r, c, p); }},
      {"/mcp/tools", false, http::verb::get, "GET /mcp/tools", "the tools, as JSON", false, false,
       [](E& e, Request&& r, const ChannelPtr& c, const std::string&) { e.rest.list_tools(r, c); }},
      {"/call_tool", false, http::verb::post, "POST /call_tool", "call a tool: {\"tool\": NAME, \"arguments\": {...}}", false, false,
       [](E& e, Request&& r, const ChannelPtr& c, const std::string& p) { e.rest.call_tool(r, c, p); }},
      {"/health", false, http::verb::get, "GET /health", "health of mcpd and its backends (also GET /api/v1/health)", true, true,
       [](E& e, Request&& r, const ChannelPtr& c, const std::string&) { e.rest.health(r, c); }},
      {"/api/v1/health", false, http::verb::get, "GET /api/v1/health", "", true, true,
       [](E& e, Request&& r, const ChannelPtr& c, const std::string&) { e.rest.health(r, c); }},
      {"/metrics", false, http::verb::get, "GET /metrics", "Prometheus metrics", false, true,
       [](E& e, Request&& r, const ChannelPtr& c, const std::string&) { e.rest.metrics(r, c); }},
      {"/", false, http::verb::get, "GET /", "", false, false,
       [](E& e, Request&& r, const ChannelPtr& c, const std::string&) { e.describe_api(r, c); }},
  };
  return routes;
}

}  // namespace

void McpRouter::Endpoints::describe_api(const Request& request, const ChannelPtr& channel) const {
  json::object endpoints;
  for (const auto& route : builtin_routes())
    if (!route.description.empty()) endpoints[route.listed_as] = route.description;
  for (const auto& route : ctx.dispatcher.registry().http_routes()) endpoints[route.method + " " + route.path] = route.description;
  channel->respond(json_response(200, rest.api_description(std::move(endpoints)), request.version()));
}

void McpRouter::handle(Request&& request, const ChannelPtr& channel, const ConnectionInfo& info) {
  auto started = std::chrono::steady_clock::now();
  std::string_view path = target_path(request);
  http::verb verb = request.method();
  unsigned version = request.version();

  // The built-in rows for this path, and the one for this method.
  const BuiltinRoute* builtin = nullptr;
  std::string allow;
  bool mcp_surface = false;
  for (const auto& r : builtin_routes()) {
    if (r.path != path) continue;
    allow += (allow.empty() ? "" : ", ") + std::string(http::to_string(r.method));
    mcp_surface = r.mcp;
    if (r.method == verb) builtin = &r;
  }
  // One error body per surface: JSON-RPC errors on the MCP endpoints, {"error": …} on the others.
  auto refusal = [&](unsigned status, std::string_view message) {
    return mcp_surface ? rpc_error_response(status, message, version) : error_response(status, message, version);
  };
  bool route_path_known = false;
  const core::HttpRoute* route_entry =
      ctx_.dispatcher.registry().find_http_route(request.method_string(), path, route_path_known);

  std::string label = !allow.empty() || route_path_known ? std::string(path) : "other";
  in_flight_->fetch_add(1);
  channel->on_status([this, label, started, method = std::string(request.method_string()), counter = in_flight_](unsigned status) {
    counter->fetch_sub(1);
    ctx_.metrics.http_request(method, label, status,
                              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  });

  if (auto refused = ctx_.guard.check(request, info.loopback_listener)) {
    infra::log::warn("request refused", {{"reason", *refused}, {"remote", info.remote_address}});
    return channel->respond(refusal(403, "Forbidden: " + *refused));
  }
  if (builtin && builtin->open) return builtin->serve(endpoints_, std::move(request), channel, "anonymous");
  if (info.status_listener) {
    if (builtin && builtin->on_status_listener) return builtin->serve(endpoints_, std::move(request), channel, "anonymous");
    return channel->respond(error_response(404, "the status listener serves only /health, /api/v1/health and /metrics", version));
  }
  if (draining_.load()) {
    Response r = refusal(503, "mcpd is shutting down");
    r.set(http::field::retry_after, "1");
    return channel->respond(std::move(r));
  }
  if (route_entry && route_entry->auth == core::RouteAuth::Public) {
    if (over_rate_limit("anonymous", channel, refusal)) return;
    return run_route(*route_entry, std::move(request), channel, "anonymous");
  }

  auto principal = ctx_.auth.authenticate(request);
  if (!principal) {
    bool sent = request.find("X-API-KEY") != request.end() || request.find(http::field::authorization) != request.end();
    auto challenge = ctx_.auth.challenge(sent);
    Response r = refusal(401, challenge.message);
    r.set(http::field::www_authenticate, challenge.www_authenticate);
    return channel->respond(std::move(r));
  }
  if (over_rate_limit(*principal, channel, refusal)) return;

  if (builtin) return builtin->serve(endpoints_, std::move(request), channel, *principal);
  if (route_entry) return run_route(*route_entry, std::move(request), channel, *principal);
  if (!allow.empty() || route_path_known) {
    Response r = refusal(405, "method not allowed on " + std::string(path));
    r.set(http::field::allow, allow.empty() ? "the methods GET / lists for it" : allow);
    return channel->respond(std::move(r));
  }
  channel->respond(error_response(404, "no such endpoint: " + std::string(path) + " (GET / lists the endpoints)", version));
}

bool McpRouter::over_rate_limit(const std::string& principal, const ChannelPtr& channel, const Refusal& refusal) {
  if (!ctx_.limiter) return false;
  std::uint32_t wait = ctx_.limiter->acquire(principal);
  if (wait == 0) return false;
  Response r = refusal(429, "too many requests for this API key (at most " + std::to_string(std::lround(ctx_.limiter->per_second())) +
                                " a second, security.rate_limit_per_second); retry after " + std::to_string(wait) + " s");
  r.set(http::field::retry_after, std::to_string(wait));
  channel->respond(std::move(r));
  return true;
}

void McpRouter::run_route(const core::HttpRoute& route, Request&& request, const ChannelPtr& channel,
                          const std::string& principal) {
  core::HttpRequest req;
  req.method = std::string(request.method_string());
  req.path = std::string(target_path(request));
  req.query = query_params(request);
  for (const auto& field : request) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    req.headers[name] = std::string(field.value());
  }
  req.body = std::move(request.body());
  req.principal = principal;
  unsigned version = request.version();
  auto respond = [channel, version](core::HttpReply reply) {
    Response r = make_response(reply.status, std::move(reply.body), reply.content_type, version);
    for (auto& [k, v] : reply.headers) r.set(k, v);
    channel->respond(std::move(r));
  };
  auto work = [&route, req = std::move(req), respond]() {
    auto reply = core::guarded("route", req.path,
                               [&]() -> core::Result<core::HttpReply> { return route.handler(req); });
    respond(reply ? std::move(reply).value() : core::HttpReply::error(reply.error()));
  };
  if (route.execution == core::Execution::Pool && ctx_.pool) {
    if (!ctx_.pool->post(std::move(work))) respond(core::HttpReply::error(core::Error::busy()));
  } else {
    work();
  }
}

}  // namespace mcpd::transport
