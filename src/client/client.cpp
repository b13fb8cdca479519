// Client: the MCP handshake and typed calls over any transport.
#include "client/client.hpp"

#include <cstdlib>

#include "core/protocol_version.hpp"

namespace mcpd::client {

Client::Client(std::unique_ptr<ClientTransport> transport) : transport_(std::move(transport)) {}

Client Client::from_environment(const std::vector<std::string>& stdio_command) {
  const char* url = std::getenv("MCP_SERVER_URL");
  if (url && *url) {
    std::string key;
    for (const char* name : {"MCP_API_KEY", "API_TOKEN"})
      if (const char* v = std::getenv(name); v && *v && key.empty()) key = v;
    return Client(make_http_transport(url, key));
  }
  return Client(make_stdio_transport(stdio_command));
}

json::value Client::request(const std::string& method, json::object params) {
  json::object message{{"jsonrpc", "2.0"}, {"id", next_id_++}, {"method", method}, {"params", std::move(params)}};
  json::object response = transport_->request(message);
  if (auto e = response.if_contains("error"); e && e->is_object()) {
    const auto& eo = e->as_object();
    int code = eo.contains("code") && eo.at("code").is_int64() ? static_cast<int>(eo.at("code").as_int64()) : 0;
    std::string text = eo.contains("message") && eo.at("message").is_string() ? std::string(eo.at("message").as_string()) : "error";
    throw ClientError(code, text);
  }
  if (auto r = response.if_contains("result")) return *r;
  throw ClientError(-32603, "the server sent a response with neither result nor error");
}

json::object Client::initialize(const std::string& client_name) {
  json::object params{{"protocolVersion", core::kLatestProtocolVersion},
                      {"capabilities", json::object{}},
                      {"clientInfo", json::object{{"name", client_name}, {"version", "0.1.0"}}}};
  json::value result = request("initialize", std::move(params));
  transport_->notify(json::object{{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}});
  return result.is_object() ? result.as_object() : json::object{};
}

json::array Client::list_tools() {
  json::array tools;
  json::object params;
  for (int page = 0; page < 1000; ++page) {
    json::value result = request("tools/list", params);
    if (!result.is_object()) break;
    if (auto t = result.as_object().if_contains("tools"); t && t->is_array())
      for (auto& tool : t->as_array()) tools.push_back(tool);
    auto next = result.as_object().if_contains("nextCursor");
    if (!next || !next->is_string()) break;
    params["cursor"] = *next;
  }
  return tools;
}

json::object Client::call_tool(const std::string& name, json::object arguments) {
  json::value result = request("tools/call", json::object{{"name", name}, {"arguments", std::move(arguments)}});
  return result.is_object() ? result.as_object() : json::object{};
}

}  // namespace mcpd::client
