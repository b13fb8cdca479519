// Registry: definitions, their wire descriptions, URI template matching.
#include "core/registry.hpp"

#include <stdexcept>

namespace mcpd::core {

ToolResult ToolResult::text(std::string text) {
  ToolResult r;
  r.content.push_back(json::object{{"type", "text"}, {"text", std::move(text)}});
  return r;
}

ToolResult ToolResult::error(std::string message) {
  ToolResult r = text(std::move(message));
  r.is_error = true;
  return r;
}

json::object ToolResult::to_json() const& { return ToolResult(*this).to_json(); }

json::object ToolResult::to_json() && {
  json::object o;
  o["content"] = std::move(content);
  if (!structured.is_null()) o["structuredContent"] = std::move(structured);
  if (is_error) o["isError"] = true;
  return o;
}

json::object Tool::describe() const {
  json::object o;
  o["name"] = name;
  if (!title.empty()) o["title"] = title;
  if (!description.empty()) o["description"] = description;
  o["inputSchema"] = input_schema;
  if (!output_schema.is_null()) o["outputSchema"] = output_schema;
  if (!annotations.empty()) o["annotations"] = annotations;
  if (!icons.empty()) o["icons"] = icons;
  return o;
}

json::object ResourceContents::to_json() const {
  json::object o;
  o["uri"] = uri;
  if (!mime_type.empty()) o["mimeType"] = mime_type;
  if (is_blob) o["blob"] = blob_base64;
  else o["text"] = text;
  return o;
}

json::object Resource::describe() const {
  json::object o;
  o["uri"] = uri;
  o["name"] = name;
  if (!title.empty()) o["title"] = title;
  if (!description.empty()) o["description"] = description;
  if (!mime_type.empty()) o["mimeType"] = mime_type;
  if (size) o["size"] = *size;
  if (!annotations.empty()) o["annotations"] = annotations;
  return o;
}

json::object ResourceTemplate::describe() const {
  json::object o;
  o["uriTemplate"] = uri_template;
  o["name"] = name;
  if (!title.empty()) o["title"] = title;
  if (!description.empty()) o["description"] = description;
  if (!mime_type.empty()) o["mimeType"] = mime_type;
  return o;
}

json::object Prompt::describe() const {
  json::object o;
  o["name"] = name;
  if (!title.empty()) o["title"] = title;
  if (!description.empty()) o["description"] = description;
  if (!arguments.empty()) {
    json::array args;
    for (const auto& a : arguments) {
      json::object ao{{"name", a.name}};
      if (!a.description.empty()) ao["description"] = a.description;
      ao["required"] = a.required;
      args.push_back(std::move(ao));
    }
    o["arguments"] = std::move(args);
  }
  return o;
}

bool match_uri_template(std::string_view tpl, std::string_view uri, std::map<std::string, std::string>& vars) {
  std::map<std::string, std::string> found;
  std::size_t t = 0, u = 0;
  while (t < tpl.size()) {
    if (tpl[t] == '{') {
      auto close = tpl.find('}', t);
      if (close == std::string_view::npos) return false;
      std::string name(tpl.substr(t + 1, close - t - 1));
      t = close + 1;
      // A variable runs to the next literal character of the template (or the end), never across '/'.
      char stop = t < tpl.size() ? tpl[t] : '\0';
      std::size_t start = u;
      while (u < uri.size() && uri[u] != stop && uri[u] != '/') ++u;
      if (u == start) return false;
      found[name] = std::string(uri.substr(start, u - start));
    } else {
      if (u >= uri.size() || uri[u] != tpl[t]) return false;
      ++t;
      ++u;
    }
  }
  if (u != uri.size()) return false;
  vars = std::move(found);
  return true;
}

void Registry::add_http_route(HttpRoute route) {
  bool known = false;
  if (find_http_route(route.method, route.path, known))
    throw std::invalid_argument("HTTP route " + route.method + " " + route.path + " is registered twice");
  if (!route.handler) throw std::invalid_argument("HTTP route " + route.path + " has no handler");
  routes_.push_back(std::move(route));
}

const HttpRoute* Registry::find_http_route(std::string_view method, std::string_view path, bool& path_known) const {
  path_known = false;
  for (const auto& r : routes_) {
    if (r.path != path) continue;
    path_known = true;
    if (r.method == method) return &r;
  }
  return nullptr;
}

void Registry::add_tool(Tool tool) {
  if (tool_index_.count(tool.name)) throw std::invalid_argument("tool '" + tool.name + "' is registered twice");
  if (!tool.handler && !tool.async_handler) throw std::invalid_argument("tool '" + tool.name + "' has no handler");
  tool_index_[tool.name] = tools_.size();
  tool_descriptions_.push_back(tool.describe());
  tools_.push_back(std::move(tool));
}

void Registry::add_resource(Resource resource) {
  if (find_resource(resource.uri)) throw std::invalid_argument("resource '" + resource.uri + "' is registered twice");
  resources_.push_back(std::move(resource));
}

void Registry::add_resource_template(ResourceTemplate tmpl) { templates_.push_back(std::move(tmpl)); }

void Registry::add_prompt(Prompt prompt) {
  if (find_prompt(prompt.name)) throw std::invalid_argument("prompt '" + prompt.name + "' is registered twice");
  prompts_.push_back(std::move(prompt));
}

void Registry::add_health_check(std::string service, HealthCheck check) {
  health_checks_.emplace_back(std::move(service), std::move(check));
}

const Tool* Registry::find_tool(std::string_view name) const {
  auto it = tool_index_.find(std::string(name));
  return it == tool_index_.end() ? nullptr : &tools_[it->second];
}

const Resource* Registry::find_resource(std::string_view uri) const {
  for (const auto& r : resources_)
    if (r.uri == uri) return &r;
  return nullptr;
}

const Prompt* Registry::find_prompt(std::string_view name) const {
  for (const auto& p : prompts_)
    if (p.name == name) return &p;
  return nullptr;
}

const ResourceTemplate* Registry::match_template(std::string_view uri, std::map<std::string, std::string>& vars) const {
  for (const auto& t : templates_)
    if (match_uri_template(t.uri_template, uri, vars)) return &t;
  return nullptr;
}

const ResourceTemplate* Registry::find_template(std::string_view uri_template) const {
  for (const auto& t : templates_)
    if (t.uri_template == uri_template) return &t;
  return nullptr;
}

}  // namespace mcpd::core
