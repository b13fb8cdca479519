// `mcpd call TOOL key=value…`: one tool call through the C++ client (HTTP or a spawned stdio server).
#include <iostream>

#include "app/commands.hpp"
#include "client/client.hpp"

namespace mcpd::app {

namespace json = boost::json;

int run_call(const CallFlags& flags, const std::string& self_path) {
  json::object arguments;
  if (!flags.json_arguments.empty()) {
    boost::system::error_code ec;
    json::value v = json::parse(flags.json_arguments, ec);
    if (ec || !v.is_object()) {
      std::cerr << "mcpd call: --json must be a JSON object, e.g. --json '{\"message\":\"hi\"}'\n";
      return 2;
    }
    arguments = v.as_object();
  }
  for (const auto& a : flags.assignments) {
    auto eq = a.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "mcpd call: arguments are key=value, got '" << a << "'\n";
      return 2;
    }
    std::string value = a.substr(eq + 1);
    boost::system::error_code ec;
    json::value parsed = json::parse(value, ec);
    // Numbers, booleans, objects and arrays are taken as JSON; anything else is a string.
    arguments[a.substr(0, eq)] = (!ec && !parsed.is_string()) ? parsed : json::value(json::string(value));
  }
  if (!flags.list && flags.tool.empty()) {
    std::cerr << "mcpd call: name a tool (or use --list)\n";
    return 2;
  }

  std::unique_ptr<client::ClientTransport> transport;
  std::string url = flags.url;
  if (url.empty())
    if (const char* v = std::getenv("MCP_SERVER_URL"); v && *v) url = v;
  if (!url.empty()) {
    std::string key = flags.api_key;
    for (const char* name : {"MCP_API_KEY", "API_TOKEN"})
      if (const char* v = std::getenv(name); v && *v && key.empty()) key = v;
    transport = client::make_http_transport(url, key);
  } else {
    std::vector<std::string> command{self_path, "serve", "--stdio", "--log-level", "warning"};
    for (const auto& p : flags.enable_packs) {
      command.push_back("--enable-pack");
      command.push_back(p);
    }
    transport = client::make_stdio_transport(command);
  }
  client::Client mcp(std::move(transport));
  mcp.transport().on_notification = [](const json::object& n) { std::cerr << json::serialize(n) << "\n"; };
  try {
    mcp.initialize("mcpd-call");
    if (flags.list) {
      std::cout << json::serialize(mcp.list_tools()) << "\n";
      return 0;
    }
    json::object result = mcp.call_tool(flags.tool, std::move(arguments));
    std::cout << json::serialize(result) << "\n";
    auto is_error = result.if_contains("isError");
    return is_error && is_error->is_bool() && is_error->as_bool() ? 1 : 0;
  } catch (const client::ClientError& e) {
    std::cerr << "mcpd call: " << e.what() << " (JSON-RPC error " << e.code << ")\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "mcpd call: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace mcpd::app
