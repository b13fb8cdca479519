// One MCP session: lifecycle, negotiated version, client capabilities, log level, subscriptions,
// server->client requests waiting for answers, and the calls in flight (for cancellation).
#pragma once
#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <variant>

#include "core/json_rpc.hpp"
#include "core/log_level.hpp"

namespace mcpd::core {

class CallContext;

// How a session's server->client messages leave the process; supplied by the transport. Thread-safe.
class MessageSink {
 public:
  virtual ~MessageSink() = default;
  // `related` is the id of the client request the message belongs to, or null.
  virtual void send(json::object message, const json::value& related) = 0;
  // The session ended: open streams should end too.
  virtual void on_session_closed() {}
  // Ends the stream that carries request `related` now; its answer will wait for the client to
  // resume (SSE polling). A no-op for transports without such streams.
  virtual void close_stream(const json::value& related) {}
};

using ClientReply = std::function<void(std::variant<json::value, RpcError>)>;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(std::string id, std::shared_ptr<MessageSink> sink);
  ~Session();

  const std::string& id() const { return id_; }
  const std::shared_ptr<MessageSink>& sink() const { return sink_; }

  bool initialized() const { return initialized_.load(); }
  void mark_initialized(std::string protocol_version, json::object client_info, json::object client_capabilities);
  std::string protocol_version() const;
  json::object client_capabilities() const;
  bool client_supports(std::string_view capability) const;

  LogLevel log_level() const { return static_cast<LogLevel>(log_level_.load()); }
  void set_log_level(LogLevel level) { log_level_.store(static_cast<int>(level)); }

  void subscribe(const std::string& uri);
  void unsubscribe(const std::string& uri);
  bool is_subscribed(const std::string& uri) const;

  // Server -> client traffic. `related` routes the message onto the stream of that client request.
  void notify(std::string_view method, json::value params, const json::value& related = nullptr);
  void send_request(std::string_view method, json::object params, const json::value& related, ClientReply on_reply);
  void close_stream(const json::value& related) {
    if (sink_ && !closed_.load()) sink_->close_stream(related);
  }
  // Routes a client's response or error to the request waiting for it; false if nobody waits.
  bool resolve_response(const Message& response);

  void track_call(const std::string& key, std::shared_ptr<CallContext> call);
  void untrack_call(const std::string& key);
  void cancel_call(const std::string& key);
  std::size_t calls_in_flight() const;

  // Ends the session: pending server->client requests fail, calls in flight are cancelled.
  void close();
  bool closed() const { return closed_.load(); }

  void touch() { last_activity_.store(std::chrono::steady_clock::now().time_since_epoch().count()); }
  std::chrono::steady_clock::time_point last_activity() const {
    return std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(last_activity_.load()));
  }

  // The authenticated principal (API key id) that opened the session, for audit and logs.
  void set_principal(std::string p) { principal_ = std::move(p); }
  const std::string& principal() const { return principal_; }

 private:
  std::string id_;
  std::shared_ptr<MessageSink> sink_;
  std::atomic<bool> initialized_{false};
  std::atomic<bool> closed_{false};
  std::atomic<int> log_level_{static_cast<int>(LogLevel::Debug)};
  std::atomic<std::int64_t> next_request_id_{1};
  std::atomic<std::chrono::steady_clock::rep> last_activity_{0};
  std::string principal_;

  mutable std::mutex mutex_;
  std::string protocol_version_;
  json::object client_info_;
  json::object client_capabilities_;
  std::set<std::string> subscriptions_;
  std::map<std::string, ClientReply> pending_;
  std::map<std::string, std::weak_ptr<CallContext>> calls_;
};

using SessionPtr = std::shared_ptr<Session>;

}  // namespace mcpd::core
