// Legacy HTTP+SSE transport.
#include "transport/legacy_sse.hpp"

#include "core/json_rpc.hpp"

namespace mcpd::transport {

namespace json = boost::json;

// Every message of the session travels on its GET /sse stream.
class LegacySink : public core::MessageSink {
 public:
  explicit LegacySink(ChannelPtr channel) : channel_(std::move(channel)) {}
  void send(json::object message, const json::value&) override {
    channel_->send(sse_frame(json::serialize(message), {}, "message"));
  }
  void on_session_closed() override { channel_->finish(); }

 private:
  ChannelPtr channel_;
};

void LegacySse::open(const Request& request, const ChannelPtr& channel, const std::string& principal) {
  auto sink = std::make_shared<LegacySink>(channel);
  auto opened = ctx_.sessions.open(sink, principal);
  auto session = opened.session;
  if (!session) {
    const bool busy = opened.refusal == core::SessionManager::Refusal::PrincipalBusy;
    Response r = rpc_error_response(busy ? 429 : 503, core::SessionManager::refusal_message(opened.refusal), request.version(),
                                    busy ? core::error_code::kInvalidRequest : core::error_code::kInternalError);
    r.set(http::field::retry_after, "1");
    return channel->respond(std::move(r));
  }
  std::string id = session->id();
  sinks_.add(id, sink);
  channel->on_peer_gone([sessions = &ctx_.sessions, id] { sessions->end(id); });
  channel->open_stream(sse_header(request.version()));
  channel->send(sse_frame("/messages?sessionId=" + id, {}, "endpoint"));
}

void LegacySse::message(const Request& request, const ChannelPtr& channel, const std::string& principal) {
  unsigned version = request.version();
  std::string id = query_param(request, "sessionId");
  if (id.empty()) return channel->respond(rpc_error_response(400, "the sessionId query parameter is required", version));
  auto session = ctx_.sessions.find(id);
  if (!session || session->principal() != principal || !sinks_.find(id))
    return channel->respond(rpc_error_response(404, "session not found: open GET /sse first", version));
  // The legacy transport takes one message per POST: a batch is refused from its text, unparsed.
  if (core::count_batch_members(request.body(), 0)) {
    core::RpcError error{core::error_code::kInvalidRequest,
                         "Invalid Request: the HTTP+SSE transport takes one JSON-RPC message per POST, not a batch", nullptr};
    session->sink()->send(core::make_error(nullptr, error), nullptr);
    return channel->respond(rpc_error_response(400, error.message, version));
  }
  auto parsed = core::parse_json(request.body(), ctx_.dispatcher.limits().max_parsed_bytes);
  if (auto* err = std::get_if<core::RpcError>(&parsed)) {
    session->sink()->send(core::make_error(nullptr, *err), nullptr);
    return channel->respond(rpc_error_response(400, err->message, version, err->code));
  }
  auto sink = session->sink();
  ctx_.dispatcher.handle(session, core::classify(std::move(std::get<json::value>(parsed))), [sink](std::optional<json::object> reply) {
    if (reply) sink->send(std::move(*reply), nullptr);
  });
  channel->respond(make_response(202, "Accepted", "text/plain", version));
}

}  // namespace mcpd::transport
