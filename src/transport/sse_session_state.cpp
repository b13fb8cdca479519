// Routing of a session's outgoing messages over Streamable HTTP.
#include "transport/sse_session_state.hpp"

#include "core/json_rpc.hpp"

namespace mcpd::transport {

namespace json = boost::json;

std::shared_ptr<SseSessionState::Stream> SseSessionState::new_stream_locked(ChannelPtr channel) {
  auto stream = std::make_shared<Stream>();
  stream->id = std::to_string(++next_stream_);
  stream->channel = std::move(channel);
  streams_[stream->id] = stream;
  return stream;
}

void SseSessionState::attach_disconnect_locked(const std::shared_ptr<Stream>& stream, const ChannelPtr& channel) {
  std::weak_ptr<Stream> weak = stream;
  std::weak_ptr<ResponseChannel> weak_channel = channel;
  // Runs on the connection's thread when the client goes away: the stream stays replayable. The
  // session (and this state with it) may be gone by then: it is held weakly.
  channel->on_peer_gone([self = weak_from_this(), weak, weak_channel] {
    auto state = self.lock();
    if (!state) return;
    std::lock_guard lock(state->mutex_);
    auto s = weak.lock();
    if (s && s->channel == weak_channel.lock()) s->channel.reset();
  });
}

void SseSessionState::emit_locked(Stream& stream, const std::string& data) {
  std::uint64_t seq = ++stream.seq;
  std::string frame = sse_frame(data, stream.id + "-" + std::to_string(seq));
  if (stream.channel && !stream.channel->send(frame)) stream.channel.reset();
  replay_bytes_ += frame.size();
  replay_.push_back({stream.id, seq, std::move(frame)});
  ++stream.buffered;
  while (!replay_.empty() && (replay_.size() > replay_capacity_ || replay_bytes_ > replay_max_bytes_)) {
    auto it = streams_.find(replay_.front().stream_id);
    replay_bytes_ -= replay_.front().frame.size();
    replay_.pop_front();
    if (it != streams_.end() && --it->second->buffered == 0 && it->second->finished) streams_.erase(it);
  }
}

void SseSessionState::begin_exchange(const std::string& request_key, ChannelPtr channel, bool accepts_sse,
                                     unsigned http_version) {
  std::lock_guard lock(mutex_);
  exchanges_[request_key] = Exchange{std::move(channel), accepts_sse, http_version, nullptr};
}

void SseSessionState::complete_exchange(const std::string& request_key, std::optional<json::object> reply) {
  std::lock_guard lock(mutex_);
  auto it = exchanges_.find(request_key);
  if (it == exchanges_.end()) return;
  Exchange ex = std::move(it->second);
  exchanges_.erase(it);
  if (!ex.stream) {
    if (reply) ex.channel->respond(json_response(200, *reply, ex.http_version));
    else ex.channel->respond(make_response(202, "", "", ex.http_version));
    return;
  }
  if (reply) emit_locked(*ex.stream, json::serialize(*reply));
  ex.stream->finished = true;
  if (ex.stream->buffered == 0) streams_.erase(ex.stream->id);
  if (ex.stream->channel) ex.stream->channel->finish();
  ex.stream->channel.reset();
}

SseSessionState::OpenResult SseSessionState::open_get_stream(const ChannelPtr& channel, const std::string& last_event_id,
                                                             unsigned http_version) {
  std::lock_guard lock(mutex_);
  if (!last_event_id.empty()) {
    auto dash = last_event_id.rfind('-');
    std::string stream_id = last_event_id.substr(0, dash == std::string::npos ? 0 : dash);
    std::uint64_t seq = 0;
    try {
      seq = dash == std::string::npos ? 0 : std::stoull(last_event_id.substr(dash + 1));
    } catch (...) {
      return OpenResult::UnknownEvent;
    }
    auto it = streams_.find(stream_id);
    if (it == streams_.end()) return OpenResult::UnknownEvent;
    auto stream = it->second;
    channel->open_stream(sse_header(http_version));
    for (const auto& e : replay_)
      if (e.stream_id == stream_id && e.seq > seq) channel->send(e.frame);
    if (stream->finished) {
      channel->finish();
      return OpenResult::Opened;
    }
    if (stream->channel && stream->channel != channel) stream->channel->finish();
    stream->channel = channel;
    if (stream->standalone) standalone_ = stream;
    attach_disconnect_locked(stream, channel);
    return OpenResult::Opened;
  }
  if (standalone_ && standalone_->channel && !standalone_->channel->peer_gone()) return OpenResult::Conflict;
  if (standalone_) {
    standalone_->finished = true;
    if (standalone_->buffered == 0) streams_.erase(standalone_->id);
  }
  standalone_ = new_stream_locked(channel);
  standalone_->standalone = true;
  channel->open_stream(sse_header(http_version));
  // A priming event: gives the client an event id to resume from before anything else is sent.
  std::uint64_t seq = ++standalone_->seq;
  channel->send(sse_frame("", standalone_->id + "-" + std::to_string(seq), {}, retry_ms_));
  attach_disconnect_locked(standalone_, channel);
  return OpenResult::Opened;
}

void SseSessionState::start_stream_locked(Exchange& ex) {
  // The first message about this request: its answer becomes an SSE stream, opened with a
  // priming event (an id to resume from, and the reconnection delay).
  ex.stream = new_stream_locked(ex.channel);
  ex.channel->open_stream(sse_header(ex.http_version));
  std::uint64_t seq = ++ex.stream->seq;
  ex.channel->send(sse_frame("", ex.stream->id + "-" + std::to_string(seq), {}, retry_ms_));
  attach_disconnect_locked(ex.stream, ex.channel);
}

void SseSessionState::close_stream(const json::value& related) {
  std::lock_guard lock(mutex_);
  auto it = exchanges_.find(core::id_key(related));
  if (it == exchanges_.end() || !it->second.accepts_sse) return;
  Exchange& ex = it->second;
  if (!ex.stream) start_stream_locked(ex);
  if (ex.stream->channel) ex.stream->channel->finish();
  ex.stream->channel.reset();
}

void SseSessionState::close_all() {
  std::lock_guard lock(mutex_);
  if (closed_) return;
  closed_ = true;
  for (auto& [key, ex] : exchanges_) {
    if (ex.stream && ex.stream->channel) ex.stream->channel->finish();
    else if (!ex.stream) ex.channel->respond(error_response(404, "the session has ended", ex.http_version));
  }
  exchanges_.clear();
  for (auto& [id, stream] : streams_)
    if (stream->channel) {
      stream->channel->finish();
      stream->channel.reset();
    }
  standalone_.reset();
}

void SseSessionState::send(json::object message, const json::value& related) {
  std::string data = json::serialize(message);
  std::lock_guard lock(mutex_);
  if (closed_) return;
  if (!related.is_null()) {
    auto it = exchanges_.find(core::id_key(related));
    if (it != exchanges_.end() && (it->second.stream || it->second.accepts_sse)) {
      Exchange& ex = it->second;
      if (!ex.stream) start_stream_locked(ex);
      emit_locked(*ex.stream, data);
      return;
    }
  }
  if (standalone_) emit_locked(*standalone_, data);
  // Otherwise no stream can carry it: the client opened no GET stream, so it does not want it.
}

}  // namespace mcpd::transport
