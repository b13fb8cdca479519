// Routing table of the HTTP listener(s).
#include "transport/mcp_router.hpp"

#include <chrono>
#include <cmath>

#include "core/json_rpc.hpp"
#include "infra/logging.hpp"

namespace mcpd::transport {

void McpRouter::handle(Request&& request, const ChannelPtr& channel, const ConnectionInfo& info) {
  auto started = std::chrono::steady_clock::now();
  std::string_view path = target_path(request);
  http::verb verb = request.method();
  unsigned version = request.version();

  std::string route = "other";
  for (std::string_view known : {"/mcp", "/sse", "/messages", "/mcp/tools", "/call_tool", "/health", "/api/v1/health", "/metrics", "/"})
    if (path == known) route = std::string(known);
  for (const auto& r : ctx_.dispatcher.registry().http_routes())
    if (r.path == path) route = r.path;
  in_flight_->fetch_add(1);
  channel->on_status([this, route, started, method = std::string(request.method_string()), counter = in_flight_](unsigned status) {
    counter->fetch_sub(1);
    ctx_.metrics.http_request(method, route, status,
                              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  });

  if (auto refused = ctx_.guard.check(request, info.loopback_listener)) {
    infra::log::warn("request refused", {{"reason", *refused}, {"remote", info.remote_address}});
    return channel->respond(json_response(
        403, core::make_error(nullptr, {core::error_code::kInvalidRequest, "Forbidden: " + *refused, nullptr}), version));
  }
  bool is_health = path == "/health" || path == "/api/v1/health";
  if (is_health && verb == http::verb::get) return rest_.health(request, channel);
  if (info.status_listener) {
    if (path == "/metrics" && verb == http::verb::get) return rest_.metrics(request, channel);
    return channel->respond(error_response(404, "the status listener serves only /health, /api/v1/health and /metrics", version));
  }
  if (draining_.load()) {
    Response r = error_response(503, "mcpd is shutting down", version);
    r.set(http::field::retry_after, "1");
    return channel->respond(std::move(r));
  }
  bool route_path_known = false;
  const core::HttpRoute* route_entry =
      ctx_.dispatcher.registry().find_http_route(request.method_string(), path, route_path_known);
  if (route_entry && route_entry->auth == core::RouteAuth::Public) {
    if (over_rate_limit("anonymous", channel, version)) return;
    return run_route(*route_entry, std::move(request), channel, "anonymous");
  }

  auto principal = ctx_.auth.authenticate(request);
  if (!principal) {
    bool sent = request.find("X-API-KEY") != request.end() || request.find(http::field::authorization) != request.end();
    return channel->respond(ctx_.auth.challenge(version, sent));
  }
  if (over_rate_limit(*principal, channel, version)) return;

  auto not_allowed = [&](std::string_view allow) {
    Response r = error_response(405, "method not allowed on " + std::string(path), version);
    r.set(http::field::allow, allow);
    channel->respond(std::move(r));
  };
  if (path == "/mcp") {
    if (verb == http::verb::post) return streamable_.post(std::move(request), channel, *principal);
    if (verb == http::verb::get) return streamable_.get(request, channel, *principal);
    if (verb == http::verb::delete_) return streamable_.del(request, channel, *principal);
    return not_allowed("GET, POST, DELETE");
  }
  if (path == "/sse") return verb == http::verb::get ? legacy_.open(request, channel, *principal) : not_allowed("GET");
  if (path == "/messages") return verb == http::verb::post ? legacy_.message(request, channel, *principal) : not_allowed("POST");
  if (path == "/mcp/tools") return verb == http::verb::get ? rest_.list_tools(request, channel) : not_allowed("GET");
  if (path == "/call_tool") return verb == http::verb::post ? rest_.call_tool(request, channel, *principal) : not_allowed("POST");
  if (path == "/metrics") return verb == http::verb::get ? rest_.metrics(request, channel) : not_allowed("GET");
  if (path == "/") return verb == http::verb::get ? rest_.describe_api(request, channel) : not_allowed("GET");
  if (route_entry) return run_route(*route_entry, std::move(request), channel, *principal);
  if (route_path_known) return not_allowed("the methods GET / lists for it");
  channel->respond(error_response(404, "no such endpoint: " + std::string(path) + " (GET / lists the endpoints)", version));
}

bool McpRouter::over_rate_limit(const std::string& principal, const ChannelPtr& channel, unsigned version) {
  if (!ctx_.limiter) return false;
  std::uint32_t wait = ctx_.limiter->acquire(principal);
  if (wait == 0) return false;
  Response r = error_response(429,
                              "too many requests for this API key (at most " + std::to_string(std::lround(ctx_.limiter->per_second())) +
                                  " a second, security.rate_limit_per_second); retry after " + std::to_string(wait) + " s",
                              version);
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
  auto work = [&route, req = std::move(req), channel, version]() {
    core::HttpReply reply;
    try {
      reply = route.handler(req);
    } catch (const std::exception& e) {
      infra::log::error("route failed", {{"path", req.path}, {"error", e.what()}});
      reply = core::HttpReply::error(500, std::string("internal error: ") + e.what());
    }
    Response r = make_response(reply.status, std::move(reply.body), reply.content_type, version);
    for (auto& [k, v] : reply.headers) r.set(k, v);
    channel->respond(std::move(r));
  };
  if (route.execution == core::Execution::Pool && ctx_.pool) ctx_.pool->post(std::move(work));
  else work();
}

}  // namespace mcpd::transport
