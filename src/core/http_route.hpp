// Plain HTTP endpoints a pack adds beside MCP (e.g. seed 001's POST /mcp/search_documents or a
// signed webhook). Transport-neutral: the HTTP transport maps requests onto these types.
#pragma once
#include <boost/json.hpp>

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/error_mapping.hpp"
#include "core/execution.hpp"
#include "core/result.hpp"

namespace mcpd::core {

struct HttpRequest {
  std::string method;                          // "GET", "POST", ...
  std::string path;                            // without the query string
  std::map<std::string, std::string> query;    // decoded query parameters
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string principal;                       // who authenticated ("anonymous" when auth is off)

  const std::string* header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? nullptr : &it->second;
  }
};

struct HttpReply {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static HttpReply json(unsigned status, const boost::json::value& body) {
    return HttpReply{status, "application/json", boost::json::serialize(body), {}};
  }
  // {"error": message}, the shape of every REST error.
  static HttpReply error(unsigned status, std::string message) {
    return json(status, boost::json::object{{"error", std::move(message)}});
  }
  // The same for an Error: its status (see http_status), and Retry-After when the server is busy.
  static HttpReply error(const Error& e) {
    HttpReply reply = error(http_status(e.kind), e.message);
    if (e.kind == ErrorKind::Busy) reply.headers.emplace_back("Retry-After", std::to_string(kRetryAfterSeconds));
    return reply;
  }
};

enum class RouteAuth {
  ApiKey,  // the server's API keys apply, like every MCP endpoint
  Public,  // no API key: the handler authenticates the request itself (e.g. a webhook signature)
};

struct HttpRoute {
  std::string method;
  std::string path;
  RouteAuth auth = RouteAuth::ApiKey;
  Execution execution = Execution::Pool;  // handlers usually touch storage
  std::string description;                // listed by GET /
  std::function<HttpReply(const HttpRequest&)> handler;
};

}  // namespace mcpd::core
