// Dispatcher: the MCP methods.
#include "core/dispatcher.hpp"

#include <chrono>

#include "core/call_context.hpp"
#include "core/cursor.hpp"
#include "core/protocol_version.hpp"
#include "core/schema_validator.hpp"

namespace mcpd::core {

namespace {

RpcError invalid_params(std::string message) { return RpcError{error_code::kInvalidParams, std::move(message), nullptr}; }

const json::value* field(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it == o.end() ? nullptr : &it->value();
}

std::optional<std::string> string_field(const json::object& o, std::string_view key) {
  auto v = field(o, key);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

std::map<std::string, std::string> string_map(const json::value* v) {
  std::map<std::string, std::string> out;
  if (!v || !v->is_object()) return out;
  for (const auto& [k, val] : v->get_object())
    out[std::string(k)] = val.is_string() ? std::string(val.get_string()) : json::serialize(val);
  return out;
}

json::value progress_token_of(const json::object& params) {
  if (auto meta = field(params, "_meta"); meta && meta->is_object())
    if (auto token = field(meta->get_object(), "progressToken"); token && (token->is_string() || token->is_number()))
      return *token;
  return nullptr;
}

json::object contents_result(const std::vector<ResourceContents>& contents) {
  json::array arr;
  for (const auto& c : contents) arr.push_back(c.to_json());
  return json::object{{"contents", std::move(arr)}};
}

}  // namespace

Dispatcher::Dispatcher(const Registry& registry, ServerInfo info, Executor* pool, CallObserver* observer,
                       std::size_t page_size)
    : registry_(registry), info_(std::move(info)), pool_(pool), observer_(observer),
      page_size_(page_size == 0 ? 100 : page_size) {}

bool Dispatcher::handle(const SessionPtr& session, const json::value& message, const Reply& reply) {
  auto classified = classify(message);
  if (auto* bad = std::get_if<InvalidMessage>(&classified)) {
    reply(make_error(bad->id, bad->error));
    return true;
  }
  auto& msg = std::get<Message>(classified);
  session->touch();
  switch (msg.kind) {
    case MessageKind::Request:
      handle_request(session, msg, reply);
      return true;
    case MessageKind::Notification:
      handle_notification(session, msg);
      return false;
    case MessageKind::Response:
    case MessageKind::Error:
      session->resolve_response(msg);
      return false;
  }
  return false;
}

std::optional<RpcError> Dispatcher::handle_batch(const SessionPtr& session, std::string_view text, std::size_t members,
                                                 std::function<void(std::string)> done) {
  const std::string negotiated = session->initialized() ? session->protocol_version() : std::string();
  if (auto refused = refuse_batch(members, negotiated, limits_.max_batch)) return refused;
  auto parsed = parse_json(text, limits_.max_parsed_bytes);
  if (auto* error = std::get_if<RpcError>(&parsed)) return *error;
  const auto& items = std::get<json::value>(parsed).get_array();
  if (auto refused = refuse_batch(items, negotiated, limits_.max_batch)) return refused;
  auto answers = std::make_shared<BatchAnswers>(items.size(), limits_.max_response_bytes, std::move(done));
  for (const auto& item : items)
    if (!handle(session, item, [answers](std::optional<json::object> a) { answers->add(std::move(a)); }))
      answers->add(std::nullopt);
  answers->seal();
  return std::nullopt;
}

void Dispatcher::handle_notification(const SessionPtr& session, const Message& msg) {
  if (msg.method == "notifications/cancelled") {
    if (auto id = field(msg.params, "requestId")) session->cancel_call(id_key(*id));
  }
  // notifications/initialized, roots/list_changed, progress: nothing to do; unknown ones are ignored.
}

void Dispatcher::handle_request(const SessionPtr& session, const Message& msg, const Reply& reply) {
  const std::string& m = msg.method;
  auto answer = [&](Result r) {
    // Every answer is held to the bound here, where all of them pass (tools/call's below).
    if (auto* e = std::get_if<RpcError>(&r)) reply(within_bound(make_error(msg.id, *e), msg.id, limits_.max_response_bytes));
    else reply(within_bound(make_result(msg.id, std::move(std::get<json::value>(r))), msg.id, limits_.max_response_bytes));
  };
  if (m == "initialize") return answer(initialize(*session, msg.params));
  if (m == "ping") return answer(json::object{});
  if (!session->initialized())
    return answer(RpcError{error_code::kInvalidRequest,
                           "Invalid Request: the session is not initialized; send 'initialize' first", nullptr});
  if (m == "tools/call") return tools_call(session, msg, reply);
  if (m == "tools/list") return answer(tools_list(msg.params));
  if (m == "resources/list") return answer(resources_list(msg.params));
  if (m == "resources/templates/list") return answer(resource_templates_list(msg.params));
  if (m == "resources/read") return answer(resources_read(session, msg));
  if (m == "resources/subscribe") return answer(resources_subscribe(*session, msg.params, true));
  if (m == "resources/unsubscribe") return answer(resources_subscribe(*session, msg.params, false));
  if (m == "prompts/list") return answer(prompts_list(msg.params));
  if (m == "prompts/get") return answer(prompts_get(session, msg));
  if (m == "completion/complete") return answer(complete(msg.params));
  if (m == "logging/setLevel") return answer(set_log_level(*session, msg.params));
  answer(RpcError{error_code::kMethodNotFound, "Method not found: " + m, nullptr});
}

Dispatcher::Result Dispatcher::initialize(Session& session, const json::object& params) {
  if (session.initialized()) return RpcError{error_code::kInvalidRequest, "Invalid Request: the session is already initialized", nullptr};
  auto requested = string_field(params, "protocolVersion");
  if (!requested) return invalid_params("Invalid params: 'protocolVersion' is required and must be a string");
  std::string version(negotiate_protocol_version(*requested));
  json::object client_info, client_caps;
  if (auto v = field(params, "clientInfo"); v && v->is_object()) client_info = v->get_object();
  if (auto v = field(params, "capabilities"); v && v->is_object()) client_caps = v->get_object();
  session.mark_initialized(version, std::move(client_info), std::move(client_caps));

  json::object caps;
  caps["tools"] = json::object{{"listChanged", true}};
  caps["resources"] = json::object{{"subscribe", true}, {"listChanged", true}};
  caps["prompts"] = json::object{{"listChanged", true}};
  caps["logging"] = json::object{};
  caps["completions"] = json::object{};
  json::object server_info{{"name", info_.name}, {"version", info_.version}};
  if (!info_.title.empty() && version >= "2025-06-18") server_info["title"] = info_.title;
  json::object result{{"protocolVersion", version}, {"capabilities", std::move(caps)}, {"serverInfo", std::move(server_info)}};
  if (!info_.instructions.empty()) result["instructions"] = info_.instructions;
  return result;
}

template <typename Items, typename Describe>
Dispatcher::Result Dispatcher::page(const json::object& params, const Items& items, const char* key,
                                    Describe describe) const {
  std::size_t offset = 0;
  if (auto c = field(params, "cursor"); c && !c->is_null()) {
    std::optional<std::size_t> decoded;
    if (c->is_string()) decoded = decode_cursor(c->get_string());
    if (!decoded || *decoded > items.size()) return invalid_params("Invalid params: unknown or expired cursor");
    offset = *decoded;
  }
  json::array out;
  std::size_t end = std::min(items.size(), offset + page_size_);
  out.reserve(end - offset);
  for (std::size_t i = offset; i < end; ++i) out.push_back(describe(items[i]));
  json::object result{{key, std::move(out)}};
  if (end < items.size()) result["nextCursor"] = encode_cursor(end);
  return result;
}

Dispatcher::Result Dispatcher::tools_list(const json::object& params) const {
  return page(params, registry_.tool_descriptions(), "tools", [](const json::object& d) { return d; });
}

void Dispatcher::tools_call(const SessionPtr& session, const Message& msg, const Reply& reply) {
  auto name = string_field(msg.params, "name");
  if (!name) return reply(make_error(msg.id, invalid_params("Invalid params: 'name' is required and must be a string")));
  json::object args;
  if (auto a = field(msg.params, "arguments"); a && !a->is_null()) {
    if (!a->is_object()) return reply(make_error(msg.id, invalid_params("Invalid params: 'arguments' must be an object")));
    args = a->get_object();
  }
  json::value id = msg.id;
  call_tool(session, id, *name, std::move(args), progress_token_of(msg.params),
            [reply, id, max = limits_.max_response_bytes](ToolOutcome outcome) {
    if (auto* e = std::get_if<RpcError>(&outcome)) {
      if (e->code == 0) return reply(std::nullopt);  // cancelled: no answer
      return reply(within_bound(make_error(id, *e), id, max));
    }
    reply(within_bound(make_result(id, std::get<ToolResult>(std::move(outcome)).to_json()), id, max));
  });
}

void Dispatcher::call_tool(const SessionPtr& session, const json::value& request_id, std::string_view name,
                           json::object arguments, json::value progress_token, ToolCompletion done) {
  const Tool* tool = registry_.find_tool(name);
  if (!tool) {
    if (observer_) {
      std::shared_ptr<const json::object> args;
      if (observer_->wants_arguments()) args = std::make_shared<const json::object>(std::move(arguments));
      observer_->on_tool_call(ToolCallEvent{*session, name, "unknown_tool", 0, std::move(args), nullptr});
    }
    return done(invalid_params("Unknown tool: '" + std::string(name) + "'; call tools/list for the available tools"));
  }
  auto started = std::chrono::steady_clock::now();
  // The arguments as called, for an observer that records them (the audit log).
  std::shared_ptr<const json::object> recorded;
  if (observer_ && observer_->wants_arguments()) recorded = std::make_shared<const json::object>(arguments);
  auto finish = [this, session, tool, started, recorded, done = std::move(done)](ToolOutcome outcome) {
    std::string_view label = "ok";
    if (auto* e = std::get_if<RpcError>(&outcome)) label = e->code == 0 ? "cancelled" : "error";
    else if (std::get<ToolResult>(outcome).is_error) label = "tool_error";
    if (observer_) {
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      observer_->on_tool_call(ToolCallEvent{*session, tool->name, label, seconds, recorded, &outcome});
    }
    done(std::move(outcome));
  };
  json::value args_value(std::move(arguments));
  if (auto problem = validate_against_schema(args_value, tool->input_schema))
    return finish(ToolResult::error("Invalid arguments for tool '" + tool->name + "': " + *problem));
  arguments = std::move(args_value.as_object());

  auto ctx = std::make_shared<CallContext>(session, request_id, std::move(progress_token));
  std::string key = id_key(request_id);
  session->track_call(key, ctx);
  auto complete = [session, key, ctx, finish](ToolOutcome outcome) {
    session->untrack_call(key);
    if (ctx->cancelled()) return finish(RpcError{0, "cancelled", nullptr});
    finish(std::move(outcome));
  };
  auto run = [tool, ctx, complete, arguments = std::move(arguments)]() mutable {
    if (tool->async_handler) return tool->async_handler(ctx, std::move(arguments), complete);
    ToolOutcome outcome;
    try {
      outcome = tool->handler(*ctx, arguments);
    } catch (const std::exception& e) {
      outcome = ToolResult::error("Tool '" + tool->name + "' failed: " + e.what());
    }
    complete(std::move(outcome));
  };
  if (tool->execution == Execution::Pool && pool_) pool_->post(std::move(run));
  else run();
}

Dispatcher::Result Dispatcher::resources_list(const json::object& params) const {
  return page(params, registry_.resources(), "resources", [](const Resource& r) { return r.describe(); });
}

Dispatcher::Result Dispatcher::resource_templates_list(const json::object& params) const {
  return page(params, registry_.resource_templates(), "resourceTemplates",
              [](const ResourceTemplate& t) { return t.describe(); });
}

Dispatcher::Result Dispatcher::resources_read(const SessionPtr& session, const Message& msg) const {
  auto uri = string_field(msg.params, "uri");
  if (!uri) return invalid_params("Invalid params: 'uri' is required and must be a string");
  CallContext ctx(session, msg.id, nullptr);
  ReadOutcome outcome;
  std::map<std::string, std::string> vars;
  if (const Resource* r = registry_.find_resource(*uri)) outcome = r->read(ctx);
  else if (const ResourceTemplate* t = registry_.match_template(*uri, vars)) outcome = t->read(ctx, *uri, vars);
  else return RpcError{error_code::kResourceNotFound, "Resource not found: " + *uri, json::object{{"uri", *uri}}};
  if (auto* e = std::get_if<RpcError>(&outcome)) return *e;
  return contents_result(std::get<std::vector<ResourceContents>>(outcome));
}

Dispatcher::Result Dispatcher::resources_subscribe(Session& session, const json::object& params, bool subscribe) const {
  auto uri = string_field(params, "uri");
  if (!uri) return invalid_params("Invalid params: 'uri' is required and must be a string");
  if (subscribe) session.subscribe(*uri);
  else session.unsubscribe(*uri);
  return json::object{};
}

Dispatcher::Result Dispatcher::prompts_list(const json::object& params) const {
  return page(params, registry_.prompts(), "prompts", [](const Prompt& p) { return p.describe(); });
}

Dispatcher::Result Dispatcher::prompts_get(const SessionPtr& session, const Message& msg) const {
  auto name = string_field(msg.params, "name");
  if (!name) return invalid_params("Invalid params: 'name' is required and must be a string");
  const Prompt* prompt = registry_.find_prompt(*name);
  if (!prompt) return invalid_params("Unknown prompt: '" + *name + "'; call prompts/list for the available prompts");
  auto args = string_map(field(msg.params, "arguments"));
  for (const auto& a : prompt->arguments)
    if (a.required && !args.count(a.name))
      return invalid_params("Invalid params: prompt '" + *name + "' requires the argument '" + a.name + "'");
  CallContext ctx(session, msg.id, nullptr);
  auto outcome = prompt->get(ctx, args);
  if (auto* e = std::get_if<RpcError>(&outcome)) return *e;
  return std::get<json::object>(std::move(outcome));
}

Dispatcher::Result Dispatcher::complete(const json::object& params) const {
  auto ref = field(params, "ref");
  auto argument = field(params, "argument");
  if (!ref || !ref->is_object() || !argument || !argument->is_object())
    return invalid_params("Invalid params: 'ref' and 'argument' are required objects");
  auto type = string_field(ref->get_object(), "type");
  auto arg_name = string_field(argument->get_object(), "name");
  auto arg_value = string_field(argument->get_object(), "value");
  if (!type || !arg_name) return invalid_params("Invalid params: 'ref.type' and 'argument.name' are required");
  std::map<std::string, std::string> context;
  if (auto c = field(params, "context"); c && c->is_object()) context = string_map(field(c->get_object(), "arguments"));

  const std::map<std::string, Completer>* completers = nullptr;
  if (*type == "ref/prompt") {
    auto name = string_field(ref->get_object(), "name");
    const Prompt* p = name ? registry_.find_prompt(*name) : nullptr;
    if (!p) return invalid_params("Invalid params: unknown prompt in 'ref'");
    completers = &p->completers;
  } else if (*type == "ref/resource") {
    auto uri = string_field(ref->get_object(), "uri");
    const ResourceTemplate* t = uri ? registry_.find_template(*uri) : nullptr;
    if (!t && uri) {
      std::map<std::string, std::string> vars;
      t = registry_.match_template(*uri, vars);
    }
    if (!t && !(uri && registry_.find_resource(*uri))) return invalid_params("Invalid params: unknown resource in 'ref'");
    if (t) completers = &t->completers;
  } else {
    return invalid_params("Invalid params: 'ref.type' must be 'ref/prompt' or 'ref/resource'");
  }
  std::vector<std::string> values;
  if (completers)
    if (auto it = completers->find(*arg_name); it != completers->end()) values = it->second(arg_value.value_or(""), context);
  json::array arr;
  for (std::size_t i = 0; i < values.size() && i < 100; ++i) arr.push_back(json::string(values[i]));
  json::object completion{{"values", std::move(arr)}, {"total", values.size()}, {"hasMore", values.size() > 100}};
  return json::object{{"completion", std::move(completion)}};
}

Dispatcher::Result Dispatcher::set_log_level(Session& session, const json::object& params) const {
  auto level_name = string_field(params, "level");
  std::optional<LogLevel> level = level_name ? parse_log_level(*level_name) : std::nullopt;
  if (!level) return invalid_params("Invalid params: 'level' must be one of debug, info, notice, warning, error, critical, alert, emergency");
  session.set_log_level(*level);
  return json::object{};
}

}  // namespace mcpd::core
