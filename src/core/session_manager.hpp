// Holds the live sessions: creation within a global and a per-key cap (recycling the least recently
// used idle session first), lookup, end, idle expiry, broadcasts.
#pragma once
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/session.hpp"

namespace mcpd::core {

class SessionManager {
 public:
  using IdGenerator = std::function<std::string()>;
  // `max_per_principal` 0 means max_sessions (no separate per-key cap).
  SessionManager(std::size_t max_sessions, std::chrono::seconds idle_timeout, IdGenerator generate_id,
                 std::size_t max_per_principal = 0);

  enum class Refusal { None, PrincipalBusy, Full };
  struct Opened {
    SessionPtr session;               // null when refused
    Refusal refusal = Refusal::None;  // PrincipalBusy: every session of this principal has a call in flight
  };
  // A new session for `principal`. At the principal's cap its own least recently used idle session is
  // ended to make room; at the global cap, the least recently used idle session of the principal
  // holding the most sessions. A session with a call in flight is never ended this way.
  Opened open(std::shared_ptr<MessageSink> sink, const std::string& principal);
  // What a client is told when open() refuses (HTTP 429 for PrincipalBusy, 503 for Full), the same
  // sentence on every transport.
  static std::string refusal_message(Refusal refusal);
  // open() for the principal "" (tools and tests); nullptr when refused.
  SessionPtr create(std::shared_ptr<MessageSink> sink) { return open(std::move(sink), "").session; }
  SessionPtr find(const std::string& id) const;
  bool end(const std::string& id);
  // Ends sessions idle for longer than the timeout; returns how many.
  std::size_t expire_idle(std::chrono::steady_clock::time_point now);
  std::size_t size() const;
  std::size_t count_for(const std::string& principal) const;
  // Sessions ended to make room for new ones, since start.
  std::uint64_t evicted() const { return evicted_.load(); }
  std::vector<SessionPtr> all() const;
  void end_all();

  // notifications/resources/updated to every session subscribed to `uri`.
  void notify_resource_updated(const std::string& uri);
  // A notification to every initialized session (e.g. notifications/tools/list_changed).
  void broadcast(std::string_view method, json::value params = nullptr);

 private:
  using Map = std::unordered_map<std::string, SessionPtr>;
  SessionPtr take_locked(Map::iterator it);
  // The least recently used session without calls in flight, of `principal` (or of anyone when null).
  Map::iterator lru_idle_locked(const std::string* principal);

  std::size_t max_sessions_;
  std::size_t max_per_principal_;
  std::chrono::seconds idle_timeout_;
  IdGenerator generate_id_;
  std::atomic<std::uint64_t> evicted_{0};
  mutable std::mutex mutex_;
  Map sessions_;
  std::unordered_map<std::string, std::size_t> per_principal_;
};

}  // namespace mcpd::core
