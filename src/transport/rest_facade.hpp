// The plain REST endpoints the seeds' users call: /, /health, /api/v1/health, /metrics,
// GET /mcp/tools and POST /call_tool, served by the same dispatcher as MCP.
#pragma once
#include "transport/http_context.hpp"

namespace mcpd::transport {

class RestFacade {
 public:
  explicit RestFacade(HttpContext& context) : ctx_(context) {}

  // GET /'s body for `endpoints` (the router's route table knows them).
  boost::json::object api_description(boost::json::object endpoints) const;
  void health(const Request& request, const ChannelPtr& channel) const;
  void metrics(const Request& request, const ChannelPtr& channel) const;
  void list_tools(const Request& request, const ChannelPtr& channel) const;
  void call_tool(const Request& request, const ChannelPtr& channel, const std::string& principal) const;

  // {"status","timestamp","version","services"} and whether every service is ok.
  boost::json::object health_report(bool& healthy) const;

 private:
  HttpContext& ctx_;
};

}  // namespace mcpd::transport
