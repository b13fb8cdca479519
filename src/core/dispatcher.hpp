// Routes each JSON-RPC message of a session to the MCP method that serves it.
#pragma once
#include <boost/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>

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

// Where Pool handlers run; supplied by the application (a bounded thread pool).
class Executor {
 public:
  virtual ~Executor() = default;
  virtual void post(std::function<void()> work) = 0;
};

// One finished tool call, as observers see it.
struct ToolCallEvent {
  const Session& session;
  std::string_view tool;
  std::string_view outcome;        // ok, tool_error, error, cancelled, unknown_tool
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

  // Returns true when `message` is a request (then `reply` will be called); false for notifications
  // and responses, which get no reply.
  bool handle(const SessionPtr& session, const json::value& message, const Reply& reply);

  // A JSON-RPC batch of `members` messages, counted from `text` by count_batch_members (one place for
  // every transport). Refused as a whole, before it is parsed where the count suffices, unless the
  // session negotiated a protocol that has batches, the batch is within limits().max_batch and holds
  // no initialize: the error is returned and nothing runs. Otherwise every member runs and `done` gets
  // the answers as the text of one JSON array within limits().max_response_bytes ("" when no member
  // had an answer).
  std::optional<RpcError> handle_batch(const SessionPtr& session, std::string_view text, std::size_t members,
                                       std::function<void(std::string)> done);

  // Runs a tool for a caller outside JSON-RPC (the REST facade), with the same validation.
  void call_tool(const SessionPtr& session, const json::value& request_id, std::string_view name,
                 json::object arguments, json::value progress_token, ToolCompletion done);

  // Answers larger than limits.max_response_bytes are replaced by an error saying so.
  void set_limits(RequestLimits limits) { limits_ = limits; }
  const RequestLimits& limits() const { return limits_; }

  const Registry& registry() const { return registry_; }
  const ServerInfo& info() const { return info_; }

 private:
  using Result = std::variant<json::value, RpcError>;
  void handle_request(const SessionPtr& session, const Message& msg, const Reply& reply);
  void handle_notification(const SessionPtr& session, const Message& msg);

  Result initialize(Session& session, const json::object& params);
  void tools_call(const SessionPtr& session, const Message& msg, const Reply& reply);
  Result tools_list(const json::object& params) const;
  Result resources_list(const json::object& params) const;
  Result resource_templates_list(const json::object& params) const;
  Result resources_read(const SessionPtr& session, const Message& msg) const;
  Result resources_subscribe(Session& session, const json::object& params, bool subscribe) const;
  Result prompts_list(const json::object& params) const;
  Result prompts_get(const SessionPtr& session, const Message& msg) const;
  Result complete(const json::object& params) const;
  Result set_log_level(Session& session, const json::object& params) const;

  template <typename Items, typename Describe>
  Result page(const json::object& params, const Items& items, const char* key, Describe describe) const;

  const Registry& registry_;
  ServerInfo info_;
  Executor* pool_;
  CallObserver* observer_;
  std::size_t page_size_;
  RequestLimits limits_;
};

}  // namespace mcpd::core
