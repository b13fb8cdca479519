// Routes each JSON-RPC message of a session to the MCP method that serves it.
#pragma once
#include <boost/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/execution.hpp"
#include "core/registry.hpp"
#include "core/session.hpp"
#include "core/session_manager.hpp"

namespace mcpd::core {

struct ServerInfo {
  std::string name = "mcpd";
  std::string title = "mcpd";
  std::string version;
  std::string instructions;
};

// One finished tool call, as observers see it.
struct ToolCallEvent {
  const Session& session;
  std::string_view tool;
  std::string_view outcome;        // ok, tool_error (an isError answer), busy, cancelled, unknown_tool
  double seconds = 0;
  std::shared_ptr<const json::object> arguments;  // as called; null unless the observer wants them
  const ToolOutcome* result;       // null for an unknown tool
};

// Told about every finished tool call (metrics, audit). Must be thread-safe.
class CallObserver {
 public:
  virtual ~CallObserver() = default;
  // Whether on_tool_call needs the arguments (keeping them costs a copy per call).
  virtual bool wants_arguments() const { return false; }
  virtual void on_tool_call(const ToolCallEvent& call) = 0;
};

// Bounds on the work one request may cause, enforced where every transport passes.
struct RequestLimits {
  std::size_t max_batch = 64;                   // members of one JSON-RPC batch (protocols up to 2025-03-26)
  std::size_t max_response_bytes = 32u << 20;   // one answer, or one batch's answers, as JSON text
  std::size_t max_parsed_bytes = 8u << 20;      // one message once parsed (twice the body limit)
};

// Called exactly once per request; nullopt means the request was cancelled and gets no answer.
using Reply = std::function<void(std::optional<json::object>)>;

class Dispatcher {
 public:
  Dispatcher(const Registry& registry, ServerInfo info, Executor* pool, CallObserver* observer,
             std::size_t page_size = 100);

  // Handles one message, classified where it entered (core::classify). Returns true when it is a
  // request (then `reply` will be called); false for notifications and responses, which get no reply.
  bool handle(const SessionPtr& session, Classified message, const Reply& reply);
  // The same for a message not classified yet (batch members, tests).
  bool handle(const SessionPtr& session, const json::value& message, const Reply& reply) {
    return handle(session, classify(message), reply);
  }

  // A JSON-RPC batch of `members` messages, counted from `text` by count_batch_members (one place for
  // every transport). Refused as a whole, before it is parsed where the count suffices, unless the
  // session negotiated a protocol that has batches, the batch is within limits().max_batch and holds
  // no initialize: the error is returned and nothing runs. Otherwise every member runs and `done` gets
  // the answers as the text of one JSON array within limits().max_response_bytes ("" when no member
  // had an answer).
  std::optional<RpcError> handle_batch(const SessionPtr& session, std::string_view text, std::size_t members,
                                       std::function<void(std::string)> done);

  // Runs a tool for a caller outside JSON-RPC (the REST facade, the CLI), with the same validation,
  // execution, boundary and observers (audit, metrics) as tools/call. An unknown tool is NotFound.
  void call_tool(const SessionPtr& session, const json::value& request_id, std::string_view name,
                 json::object arguments, json::value progress_token, ToolCompletion done) {
    call_tool(session, request_id, id_key(request_id), name, std::move(arguments), std::move(progress_token), std::move(done));
  }
  // The same with the request's key (Message::key) already known.
  void call_tool(const SessionPtr& session, const json::value& request_id, std::string key, std::string_view name,
                 json::object arguments, json::value progress_token, ToolCompletion done);

  // Whether a failed tool call is answered as an error (an unknown tool, a full queue) rather than as
  // an isError result the model reads (every other Error of a known tool). One rule for every surface.
  static bool is_protocol_error(const Error& error, bool tool_known) {
    return !tool_known || error.kind == ErrorKind::Busy;
  }

  // Answers larger than limits.max_response_bytes are replaced by an error saying so.
  void set_limits(RequestLimits limits) { limits_ = limits; }
  const RequestLimits& limits() const { return limits_; }

  const Registry& registry() const { return registry_; }
  const ServerInfo& info() const { return info_; }

 private:
  struct Call;
  // An answer on the wire: the result, the JSON-RPC error (pack Errors are mapped before this), or
  // none (cancelled).
  using Answer = std::variant<json::value, RpcError, Cancelled>;
  void handle_request(const SessionPtr& session, Message& msg, const Reply& reply);
  void handle_notification(const SessionPtr& session, const Message& msg);
  // Runs `work` where `execution` says (Busy when the pool is full) and replies with its answer.
  void run(Execution execution, const Message& msg, const Reply& reply, std::function<Answer()> work) const;

  Answer initialize(Session& session, const json::object& params);
  void tools_call(const SessionPtr& session, Message& msg, const Reply& reply);
  Answer tools_list(const json::object& params) const;
  Answer resources_list(const json::object& params) const;
  Answer resource_templates_list(const json::object& params) const;
  void resources_read(const SessionPtr& session, const Message& msg, const Reply& reply) const;
  Answer resources_subscribe(Session& session, const json::object& params, bool subscribe) const;
  Answer prompts_list(const json::object& params) const;
  void prompts_get(const SessionPtr& session, const Message& msg, const Reply& reply) const;
  void complete(const Message& msg, const Reply& reply) const;
  Answer set_log_level(Session& session, const json::object& params) const;

  template <typename Items, typename Describe>
  Answer page(const json::object& params, const Items& items, const char* key, Describe describe) const;

  const Registry& registry_;
  ServerInfo info_;
  Executor* pool_;
  CallObserver* observer_;
  std::size_t page_size_;
  RequestLimits limits_;
};

}  // namespace mcpd::core
