// SessionManager implementation.
#include "core/session_manager.hpp"

namespace mcpd::core {

SessionManager::SessionManager(std::size_t max_sessions, std::chrono::seconds idle_timeout, IdGenerator generate_id)
    : max_sessions_(max_sessions), idle_timeout_(idle_timeout), generate_id_(std::move(generate_id)) {}

SessionPtr SessionManager::create(std::shared_ptr<MessageSink> sink) {
  if (size() >= max_sessions_) expire_idle(std::chrono::steady_clock::now());
  auto session = std::make_shared<Session>(generate_id_(), std::move(sink));
  std::lock_guard lock(mutex_);
  if (sessions_.size() >= max_sessions_) return nullptr;
  sessions_.emplace(session->id(), session);
  return session;
}

SessionPtr SessionManager::find(const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : it->second;
}

bool SessionManager::end(const std::string& id) {
  SessionPtr session;
  {
    std::lock_guard lock(mutex_);
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return false;
    session = std::move(it->second);
    sessions_.erase(it);
  }
  session->close();
  return true;
}

std::size_t SessionManager::expire_idle(std::chrono::steady_clock::time_point now) {
  std::vector<SessionPtr> expired;
  {
    std::lock_guard lock(mutex_);
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      if (now - it->second->last_activity() > idle_timeout_ && it->second->calls_in_flight() == 0) {
        expired.push_back(std::move(it->second));
        it = sessions_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& s : expired) s->close();
  return expired.size();
}

std::size_t SessionManager::size() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

std::vector<SessionPtr> SessionManager::all() const {
  std::lock_guard lock(mutex_);
  std::vector<SessionPtr> out;
  out.reserve(sessions_.size());
  for (const auto& [id, s] : sessions_) out.push_back(s);
  return out;
}

void SessionManager::end_all() {
  std::unordered_map<std::string, SessionPtr> sessions;
  {
    std::lock_guard lock(mutex_);
    sessions.swap(sessions_);
  }
  for (auto& [id, s] : sessions) s->close();
}

void SessionManager::notify_resource_updated(const std::string& uri) {
  json::object params;
  params["uri"] = uri;
  for (auto& s : all())
    if (s->is_subscribed(uri)) s->notify("notifications/resources/updated", params);
}

void SessionManager::broadcast(std::string_view method, json::value params) {
  for (auto& s : all())
    if (s->initialized()) s->notify(method, params);
}

}  // namespace mcpd::core
