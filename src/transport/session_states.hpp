// A transport's own state for each of its sessions (the SSE streams of Streamable HTTP), found by
// session id. The transport owns the concrete type, so it never casts the core session's sink back;
// a session of another transport simply has no entry. Entries die with their session: the map holds
// weak references and drops expired ones as it grows.
#pragma once
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace mcpd::transport {

template <typename State>
class SessionStates {
 public:
  void add(const std::string& session_id, const std::shared_ptr<State>& state) {
    std::lock_guard lock(mutex_);
    if (states_.size() >= sweep_at_) {
      std::erase_if(states_, [](const auto& entry) { return entry.second.expired(); });
      sweep_at_ = std::max<std::size_t>(64, states_.size() * 2);
    }
    states_[session_id] = state;
  }
  // The state of a live session of this transport; null otherwise.
  std::shared_ptr<State> find(const std::string& session_id) const {
    std::lock_guard lock(mutex_);
    auto it = states_.find(session_id);
    return it == states_.end() ? nullptr : it->second.lock();
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::weak_ptr<State>> states_;
  std::size_t sweep_at_ = 64;
};

}  // namespace mcpd::transport
