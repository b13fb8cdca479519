// Holds the live sessions: creation with a cap, lookup, end, idle expiry, broadcasts.
#pragma once
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
  SessionManager(std::size_t max_sessions, std::chrono::seconds idle_timeout, IdGenerator generate_id);

  // nullptr when the cap is reached even after expiring idle sessions.
  SessionPtr create(std::shared_ptr<MessageSink> sink);
  SessionPtr find(const std::string& id) const;
  bool end(const std::string& id);
  // Ends sessions idle for longer than the timeout; returns how many.
  std::size_t expire_idle(std::chrono::steady_clock::time_point now);
  std::size_t size() const;
  std::vector<SessionPtr> all() const;
  void end_all();

  // notifications/resources/updated to every session subscribed to `uri`.
  void notify_resource_updated(const std::string& uri);
  // A notification to every initialized session (e.g. notifications/tools/list_changed).
  void broadcast(std::string_view method, json::value params = nullptr);

 private:
  std::size_t max_sessions_;
  std::chrono::seconds idle_timeout_;
  IdGenerator generate_id_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, SessionPtr> sessions_;
};

}  // namespace mcpd::core
