// SessionManager implementation.
#include "core/session_manager.hpp"

namespace mcpd::core {

SessionManager::SessionManager(std::size_t max_sessions, std::chrono::seconds idle_timeout, IdGenerator generate_id,
                               std::size_t max_per_principal)
    : max_sessions_(max_sessions),
      max_per_principal_(max_per_principal == 0 || max_per_principal > max_sessions ? max_sessions : max_per_principal),
      idle_timeout_(idle_timeout),
      generate_id_(std::move(generate_id)) {}

SessionPtr SessionManager::take_locked(Map::iterator it) {
  SessionPtr session = std::move(it->second);
  sessions_.erase(it);
  auto count = per_principal_.find(session->principal());
  if (count != per_principal_.end() && --count->second == 0) per_principal_.erase(count);
  return session;
}

SessionManager::Map::iterator SessionManager::lru_idle_locked(const std::string* principal) {
  auto best = sessions_.end();
  if (!principal) {
    // At the global cap the principal holding the most sessions gives one up, so a principal below
    // its own cap never loses a session to one that holds more.
    std::size_t most = 0;
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
      if (it->second->calls_in_flight() != 0) continue;
      std::size_t held = per_principal_[it->second->principal()];
      if (best == sessions_.end() || held > most ||
          (held == most && it->second->last_activity() < best->second->last_activity())) {
        best = it;
        most = held;
      }
    }
    return best;
  }
  for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
    if (it->second->principal() != *principal || it->second->calls_in_flight() != 0) continue;
    if (best == sessions_.end() || it->second->last_activity() < best->second->last_activity()) best = it;
  }
  return best;
}

SessionManager::Opened SessionManager::open(std::shared_ptr<MessageSink> sink, const std::string& principal) {
  if (size() >= max_sessions_) expire_idle(std::chrono::steady_clock::now());
  auto session = std::make_shared<Session>(generate_id_(), std::move(sink));
  session->set_principal(principal);
  SessionPtr evicted;
  {
    std::lock_guard lock(mutex_);
    auto held = per_principal_.find(principal);
    if (held != per_principal_.end() && held->second >= max_per_principal_) {
      auto victim = lru_idle_locked(&principal);
      if (victim == sessions_.end()) return {nullptr, Refusal::PrincipalBusy};
      evicted = take_locked(victim);
    } else if (sessions_.size() >= max_sessions_) {
      auto victim = lru_idle_locked(nullptr);
      if (victim == sessions_.end()) return {nullptr, Refusal::Full};
      evicted = take_locked(victim);
    }
    sessions_.emplace(session->id(), session);
    ++per_principal_[principal];
  }
  if (evicted) {
    evicted_.fetch_add(1);
    evicted->close();
  }
  return {session, Refusal::None};
}

std::string SessionManager::refusal_message(Refusal refusal) {
  if (refusal == Refusal::PrincipalBusy)
    return "every session of this API key has a call in flight and the key is at its session cap "
           "(server.max_sessions_per_key); retry when a call ends";
  return "every session has a call in flight (server.max_sessions); retry later";
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
    session = take_locked(it);
  }
  session->close();
  return true;
}

std::size_t SessionManager::expire_idle(std::chrono::steady_clock::time_point now) {
  std::vector<SessionPtr> expired;
  {
    std::lock_guard lock(mutex_);
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      auto next = std::next(it);
      if (now - it->second->last_activity() > idle_timeout_ && it->second->calls_in_flight() == 0) {
        expired.push_back(take_locked(it));
      }
      it = next;
    }
  }
  for (auto& s : expired) s->close();
  return expired.size();
}

std::size_t SessionManager::size() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

std::size_t SessionManager::count_for(const std::string& principal) const {
  std::lock_guard lock(mutex_);
  auto it = per_principal_.find(principal);
  return it == per_principal_.end() ? 0 : it->second;
}

std::vector<SessionPtr> SessionManager::all() const {
  std::lock_guard lock(mutex_);
  std::vector<SessionPtr> out;
  out.reserve(sessions_.size());
  for (const auto& [id, s] : sessions_) out.push_back(s);
  return out;
}

void SessionManager::end_all() {
  Map sessions;
  {
    std::lock_guard lock(mutex_);
    sessions.swap(sessions_);
    per_principal_.clear();
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
