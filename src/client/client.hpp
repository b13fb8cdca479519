// The C++ MCP client: the same codec as the server, over stdio (a spawned server) or Streamable HTTP.
// Transport choice as in seed 003: MCP_SERVER_URL set -> HTTP, otherwise spawn the server on stdio.
#pragma once
#include <boost/json.hpp>

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace mcpd::client {

namespace json = boost::json;

struct ClientError : std::runtime_error {
  ClientError(int code, const std::string& message) : std::runtime_error(message), code(code) {}
  int code;
};

class ClientTransport {
 public:
  virtual ~ClientTransport() = default;
  // Sends a request; returns its response message ({"result"} or {"error"}). Notifications that
  // arrive meanwhile go to `on_notification`.
  virtual json::object request(const json::object& message) = 0;
  virtual void notify(const json::object& message) = 0;
  std::function<void(const json::object&)> on_notification;
};

std::unique_ptr<ClientTransport> make_stdio_transport(const std::vector<std::string>& argv);
// `url` like http://127.0.0.1:8000/mcp; `api_key` may be empty.
std::unique_ptr<ClientTransport> make_http_transport(const std::string& url, const std::string& api_key);

class Client {
 public:
  explicit Client(std::unique_ptr<ClientTransport> transport);
  // MCP_SERVER_URL -> HTTP (key from MCP_API_KEY or API_TOKEN); otherwise spawns `stdio_command`.
  static Client from_environment(const std::vector<std::string>& stdio_command);

  json::object initialize(const std::string& client_name = "mcpd-client");
  json::array list_tools();
  json::object call_tool(const std::string& name, json::object arguments);
  // Any request; throws ClientError on a JSON-RPC error.
  json::value request(const std::string& method, json::object params);
  ClientTransport& transport() { return *transport_; }

 private:
  std::unique_ptr<ClientTransport> transport_;
  std::int64_t next_id_ = 1;
};

}  // namespace mcpd::client
