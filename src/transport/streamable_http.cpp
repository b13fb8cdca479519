// Streamable HTTP (MCP 2025-03-26 and later) at /mcp.
#include "transport/streamable_http.hpp"

#include <atomic>

#include "core/protocol_version.hpp"
#include "infra/logging.hpp"
#include "transport/sse_session_state.hpp"

namespace mcpd::transport {

namespace json = boost::json;

namespace {

bool accepts(const Request& request, std::string_view media_type) {
  auto it = request.find(http::field::accept);
  if (it == request.end()) return false;
  std::string_view v = it->value();
  return v.find(media_type) != std::string_view::npos || v.find("*/*") != std::string_view::npos;
}

bool has_accept(const Request& request) { return request.find(http::field::accept) != request.end(); }

}  // namespace

core::SessionPtr StreamableHttp::lookup(const Request& request, const ChannelPtr& channel, const std::string& principal) {
  unsigned version = request.version();
  auto sid = request.find("Mcp-Session-Id");
  if (sid == request.end() || sid->value().empty()) {
    channel->respond(rpc_error_response(400, "Bad Request: the Mcp-Session-Id header is required; send 'initialize' first to get one",
                                        version));
    return nullptr;
  }
  auto session = ctx_.sessions.find(std::string(sid->value()));
  // A session is only visible to the principal that opened it.
  if (!session || session->principal() != principal) {
    channel->respond(rpc_error_response(404, "Session not found: it has ended or expired; send 'initialize' to start a new one",
                                        version));
    return nullptr;
  }
  if (auto pv = request.find("MCP-Protocol-Version"); pv != request.end() && !core::is_supported_protocol_version(pv->value())) {
    channel->respond(rpc_error_response(400, "Bad Request: unsupported MCP-Protocol-Version '" + std::string(pv->value()) + "'",
                                        version));
    return nullptr;
  }
  return session;
}

void StreamableHttp::post(Request&& request, const ChannelPtr& channel, const std::string& principal) {
  unsigned version = request.version();
  auto ct = request.find(http::field::content_type);
  if (ct == request.end() || ct->value().find("application/json") == std::string_view::npos)
    return channel->respond(rpc_error_response(415, "Unsupported Media Type: POST /mcp takes Content-Type: application/json", version));
  if (has_accept(request) && !accepts(request, "application/json") && !accepts(request, "text/event-stream"))
    return channel->respond(rpc_error_response(406, "Not Acceptable: accept application/json and text/event-stream", version));
  // A batch is judged from the text before it is parsed, so a refused one costs no per-member work.
  if (auto members = core::count_batch_members(request.body(), ctx_.dispatcher.limits().max_batch))
    return post_batch(request, *members, channel, principal);
  auto parsed = core::parse_json(request.body(), ctx_.dispatcher.limits().max_parsed_bytes);
  if (auto* err = std::get_if<core::RpcError>(&parsed))
    return channel->respond(json_response(400, core::make_error(nullptr, *err), version));
  // Classified once, here; the dispatcher takes the classified form (params moved, not copied).
  core::Classified message = core::classify(std::move(std::get<json::value>(parsed)));
  bool sse_ok = accepts(request, "text/event-stream");

  core::SessionPtr session;
  std::shared_ptr<SseSessionState> state;
  if (core::method_of(message) == "initialize") {
    state = std::make_shared<SseSessionState>(ctx_.replay_events, 1000);
    auto opened = ctx_.sessions.open(state, principal);
    session = opened.session;
    if (!session) {
      const bool busy = opened.refusal == core::SessionManager::Refusal::PrincipalBusy;
      Response r = rpc_error_response(busy ? 429 : 503, core::SessionManager::refusal_message(opened.refusal), version,
                                      busy ? core::error_code::kInvalidRequest : core::error_code::kInternalError);
      r.set(http::field::retry_after, "1");
      return channel->respond(std::move(r));
    }
    states_.add(session->id(), state);
    ctx_.dispatcher.handle(session, std::move(message), [channel, version, session](std::optional<json::object> reply) {
      Response r = json_response(200, reply ? *reply : json::object{}, version);
      if (session->initialized()) r.set("Mcp-Session-Id", session->id());
      channel->respond(std::move(r));
    });
    // A failed initialize leaves no session behind.
    if (!session->initialized()) ctx_.sessions.end(session->id());
    return;
  }

  session = lookup(request, channel, principal);
  if (!session) return;
  state = states_.find(session->id());
  if (!state) return channel->respond(rpc_error_response(404, "Session not found on /mcp (it belongs to the legacy /sse transport)", version));

  if (!core::expects_answer(message)) {
    // Notifications and responses (e.g. the answer to sampling/createMessage): 202, no body.
    if (ctx_.dispatcher.handle(session, std::move(message), [channel, version](std::optional<json::object> reply) {
          channel->respond(json_response(400, reply ? json::value(*reply) : json::value(nullptr), version));
        }))
      return;
    return channel->respond(make_response(202, "", "", version));
  }

  std::string key = core::id_key(core::id_of(message));
  state->begin_exchange(key, channel, sse_ok, version);
  ctx_.dispatcher.handle(session, std::move(message), [state, key](std::optional<json::object> reply) {
    state->complete_exchange(key, std::move(reply));
  });
}

void StreamableHttp::post_batch(const Request& request, std::size_t members, const ChannelPtr& channel,
                                const std::string& principal) {
  unsigned version = request.version();
  // No batch may open a session, so one without a session header is refused like any request without one.
  auto session = lookup(request, channel, principal);
  if (!session) return;
  if (!states_.find(session->id()))
    return channel->respond(rpc_error_response(404, "Session not found on /mcp (it belongs to the legacy /sse transport)", version));
  auto refused = ctx_.dispatcher.handle_batch(session, request.body(), members, [channel, version](std::string text) {
    if (text.empty()) channel->respond(make_response(202, "", "", version));
    else channel->respond(make_response(200, std::move(text), "application/json", version));
  });
  if (refused) channel->respond(json_response(400, core::make_error(nullptr, *refused), version));
}

void StreamableHttp::get(const Request& request, const ChannelPtr& channel, const std::string& principal) {
  unsigned version = request.version();
  if (!accepts(request, "text/event-stream"))
    return channel->respond(rpc_error_response(406, "Not Acceptable: GET /mcp opens an SSE stream; send Accept: text/event-stream", version));
  auto session = lookup(request, channel, principal);
  if (!session) return;
  auto state = states_.find(session->id());
  if (!state) return channel->respond(rpc_error_response(404, "Session not found on /mcp (it belongs to the legacy /sse transport)", version));
  std::string last_event_id;
  if (auto it = request.find("Last-Event-ID"); it != request.end()) last_event_id = std::string(it->value());
  switch (state->open_get_stream(channel, last_event_id, version)) {
    case SseSessionState::OpenResult::Opened:
      return;
    case SseSessionState::OpenResult::Conflict:
      return channel->respond(rpc_error_response(409, "Conflict: this session already has an open GET stream", version));
    case SseSessionState::OpenResult::UnknownEvent:
      return channel->respond(rpc_error_response(404, "Not Found: Last-Event-ID '" + last_event_id + "' is unknown or no longer replayable",
                                                 version));
  }
}

void StreamableHttp::del(const Request& request, const ChannelPtr& channel, const std::string& principal) {
  auto session = lookup(request, channel, principal);
  if (!session) return;
  ctx_.sessions.end(session->id());
  infra::log::debug("session ended by client", {{"session", session->id().substr(0, 8)}});
  channel->respond(make_response(200, "", "", request.version()));
}

}  // namespace mcpd::transport
