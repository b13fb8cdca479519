// CallContext: the handler's channel back to the client.
#include "core/call_context.hpp"

#include <cmath>
#include <condition_variable>
#include <mutex>

namespace mcpd::core {

namespace {
// Whole numbers go out as JSON integers ("50", not "5E1").
json::value number(double v) {
  if (std::floor(v) == v && std::fabs(v) < 9007199254740992.0) return static_cast<std::int64_t>(v);
  return v;
}
}  // namespace

CallContext::CallContext(SessionPtr session, json::value request_id, json::value progress_token)
    : session_(std::move(session)), request_id_(std::move(request_id)), progress_token_(std::move(progress_token)) {}

void CallContext::progress(double progress, std::optional<double> total, std::string message) {
  if (progress_token_.is_null() || cancelled()) return;
  json::object params;
  params["progressToken"] = progress_token_;
  params["progress"] = number(progress);
  if (total) params["total"] = number(*total);
  if (!message.empty()) params["message"] = std::move(message);
  session_->notify("notifications/progress", std::move(params), request_id_);
}

void CallContext::log(LogLevel level, json::value data, std::string logger) {
  if (level < session_->log_level()) return;
  json::object params;
  params["level"] = to_string(level);
  if (!logger.empty()) params["logger"] = std::move(logger);
  params["data"] = std::move(data);
  session_->notify("notifications/message", std::move(params), request_id_);
}

void CallContext::request_client(std::string_view method, json::object params, ClientReply on_reply) {
  session_->send_request(method, std::move(params), request_id_, std::move(on_reply));
}

Result<json::value> CallContext::ask_client(std::string_view method, json::object params,
                                            std::chrono::milliseconds timeout) {
  struct Waiter {
    std::mutex mutex;
    std::condition_variable cv;
    std::optional<std::variant<json::value, RpcError>> answer;
  };
  auto waiter = std::make_shared<Waiter>();
  request_client(method, std::move(params), [waiter](std::variant<json::value, RpcError> answer) {
    std::lock_guard lock(waiter->mutex);
    waiter->answer = std::move(answer);
    waiter->cv.notify_all();
  });
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(waiter->mutex);
  while (!waiter->answer) {
    if (cancelled()) return Cancelled{};
    if (std::chrono::steady_clock::now() >= deadline)
      return Error::timeout("The client did not answer " + std::string(method) + " in time");
    waiter->cv.wait_for(lock, std::chrono::milliseconds(50));
  }
  if (auto* e = std::get_if<RpcError>(&*waiter->answer))
    return Error::unavailable("The client answered " + std::string(method) + " with an error: " + e->message);
  return std::get<json::value>(std::move(*waiter->answer));
}

}  // namespace mcpd::core
