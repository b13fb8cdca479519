// The tools, resources, resource templates and prompts that packs register, with their handlers.
// Filled at start-up, read-only while serving (so lookups need no lock).
#pragma once
#include <boost/json.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "core/call_context.hpp"
#include "core/execution.hpp"
#include "core/http_route.hpp"
#include "core/json_rpc.hpp"
#include "core/result.hpp"

namespace mcpd::core {

struct ToolResult {
  json::array content;
  json::value structured = nullptr;  // structuredContent, when the tool declares an outputSchema
  bool is_error = false;
  // What the call touched, for the audit log ({"rows": 12} or {"bytes": 4096}); never sent.
  json::object audit;

  static ToolResult text(std::string text);
  static ToolResult error(std::string message);
  json::object to_json() const&;
  json::object to_json() &&;  // moves the content out
};

// A tool's Error becomes an isError result the model can read (Busy: a JSON-RPC error the client may
// retry); Cancelled gets no answer.
using ToolOutcome = Result<ToolResult>;
using ToolCompletion = std::function<void(ToolOutcome)>;
using ToolHandler = std::function<ToolOutcome(CallContext&, const json::object& arguments)>;
using AsyncToolHandler = std::function<void(CallContextPtr, json::object arguments, ToolCompletion done)>;


struct Tool {
  std::string name;
  std::string title;
  std::string description;
  json::value input_schema = json::object{{"type", "object"}};
  json::value output_schema = nullptr;
  json::object annotations;
  json::array icons;
  Execution execution = Execution::Inline;
  ToolHandler handler;              // either this ...
  AsyncToolHandler async_handler;   // ... or this (completes later, e.g. from a coroutine)

  json::object describe() const;
};

struct ResourceContents {
  std::string uri;
  std::string mime_type;
  std::string text;
  std::string blob_base64;
  bool is_blob = false;
  json::object to_json() const;
};

// NotFound becomes -32002 (resource not found), other errors their JSON-RPC code (see error_mapping).
using ReadOutcome = Result<std::vector<ResourceContents>>;
// Values that complete `value`; runs as its prompt or resource template declares (execution).
using Completer = std::function<std::vector<std::string>(std::string_view value,
                                                         const std::map<std::string, std::string>& context)>;

struct Resource {
  std::string uri;
  std::string name;
  std::string title;
  std::string description;
  std::string mime_type;
  std::optional<std::int64_t> size;
  json::object annotations;
  Execution execution = Execution::Inline;  // Pool when read touches a file, a socket or a database
  std::function<ReadOutcome(CallContext&)> read;

  json::object describe() const;
};

struct ResourceTemplate {
  std::string uri_template;  // RFC 6570 level 1: literal text and {variables}
  std::string name;
  std::string title;
  std::string description;
  std::string mime_type;
  Execution execution = Execution::Inline;  // for read and the completers
  std::function<ReadOutcome(CallContext&, const std::string& uri, const std::map<std::string, std::string>& vars)> read;
  std::map<std::string, Completer> completers;

  json::object describe() const;
};

struct PromptArgument {
  std::string name;
  std::string description;
  bool required = false;
};

using PromptOutcome = Result<json::object>;  // {description?, messages}

struct Prompt {
  std::string name;
  std::string title;
  std::string description;
  std::vector<PromptArgument> arguments;
  Execution execution = Execution::Inline;  // for get and the completers
  std::function<PromptOutcome(CallContext&, const std::map<std::string, std::string>& arguments)> get;
  std::map<std::string, Completer> completers;

  json::object describe() const;
};

// A backend a pack depends on, as /health reports it: "ok" or a short reason it is not, plus
// optional details (e.g. last successful sync) shown under "details".
struct HealthStatus {
  std::string status = "ok";
  json::object details;
};
using HealthCheck = std::function<HealthStatus()>;

// Matches `uri` against a level-1 URI template; fills `vars` on success.
bool match_uri_template(std::string_view uri_template, std::string_view uri, std::map<std::string, std::string>& vars);

class Registry {
 public:
  void add_tool(Tool tool);
  void add_resource(Resource resource);
  void add_resource_template(ResourceTemplate tmpl);
  void add_prompt(Prompt prompt);
  void add_health_check(std::string service, HealthCheck check);
  void add_http_route(HttpRoute route);

  const Tool* find_tool(std::string_view name) const;
  const Resource* find_resource(std::string_view uri) const;
  const Prompt* find_prompt(std::string_view name) const;
  // The first template that matches `uri`.
  const ResourceTemplate* match_template(std::string_view uri, std::map<std::string, std::string>& vars) const;
  const ResourceTemplate* find_template(std::string_view uri_template) const;
  // The route for `method` and `path`; `path_known` tells a wrong method (405) from no route (404).
  const HttpRoute* find_http_route(std::string_view method, std::string_view path, bool& path_known) const;
  const std::vector<HttpRoute>& http_routes() const { return routes_; }

  const std::vector<Tool>& tools() const { return tools_; }
  const std::vector<Resource>& resources() const { return resources_; }
  const std::vector<ResourceTemplate>& resource_templates() const { return templates_; }
  const std::vector<Prompt>& prompts() const { return prompts_; }
  const std::vector<std::pair<std::string, HealthCheck>>& health_checks() const { return health_checks_; }

  // Precomputed tools/list entries (the hot path of clients that list often).
  const std::vector<json::object>& tool_descriptions() const { return tool_descriptions_; }

 private:
  std::vector<Tool> tools_;
  std::vector<json::object> tool_descriptions_;
  std::unordered_map<std::string, std::size_t> tool_index_;
  std::vector<Resource> resources_;
  std::vector<ResourceTemplate> templates_;
  std::vector<Prompt> prompts_;
  std::vector<std::pair<std::string, HealthCheck>> health_checks_;
  std::vector<HttpRoute> routes_;
};

}  // namespace mcpd::core
