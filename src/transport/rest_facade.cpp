// REST facade implementation.
#include "transport/rest_facade.hpp"

#include "core/fault.hpp"
#include "core/protocol_version.hpp"
#include "infra/time.hpp"

namespace mcpd::transport {

namespace json = boost::json;

json::object RestFacade::api_description(json::object endpoints) const {
  json::array versions;
  for (auto v : core::kSupportedProtocolVersions) versions.push_back(json::string(v));
  return json::object{{"name", ctx_.dispatcher.info().name},
                      {"version", ctx_.version},
                      {"protocolVersions", std::move(versions)},
                      {"auth", ctx_.auth.required() ? "X-API-KEY or Authorization: Bearer" : "none"},
                      {"endpoints", std::move(endpoints)}};
}

json::object RestFacade::health_report(bool& healthy) const {
  healthy = true;
  json::object services, details;
  for (const auto& [name, check] : ctx_.dispatcher.registry().health_checks()) {
    auto checked = core::guarded("health check", name, [&]() -> core::Result<core::HealthStatus> { return check(); });
    core::HealthStatus state = checked ? std::move(checked).value() : core::HealthStatus{checked.error().message, {}};
    if (state.status != "ok") healthy = false;
    services[name] = state.status;
    if (!state.details.empty()) details[name] = std::move(state.details);
  }
  json::object report{{"status", healthy ? "healthy" : "degraded"},
                      {"timestamp", infra::now_iso8601()},
                      {"version", ctx_.version},
                      {"sessions", ctx_.sessions.size()},
                      {"services", std::move(services)}};
  if (!details.empty()) report["details"] = std::move(details);
  return report;
}

void RestFacade::health(const Request& request, const ChannelPtr& channel) const {
  auto answer = [this, channel, version = request.version()] {
    bool healthy = true;
    auto report = health_report(healthy);
    channel->respond(json_response(healthy ? 200 : 503, report, version));
  };
  // A pack's check may wait on its backend (a PostgreSQL or S3 probe, bounded by its timeout):
  // on the worker pool, never on an I/O thread.
  if (ctx_.pool && !ctx_.dispatcher.registry().health_checks().empty()) ctx_.pool->post(std::move(answer));
  else answer();
}

void RestFacade::metrics(const Request& request, const ChannelPtr& channel) const {
  channel->respond(make_response(200, ctx_.metrics.render(), "text/plain; version=0.0.4", request.version()));
}

void RestFacade::list_tools(const Request& request, const ChannelPtr& channel) const {
  json::array tools;
  for (const auto& d : ctx_.dispatcher.registry().tool_descriptions()) tools.push_back(d);
  channel->respond(json_response(200, json::object{{"tools", std::move(tools)}}, request.version()));
}

void RestFacade::call_tool(const Request& request, const ChannelPtr& channel, const std::string& principal) const {
  unsigned version = request.version();
  auto parsed = core::parse_json(request.body(), ctx_.dispatcher.limits().max_parsed_bytes);
  if (auto* err = std::get_if<core::RpcError>(&parsed); err && err->code != core::error_code::kParseError)
    return channel->respond(error_response(400, err->message, version));
  json::value* body = std::get_if<json::value>(&parsed);
  if (!body || !body->is_object())
    return channel->respond(error_response(400, "the body must be a JSON object: {\"tool\": NAME, \"arguments\": {...}}", version));
  const auto& o = body->get_object();
  const json::value* name = o.if_contains("tool");
  if (!name) name = o.if_contains("name");
  if (!name || !name->is_string())
    return channel->respond(error_response(400, "'tool' is required and must be a string", version));
  json::object arguments;
  if (auto a = o.if_contains("arguments"); a && !a->is_null()) {
    if (!a->is_object()) return channel->respond(error_response(400, "'arguments' must be an object", version));
    arguments = a->get_object();
  }
  auto session = std::make_shared<core::Session>("rest", nullptr);
  session->set_principal(principal);
  session->mark_initialized(std::string(core::kLatestProtocolVersion), {}, {});
  const bool known = ctx_.dispatcher.registry().find_tool(name->get_string()) != nullptr;
  ctx_.dispatcher.call_tool(session, json::value("rest"), name->get_string(), std::move(arguments), nullptr,
                            [channel, version, known, max = ctx_.dispatcher.limits().max_response_bytes](core::ToolOutcome outcome) {
                              if (outcome.cancelled())
                                return channel->respond(error_response(503, "the call was cancelled; retry it", version));
                              if (outcome.failed()) {
                                if (core::Dispatcher::is_protocol_error(outcome.error(), known))
                                  return channel->respond(error_response(outcome.error(), version));
                                outcome = core::ToolResult::error(outcome.error().message);
                              }
                              auto answer = std::move(outcome).value().to_json();
                              if (core::serialized_size(answer, max) > max)
                                return channel->respond(error_response(400, core::response_too_large(max).message, version));
                              channel->respond(json_response(200, answer, version));
                            });
}

}  // namespace mcpd::transport
