// What a handler sees of the call it serves: progress, logs, questions to the client, cancellation.
#pragma once
#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "core/json_rpc.hpp"
#include "core/log_level.hpp"
#include "core/result.hpp"
#include "core/session.hpp"

namespace mcpd::core {

class CallContext {
 public:
  CallContext(SessionPtr session, json::value request_id, json::value progress_token);

  const json::value& request_id() const { return request_id_; }
  Session& session() { return *session_; }
  const SessionPtr& session_ptr() const { return session_; }

  bool has_progress_token() const { return !progress_token_.is_null(); }
  // Sends notifications/progress when the client asked for it (a progressToken); otherwise a no-op.
  void progress(double progress, std::optional<double> total = std::nullopt, std::string message = {});
  // Sends notifications/message when `level` is at or above the session's level.
  void log(LogLevel level, json::value data, std::string logger = {});

  // Asks the client (sampling/createMessage, elicitation/create, roots/list); the answer arrives later.
  void request_client(std::string_view method, json::object params, ClientReply on_reply);
  // Blocking form for handlers running on the worker pool: the client's answer, a Timeout or
  // Unavailable error (the client answered with an error), or Cancelled.
  Result<json::value> ask_client(std::string_view method, json::object params,
                                                 std::chrono::milliseconds timeout = std::chrono::seconds(60));

  // Ends the response stream of this call early (SSE polling): the client resumes with
  // Last-Event-ID and receives the result then. Transports without streams ignore it.
  void close_stream() { session_->close_stream(request_id_); }

  bool cancelled() const { return cancelled_.load(); }
  void cancel() { cancelled_.store(true); }

 private:
  SessionPtr session_;
  json::value request_id_;
  json::value progress_token_;
  std::atomic<bool> cancelled_{false};
};

using CallContextPtr = std::shared_ptr<CallContext>;

}  // namespace mcpd::core
