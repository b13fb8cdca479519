// Shared fixtures for core tests: a sink that records what a session sends.
#pragma once
#include <mutex>
#include <vector>

#include "core/session.hpp"

namespace mcpd::testing {

class RecordingSink : public core::MessageSink {
 public:
  struct Sent {
    boost::json::object message;
    boost::json::value related;
  };
  void send(boost::json::object message, const boost::json::value& related) override {
    std::lock_guard lock(mutex);
    sent.push_back({std::move(message), related});
  }
  void on_session_closed() override { closed = true; }
  std::vector<Sent> snapshot() {
    std::lock_guard lock(mutex);
    return sent;
  }
  std::mutex mutex;
  std::vector<Sent> sent;
  bool closed = false;
};

}  // namespace mcpd::testing
