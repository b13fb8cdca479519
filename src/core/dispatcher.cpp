// Dispatcher: the MCP methods.
#include "core/dispatcher.hpp"

#include <chrono>

#include "core/call_context.hpp"
#include "core/cursor.hpp"
#include "core/error_mapping.hpp"
#include "core/fault.hpp"
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

// Sends an answer, held to the bound on every answer (tools/call applies the same bound itself).
void deliver(const Reply& reply, const json::value& id, std::size_t max, std::variant<json::value, RpcError, Cancelled> r) {
  if (std::holds_alternative<Cancelled>(r)) return reply(std::nullopt);
  if (auto* e = std::get_if<RpcError>(&r)) return reply(within_bound(make_error(id, *e), id, max));
  reply(within_bound(make_result(id, std::move(std::get<json::value>(r))), id, max));
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

bool Dispatcher::handle(const SessionPtr& session, Classified classified, const Reply& reply) {
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
    if (!handle(session, classify(item), [answers](std::optional<json::object> a) { answers->add(std::move(a)); }))
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

void Dispatcher::handle_request(const SessionPtr& session, Message& msg, const Reply& reply) {
  const std::string& m = msg.method;
  auto answer = [&](Answer r) { deliver(reply, msg.id, limits_.max_response_bytes, std::move(r)); };
  if (m == "initialize") return answer(initialize(*session, msg.params));
  if (m == "ping") return answer(json::object{});
  if (!session->initialized())
    return answer(RpcError{error_code::kInvalidRequest,
                           "Invalid Request: the session is not initialized; send 'initialize' first", nullptr});
  if (m == "tools/call") return tools_call(session, msg, reply);
  if (m == "tools/list") return answer(tools_list(msg.params));
  if (m == "resources/list") return answer(resources_list(msg.params));
  if (m == "resources/templates/list") return answer(resource_templates_list(msg.params));
  if (m == "resources/read") return resources_read(session, msg, reply);
  if (m == "resources/subscribe") return answer(resources_subscribe(*session, msg.params, true));
  if (m == "resources/unsubscribe") return answer(resources_subscribe(*session, msg.params, false));
  if (m == "prompts/list") return answer(prompts_list(msg.params));
  if (m == "prompts/get") return prompts_get(session, msg, reply);
  if (m == "completion/complete") return complete(msg, reply);
  if (m == "logging/setLevel") return answer(set_log_level(*session, msg.params));
  answer(RpcError{error_code::kMethodNotFound, "Method not found: " + m, nullptr});
}

void Dispatcher::run(Execution execution, const Message& msg, const Reply& reply, std::function<Answer()> work) const {
  auto id = msg.id;
  auto max = limits_.max_response_bytes;
  if (execution == Execution::Pool && pool_) {
    if (!pool_->post([reply, id, max, work = std::move(work)] { deliver(reply, id, max, work()); }))
      deliver(reply, id, max, to_rpc_error(Error::busy()));
    return;
  }
  deliver(reply, id, max, work());
}

Dispatcher::Answer Dispatcher::initialize(Session& session, const json::object& params) {
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
Dispatcher::Answer Dispatcher::page(const json::object& params, const Items& items, const char* key,
                                    Describe describe) const {
  std::size_t offset = 0;
  if (auto c = field(params, "cursor"); c && !c->is_null()) {
    std::optional<std::size_t> decoded;
    if (c->is_string()) decoded = decode_cursor(c->get_string(), key);
    if (!decoded || *decoded > items.size()) return invalid_params("Invalid params: unknown or expired cursor; list again without one");
    offset = *decoded;
  }
  json::array out;
  std::size_t end = std::min(items.size(), offset + page_size_);
  out.reserve(end - offset);
  for (std::size_t i = offset; i < end; ++i) out.push_back(describe(items[i]));
  json::object result{{key, std::move(out)}};
  if (end < items.size()) result["nextCursor"] = encode_cursor(end, key);
  return result;
}

Dispatcher::Answer Dispatcher::tools_list(const json::object& params) const {
  return page(params, registry_.tool_descriptions(), "tools", [](const json::object& d) { return d; });
}

void Dispatcher::tools_call(const SessionPtr& session, Message& msg, const Reply& reply) {
  auto name = string_field(msg.params, "name");
  if (!name) return reply(make_error(msg.id, invalid_params("Invalid params: 'name' is required and must be a string")));
  json::object args;
  if (auto a = msg.params.find("arguments"); a != msg.params.end() && !a->value().is_null()) {
    if (!a->value().is_object()) return reply(make_error(msg.id, invalid_params("Invalid params: 'arguments' must be an object")));
    args = std::move(a->value().get_object());  // the message is ours: no copy
  }
  // An unknown tool is a protocol error (-32602); a known tool's Error is a result the model reads.
  const bool known = registry_.find_tool(*name) != nullptr;
  json::value id = msg.id;
  call_tool(session, id, std::move(msg.key), *name, std::move(args), progress_token_of(msg.params),
            [reply, id, known, max = limits_.max_response_bytes](ToolOutcome outcome) {
    if (outcome.cancelled()) return reply(std::nullopt);  // no answer
    if (outcome.failed()) {
      const Error& e = outcome.error();
      if (is_protocol_error(e, known)) return reply(within_bound(make_error(id, to_rpc_error(e)), id, max));
      return reply(within_bound(make_result(id, ToolResult::error(e.message).to_json()), id, max));
    }
    reply(within_bound(make_result(id, std::move(outcome).value().to_json()), id, max));
  });
}

// One tool call in flight: everything its completion needs, in one object, so that the handler's
// `done` is a single small function holding one pointer (no nest of std::functions, each a copy).
struct Dispatcher::Call {
  const Dispatcher& dispatcher;
  SessionPtr session;
  const Tool* tool;
  std::chrono::steady_clock::time_point started;
  std::shared_ptr<const json::object> recorded;  // the arguments as called, for an observer that records them
  std::string key;                               // the request's key in the session's table of calls
  CallContextPtr context;
  ToolCompletion done;

  // The call's answer: untracks it, tells the observer, and hands the outcome on.
  void finish(ToolOutcome outcome) {
    if (context) {
      session->untrack_call(key);
      if (context->cancelled()) outcome = Cancelled{};
    }
    std::string_view label = "ok";
    if (outcome.cancelled()) label = "cancelled";
    // What the client saw: a known tool's Error is an isError result, like one the tool built itself.
    else if (outcome.failed()) label = outcome.error().kind == ErrorKind::Busy ? "busy" : "tool_error";
    else if (outcome->is_error) label = "tool_error";
    if (outcome.failed()) log_error_detail(handler_name("tool", tool->name), outcome.error());
    if (dispatcher.observer_) {
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      dispatcher.observer_->on_tool_call(ToolCallEvent{*session, tool->name, label, seconds, recorded, &outcome});
    }
    done(std::move(outcome));
  }

  // Runs the handler inside the fault boundary; answers through finish().
  static void run(const std::shared_ptr<Call>& call, json::object arguments) {
    const Tool& tool = *call->tool;
    if (tool.async_handler) {
      // A throw before the handler hands `done` on is answered here; after that, the handler owns it.
      auto status = guarded("tool", tool.name, [&]() -> Status {
        tool.async_handler(call->context, std::move(arguments), [call](ToolOutcome o) { call->finish(std::move(o)); });
        return {};
      });
      if (!status) call->finish(std::move(status).failure());
      return;
    }
    call->finish(guarded("tool", tool.name, [&] { return tool.handler(*call->context, arguments); }));
  }
};

void Dispatcher::call_tool(const SessionPtr& session, const json::value& request_id, std::string key,
                           std::string_view name, json::object arguments, json::value progress_token, ToolCompletion done) {
  const Tool* tool = registry_.find_tool(name);
  if (!tool) {
    if (observer_) {
      std::shared_ptr<const json::object> args;
      if (observer_->wants_arguments()) args = std::make_shared<const json::object>(std::move(arguments));
      observer_->on_tool_call(ToolCallEvent{*session, name, "unknown_tool", 0, std::move(args), nullptr});
    }
    return done(Error::not_found("Unknown tool: '" + std::string(name) + "'; call tools/list for the available tools"));
  }
  auto call = std::make_shared<Call>(Call{*this, session, tool, std::chrono::steady_clock::now(), nullptr, std::move(key),
                                          nullptr, std::move(done)});
  if (observer_ && observer_->wants_arguments()) call->recorded = std::make_shared<const json::object>(arguments);
  json::value args_value(std::move(arguments));
  if (auto problem = validate_against_schema(args_value, tool->input_schema))
    return call->finish(ToolResult::error("Invalid arguments for tool '" + tool->name + "': " + *problem));

  call->context = std::make_shared<CallContext>(session, request_id, std::move(progress_token));
  session->track_call(call->key, call->context);
  if (tool->execution == Execution::Pool && pool_) {
    if (!pool_->post([call, arguments = std::move(args_value.as_object())]() mutable { Call::run(call, std::move(arguments)); }))
      call->finish(Error::busy());
  } else {
    Call::run(call, std::move(args_value.as_object()));
  }
}

Dispatcher::Answer Dispatcher::resources_list(const json::object& params) const {
  return page(params, registry_.resources(), "resources", [](const Resource& r) { return r.describe(); });
}

Dispatcher::Answer Dispatcher::resource_templates_list(const json::object& params) const {
  return page(params, registry_.resource_templates(), "resourceTemplates",
              [](const ResourceTemplate& t) { return t.describe(); });
}

void Dispatcher::resources_read(const SessionPtr& session, const Message& msg, const Reply& reply) const {
  auto uri = string_field(msg.params, "uri");
  if (!uri) return run(Execution::Inline, msg, reply, [] { return Answer(invalid_params("Invalid params: 'uri' is required and must be a string")); });
  const Resource* resource = registry_.find_resource(*uri);
  std::map<std::string, std::string> vars;
  const ResourceTemplate* tmpl = resource ? nullptr : registry_.match_template(*uri, vars);
  if (!resource && !tmpl)
    return run(Execution::Inline, msg, reply, [&] {
      return Answer(RpcError{error_code::kResourceNotFound, "Resource not found: " + *uri, json::object{{"uri", *uri}}});
    });
  Execution execution = resource ? resource->execution : tmpl->execution;
  run(execution, msg, reply, [session, id = msg.id, resource, tmpl, uri = *uri, vars = std::move(vars)]() -> Answer {
    CallContext ctx(session, id, nullptr);
    ReadOutcome outcome = resource ? guarded("resource", uri, [&] { return resource->read(ctx); })
                                   : guarded("resource", uri, [&] { return tmpl->read(ctx, uri, vars); });
    if (outcome.cancelled()) return Cancelled{};
    if (outcome.failed()) {
      log_error_detail(handler_name("resource", uri), outcome.error());
      return to_rpc_error(outcome.error(), error_code::kResourceNotFound);
    }
    return contents_result(*outcome);
  });
}

Dispatcher::Answer Dispatcher::resources_subscribe(Session& session, const json::object& params, bool subscribe) const {
  auto uri = string_field(params, "uri");
  if (!uri) return invalid_params("Invalid params: 'uri' is required and must be a string");
  if (subscribe) session.subscribe(*uri);
  else session.unsubscribe(*uri);
  return json::object{};
}

Dispatcher::Answer Dispatcher::prompts_list(const json::object& params) const {
  return page(params, registry_.prompts(), "prompts", [](const Prompt& p) { return p.describe(); });
}

void Dispatcher::prompts_get(const SessionPtr& session, const Message& msg, const Reply& reply) const {
  auto refuse = [&](std::string message) {
    run(Execution::Inline, msg, reply, [&] { return Answer(invalid_params(std::move(message))); });
  };
  auto name = string_field(msg.params, "name");
  if (!name) return refuse("Invalid params: 'name' is required and must be a string");
  const Prompt* prompt = registry_.find_prompt(*name);
  if (!prompt) return refuse("Unknown prompt: '" + *name + "'; call prompts/list for the available prompts");
  auto args = string_map(field(msg.params, "arguments"));
  for (const auto& a : prompt->arguments)
    if (a.required && !args.count(a.name))
      return refuse("Invalid params: prompt '" + *name + "' requires the argument '" + a.name + "'");
  run(prompt->execution, msg, reply, [session, id = msg.id, prompt, args = std::move(args)]() -> Answer {
    CallContext ctx(session, id, nullptr);
    auto outcome = guarded("prompt", prompt->name, [&] { return prompt->get(ctx, args); });
    if (outcome.cancelled()) return Cancelled{};
    if (outcome.failed()) {
      log_error_detail(handler_name("prompt", prompt->name), outcome.error());
      return to_rpc_error(outcome.error());
    }
    return std::move(outcome).value();
  });
}

void Dispatcher::complete(const Message& msg, const Reply& reply) const {
  auto refuse = [&](std::string message) {
    run(Execution::Inline, msg, reply, [&] { return Answer(invalid_params(std::move(message))); });
  };
  const json::object& params = msg.params;
  auto ref = field(params, "ref");
  auto argument = field(params, "argument");
  if (!ref || !ref->is_object() || !argument || !argument->is_object())
    return refuse("Invalid params: 'ref' and 'argument' are required objects");
  auto type = string_field(ref->get_object(), "type");
  auto arg_name = string_field(argument->get_object(), "name");
  auto arg_value = string_field(argument->get_object(), "value");
  if (!type || !arg_name) return refuse("Invalid params: 'ref.type' and 'argument.name' are required");
  std::map<std::string, std::string> context;
  if (auto c = field(params, "context"); c && c->is_object()) context = string_map(field(c->get_object(), "arguments"));

  const std::map<std::string, Completer>* completers = nullptr;
  Execution execution = Execution::Inline;
  if (*type == "ref/prompt") {
    auto name = string_field(ref->get_object(), "name");
    const Prompt* p = name ? registry_.find_prompt(*name) : nullptr;
    if (!p) return refuse("Invalid params: unknown prompt in 'ref'");
    completers = &p->completers;
    execution = p->execution;
  } else if (*type == "ref/resource") {
    auto uri = string_field(ref->get_object(), "uri");
    const ResourceTemplate* t = uri ? registry_.find_template(*uri) : nullptr;
    if (!t && uri) {
      std::map<std::string, std::string> vars;
      t = registry_.match_template(*uri, vars);
    }
    if (!t && !(uri && registry_.find_resource(*uri))) return refuse("Invalid params: unknown resource in 'ref'");
    if (t) {
      completers = &t->completers;
      execution = t->execution;
    }
  } else {
    return refuse("Invalid params: 'ref.type' must be 'ref/prompt' or 'ref/resource'");
  }
  const Completer* completer = nullptr;
  if (completers)
    if (auto it = completers->find(*arg_name); it != completers->end()) completer = &it->second;
  if (!completer) execution = Execution::Inline;  // nothing to run
  run(execution, msg, reply, [completer, value = arg_value.value_or(""), context = std::move(context),
                              name = *arg_name]() -> Answer {
    auto values = guarded("completion of", name, [&]() -> Result<std::vector<std::string>> {
      if (!completer) return std::vector<std::string>{};
      return (*completer)(value, context);
    });
    if (values.failed()) return to_rpc_error(values.error());
    json::array arr;
    for (std::size_t i = 0; i < values->size() && i < 100; ++i) arr.push_back(json::string((*values)[i]));
    json::object completion{{"values", std::move(arr)}, {"total", values->size()}, {"hasMore", values->size() > 100}};
    return json::object{{"completion", std::move(completion)}};
  });
}

Dispatcher::Answer Dispatcher::set_log_level(Session& session, const json::object& params) const {
  auto level_name = string_field(params, "level");
  std::optional<LogLevel> level = level_name ? parse_log_level(*level_name) : std::nullopt;
  if (!level) return invalid_params("Invalid params: 'level' must be one of debug, info, notice, warning, error, critical, alert, emergency");
  session.set_log_level(*level);
  return json::object{};
}

}  // namespace mcpd::core
