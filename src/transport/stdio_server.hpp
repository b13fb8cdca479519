// MCP over stdio: one JSON-RPC message per line on stdin/stdout; logs go to stderr only.
#pragma once
#include <chrono>
#include <cstddef>

#include "core/dispatcher.hpp"

namespace mcpd::transport {

class StdioServer {
 public:
  StdioServer(core::Dispatcher& dispatcher, core::SessionManager& sessions, std::size_t max_message_bytes,
              int in_fd = 0, int out_fd = 1);
  // Serves until stdin ends (or stop() is called), then waits up to `drain` for calls in flight.
  void run(std::chrono::seconds drain);
  void stop();

 private:
  void handle_line(std::string_view line);
  void handle_batch(std::string_view line, std::size_t members);
  void reject_oversized();

  core::Dispatcher& dispatcher_;
  core::SessionManager& sessions_;
  std::size_t max_message_bytes_;
  int in_fd_;
  int out_fd_;
  core::SessionPtr session_;
  std::shared_ptr<class StdioSink> sink_;
  std::atomic<bool> stopping_{false};
};

}  // namespace mcpd::transport
