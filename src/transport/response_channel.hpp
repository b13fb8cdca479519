// One HTTP exchange's way back to the client: a whole response, or an SSE stream of chunks.
// Producers (any thread) push; the connection coroutine drains it on its own strand.
#pragma once
#include <boost/asio.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>

#include "core/result.hpp"

namespace mcpd::transport {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

class ResponseChannel : public std::enable_shared_from_this<ResponseChannel> {
 public:
  struct StreamStart { Response header; };
  struct Chunk { std::string data; };
  struct End {};
  using Item = std::variant<Response, StreamStart, Chunk, End>;

  explicit ResponseChannel(asio::any_io_executor executor) : executor_(std::move(executor)) {}

  // --- producers, thread-safe ---
  void respond(Response response) {
    report(response.result_int());
    push(std::move(response));
  }
  void open_stream(Response header) {
    report(header.result_int());
    push(StreamStart{std::move(header)});
  }
  // Told the status of the answer once, when it starts (metrics, access logs).
  void on_status(std::function<void(unsigned)> fn) { on_status_ = std::move(fn); }
  // False once the peer has gone (the message is then not delivered).
  bool send(std::string chunk) {
    if (peer_gone()) return false;
    push(Chunk{std::move(chunk)});
    return true;
  }
  void finish() { push(End{}); }
  // Runs once when the peer disconnects before the exchange ended.
  void on_peer_gone(std::function<void()> fn) {
    std::lock_guard lock(mutex_);
    on_gone_ = std::move(fn);
  }
  bool peer_gone() const {
    std::lock_guard lock(mutex_);
    return gone_;
  }

  // --- consumer, on the connection's strand ---
  // The next item, or nullopt if none arrived before `deadline`.
  asio::awaitable<std::optional<Item>> next(std::chrono::steady_clock::time_point deadline) {
    for (;;) {
      {
        std::lock_guard lock(mutex_);
        if (gone_) {
          waiting_ = false;
          co_return Item{End{}};
        }
        if (!items_.empty()) {
          Item item = std::move(items_.front());
          items_.pop_front();
          waiting_ = false;
          co_return item;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
          waiting_ = false;
          co_return std::nullopt;
        }
        waiting_ = true;
      }
      if (!timer_) timer_.emplace(executor_);
      timer_->expires_at(deadline);
      co_await timer_->async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }

  // The peer hung up: pending items are dropped and a waiting consumer is woken to end the exchange.
  void mark_peer_gone() {
    std::function<void()> fn;
    bool wake = false;
    {
      std::lock_guard lock(mutex_);
      if (gone_) return;
      gone_ = true;
      fn = std::move(on_gone_);
      items_.clear();
      wake = waiting_;
      waiting_ = false;
    }
    if (wake) asio::post(executor_, [self = shared_from_this()] {
      if (self->timer_) self->timer_->cancel();
    });
    if (fn) fn();
  }

 private:
  void push(Item item) {
    bool wake = false;
    {
      std::lock_guard lock(mutex_);
      if (gone_) return;
      items_.push_back(std::move(item));
      wake = waiting_;
      waiting_ = false;
    }
    // The wait is only ever pending on the consumer's strand, so the cancel is posted there.
    if (wake) asio::post(executor_, [self = shared_from_this()] {
      if (self->timer_) self->timer_->cancel();
    });
  }

  void report(unsigned status) {
    if (on_status_ && !reported_.exchange(true)) on_status_(status);
  }

  asio::any_io_executor executor_;
  std::function<void(unsigned)> on_status_;
  std::atomic<bool> reported_{false};
  std::optional<asio::steady_timer> timer_;
  mutable std::mutex mutex_;
  std::deque<Item> items_;
  bool waiting_ = false;
  bool gone_ = false;
  std::function<void()> on_gone_;
};

using ChannelPtr = std::shared_ptr<ResponseChannel>;

// Builds a complete response with the common headers.
Response make_response(unsigned status, std::string body, std::string_view content_type, unsigned version = 11);
// `body` is any Boost.JSON type (value, object, array); serialized as is, without a copy.
template <typename Json>
Response json_response(unsigned status, const Json& body, unsigned version = 11) {
  return make_response(status, boost::json::serialize(body), "application/json", version);
}
// The two error bodies, one per surface. REST endpoints (and pack routes): {"error": message}.
Response error_response(unsigned status, std::string_view message, unsigned version = 11);
// MCP endpoints (/mcp, /sse, /messages): a JSON-RPC error without an id, code -32600 unless given.
Response rpc_error_response(unsigned status, std::string_view message, unsigned version = 11,
                            int code = -32600);
// The same for an Error: its HTTP status, and Retry-After when the server is busy.
Response error_response(const core::Error& error, unsigned version = 11);
// The headers that start an SSE stream.
Response sse_header(unsigned version = 11);
// One SSE frame.
std::string sse_frame(std::string_view data, std::string_view id = {}, std::string_view event = {},
                      std::optional<int> retry_ms = std::nullopt);

}  // namespace mcpd::transport
