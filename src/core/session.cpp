// Session state and server->client request routing.
#include "core/session.hpp"

#include "core/call_context.hpp"

namespace mcpd::core {

Session::Session(std::string id, std::shared_ptr<MessageSink> sink) : id_(std::move(id)), sink_(std::move(sink)) {
  touch();
}

Session::~Session() { close(); }

void Session::mark_initialized(std::string protocol_version, json::object client_info, json::object client_capabilities) {
  {
    std::lock_guard lock(mutex_);
    protocol_version_ = std::move(protocol_version);
    client_info_ = std::move(client_info);
    client_capabilities_ = std::move(client_capabilities);
  }
  initialized_.store(true);
}

std::string Session::protocol_version() const {
  std::lock_guard lock(mutex_);
  return protocol_version_;
}

json::object Session::client_capabilities() const {
  std::lock_guard lock(mutex_);
  return client_capabilities_;
}

bool Session::client_supports(std::string_view capability) const {
  std::lock_guard lock(mutex_);
  return client_capabilities_.contains(capability);
}

void Session::subscribe(const std::string& uri) {
  std::lock_guard lock(mutex_);
  subscriptions_.insert(uri);
}

void Session::unsubscribe(const std::string& uri) {
  std::lock_guard lock(mutex_);
  subscriptions_.erase(uri);
}

bool Session::is_subscribed(const std::string& uri) const {
  std::lock_guard lock(mutex_);
  return subscriptions_.count(uri) > 0;
}

void Session::notify(std::string_view method, json::value params, const json::value& related) {
  if (closed_.load() || !sink_) return;
  sink_->send(make_notification(method, std::move(params)), related);
}

void Session::send_request(std::string_view method, json::object params, const json::value& related,
                           ClientReply on_reply) {
  if (closed_.load() || !sink_) {
    on_reply(RpcError{error_code::kInternalError, "the session has ended", nullptr});
    return;
  }
  json::value id(json::string("mcpd-" + std::to_string(next_request_id_.fetch_add(1))));
  {
    std::lock_guard lock(mutex_);
    pending_.emplace(id_key(id), std::move(on_reply));
  }
  sink_->send(make_request(id, method, std::move(params)), related);
}

bool Session::resolve_response(const Message& response) {
  ClientReply handler;
  {
    std::lock_guard lock(mutex_);
    auto it = pending_.find(response.key);
    if (it == pending_.end()) return false;
    handler = std::move(it->second);
    pending_.erase(it);
  }
  if (response.kind == MessageKind::Response) handler(response.result);
  else handler(response.error);
  return true;
}

void Session::track_call(const std::string& key, std::shared_ptr<CallContext> call) {
  std::lock_guard lock(mutex_);
  calls_[key] = call;
}

void Session::untrack_call(const std::string& key) {
  std::lock_guard lock(mutex_);
  calls_.erase(key);
}

void Session::cancel_call(const std::string& key) {
  std::shared_ptr<CallContext> call;
  {
    std::lock_guard lock(mutex_);
    if (auto it = calls_.find(key); it != calls_.end()) call = it->second.lock();
  }
  if (call) call->cancel();
}

std::size_t Session::calls_in_flight() const {
  std::lock_guard lock(mutex_);
  return calls_.size();
}

void Session::close() {
  if (closed_.exchange(true)) return;
  std::map<std::string, ClientReply> pending;
  std::map<std::string, std::weak_ptr<CallContext>> calls;
  {
    std::lock_guard lock(mutex_);
    pending.swap(pending_);
    calls.swap(calls_);
  }
  for (auto& [key, call] : calls)
    if (auto c = call.lock()) c->cancel();
  for (auto& [key, reply] : pending) reply(RpcError{error_code::kInternalError, "the session has ended", nullptr});
  if (sink_) sink_->on_session_closed();
}

}  // namespace mcpd::core
