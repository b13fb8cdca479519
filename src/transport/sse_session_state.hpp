// The Streamable HTTP side of one MCP session: which POST exchange or SSE stream each outgoing
// message travels on, SSE event ids, and a bounded replay buffer for Last-Event-ID resumption.
#pragma once
#include <boost/json.hpp>

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/session.hpp"
#include "transport/response_channel.hpp"

namespace mcpd::transport {

class SseSessionState : public core::MessageSink, public std::enable_shared_from_this<SseSessionState> {
 public:
  // The replay buffer keeps at most `replay_capacity` events and `replay_max_bytes` bytes (the oldest
  // go first; an event larger than that is sent but cannot be replayed).
  SseSessionState(std::size_t replay_capacity, std::optional<int> retry_ms, std::size_t replay_max_bytes = kReplayMaxBytes)
      : replay_capacity_(replay_capacity), replay_max_bytes_(replay_max_bytes), retry_ms_(retry_ms) {}

  static constexpr std::size_t kReplayMaxBytes = 1u << 20;

  // A POST that carries the client request `request_key`; its answer and related messages use `channel`.
  void begin_exchange(const std::string& request_key, ChannelPtr channel, bool accepts_sse, unsigned http_version);
  // The final answer of that request (nullopt: cancelled, the exchange just ends).
  void complete_exchange(const std::string& request_key, std::optional<boost::json::object> reply);

  // GET /mcp. With `last_event_id`, resumes that stream (replaying what was missed) and returns false
  // if the id is unknown. Without, opens the standalone stream; false if one is already open.
  enum class OpenResult { Opened, Conflict, UnknownEvent };
  OpenResult open_get_stream(const ChannelPtr& channel, const std::string& last_event_id, unsigned http_version);

  // Closes every open stream (the session ended).
  void close_all();

  void send(boost::json::object message, const boost::json::value& related) override;
  void on_session_closed() override { close_all(); }
  void close_stream(const boost::json::value& related) override;

 private:
  struct Stream {
    std::string id;
    ChannelPtr channel;     // null while the client is disconnected
    std::uint64_t seq = 0;
    std::size_t buffered = 0;  // its events still in the replay buffer
    bool finished = false;
    bool standalone = false;   // the GET stream for messages that belong to no request
  };
  struct Exchange {
    ChannelPtr channel;
    bool accepts_sse = false;
    unsigned http_version = 11;
    std::shared_ptr<Stream> stream;  // set once the answer switched to SSE
  };
  struct ReplayEvent {
    std::string stream_id;
    std::uint64_t seq;
    std::string frame;
  };

  std::shared_ptr<Stream> new_stream_locked(ChannelPtr channel);
  void emit_locked(Stream& stream, const std::string& data);
  void attach_disconnect_locked(const std::shared_ptr<Stream>& stream, const ChannelPtr& channel);
  void start_stream_locked(Exchange& exchange);

  std::mutex mutex_;
  std::size_t replay_capacity_;
  std::size_t replay_max_bytes_;
  std::size_t replay_bytes_ = 0;
  std::optional<int> retry_ms_;
  std::uint64_t next_stream_ = 0;
  bool closed_ = false;
  std::map<std::string, Exchange> exchanges_;
  std::map<std::string, std::shared_ptr<Stream>> streams_;  // by stream id, while replayable
  std::shared_ptr<Stream> standalone_;
  std::deque<ReplayEvent> replay_;
};

}  // namespace mcpd::transport
