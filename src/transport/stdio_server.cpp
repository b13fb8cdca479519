// stdio transport: a reader loop on the calling thread; replies may come from worker threads.
#include "transport/stdio_server.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <thread>

#include "infra/logging.hpp"

namespace mcpd::transport {

namespace json = boost::json;

class StdioSink : public core::MessageSink {
 public:
  explicit StdioSink(int fd) : fd_(fd) {}
  void send(json::object message, const json::value&) override { write_line(json::serialize(message)); }
  void write_line(std::string line) {
    line.push_back('\n');
    std::lock_guard lock(mutex_);
    const char* p = line.data();
    std::size_t left = line.size();
    while (left > 0) {
      ssize_t n = ::write(fd_, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // stdout closed: the client is gone
      p += n;
      left -= static_cast<std::size_t>(n);
    }
  }

 private:
  int fd_;
  std::mutex mutex_;
};

StdioServer::StdioServer(core::Dispatcher& dispatcher, core::SessionManager& sessions, std::size_t max_message_bytes,
                         int in_fd, int out_fd)
    : dispatcher_(dispatcher), sessions_(sessions), max_message_bytes_(max_message_bytes), in_fd_(in_fd), out_fd_(out_fd) {
  sink_ = std::make_shared<StdioSink>(out_fd_);
  session_ = sessions_.open(sink_, "stdio").session;
  if (!session_) throw std::runtime_error("cannot create the stdio session");
}

void StdioServer::stop() { stopping_.store(true); }

void StdioServer::handle_line(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
  if (line.empty()) return;
  if (auto members = core::count_batch_members(line, dispatcher_.limits().max_batch)) return handle_batch(line, *members);
  auto parsed = core::parse_json(line, dispatcher_.limits().max_parsed_bytes);
  if (auto* err = std::get_if<core::RpcError>(&parsed)) {
    sink_->write_line(json::serialize(core::make_error(nullptr, *err)));
    return;
  }
  auto reply = [sink = sink_](std::optional<json::object> message) {
    if (message) sink->write_line(json::serialize(*message));
  };
  dispatcher_.handle(session_, core::classify(std::move(std::get<json::value>(parsed))), reply);
}

void StdioServer::handle_batch(std::string_view line, std::size_t members) {
  // The answers of a batch travel as one JSON array on one line, as JSON-RPC asks.
  auto refused = dispatcher_.handle_batch(session_, line, members, [sink = sink_](std::string text) {
    if (!text.empty()) sink->write_line(std::move(text));
  });
  if (refused) sink_->write_line(json::serialize(core::make_error(nullptr, *refused)));
}

void StdioServer::reject_oversized() {
  sink_->write_line(json::serialize(core::make_error(
      nullptr, {core::error_code::kInvalidRequest,
                "Invalid Request: the message is larger than the limit of " + std::to_string(max_message_bytes_) + " bytes",
                nullptr})));
}

void StdioServer::run(std::chrono::seconds drain) {
  std::string buffer;
  std::vector<char> chunk(64 * 1024);
  bool discarding = false;  // inside a line longer than the limit
  while (!stopping_.load()) {
    pollfd pfd{in_fd_, POLLIN, 0};
    int ready = ::poll(&pfd, 1, 200);
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    ssize_t n = ::read(in_fd_, chunk.data(), chunk.size());
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) break;
    buffer.append(chunk.data(), static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (;;) {
      auto nl = buffer.find('\n', start);
      if (nl == std::string::npos) break;
      if (!discarding) {
        if (nl - start > max_message_bytes_) reject_oversized();
        else handle_line(std::string_view(buffer).substr(start, nl - start));
      }
      discarding = false;
      start = nl + 1;
    }
    buffer.erase(0, start);
    if (buffer.size() > max_message_bytes_) {
      if (!discarding) reject_oversized();
      discarding = true;
      buffer.clear();
    }
  }
  if (!buffer.empty() && !discarding) handle_line(buffer);
  auto deadline = std::chrono::steady_clock::now() + drain;
  while (session_->calls_in_flight() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  sessions_.end(session_->id());
}

}  // namespace mcpd::transport
