// Fuzzes the SSE side of Streamable HTTP (src/transport/sse_session_state.*, sse_frame): a script of
// POSTs, answers, messages, GET streams with Last-Event-ID, disconnects and session ends, one per line,
// checked against what every channel then carries: well-formed SSE events, ids that only grow, replays
// only of what was missed, and nothing after a stream's end.
#include <boost/asio.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/json_rpc.hpp"
#include "fuzz_check.hpp"
#include "transport/sse_session_state.hpp"

namespace asio = boost::asio;
namespace json = boost::json;
using namespace mcpd::transport;

namespace {

// One SSE event as the EventSource rules read it: lines end at CR, LF or CRLF, "field: value".
struct SseEvent {
  std::optional<std::string> id, event, retry;
  std::optional<std::string> data;  // data lines joined with '\n'
  bool well_formed = true;          // only known fields, one event, ends with a blank line
};

SseEvent parse_sse_event(std::string_view frame) {
  SseEvent ev;
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  for (std::size_t i = 0; i < frame.size(); ++i) {
    if (frame[i] == '\n' || frame[i] == '\r') {
      lines.push_back(frame.substr(start, i - start));
      if (frame[i] == '\r' && i + 1 < frame.size() && frame[i + 1] == '\n') ++i;
      start = i + 1;
    }
  }
  // The frame must end with a line end, and the last line must be the blank one that ends the event.
  if (start != frame.size() || lines.empty() || !lines.back().empty()) ev.well_formed = false;
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
    auto line = lines[i];
    if (line.empty()) {  // a second event in one frame
      ev.well_formed = false;
      continue;
    }
    auto colon = line.find(':');
    std::string_view field = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (field == "data") ev.data = ev.data ? *ev.data + "\n" + std::string(value) : std::string(value);
    else if (field == "id") ev.id = std::string(value);
    else if (field == "event") ev.event = std::string(value);
    else if (field == "retry") ev.retry = std::string(value);
    else ev.well_formed = false;
  }
  return ev;
}

// What one channel carried, checked as it arrives.
struct ChannelLog {
  ChannelPtr channel;
  bool responded = false, streaming = false, ended = false;
  std::map<std::string, std::uint64_t> last_seq;  // per stream id on this channel
  std::vector<std::string> event_ids;
};

std::pair<std::string, std::uint64_t> split_event_id(const std::string& id) {
  auto dash = id.rfind('-');
  FUZZ_CHECK(dash != std::string::npos && dash > 0 && dash + 1 < id.size(), "an event id is <stream>-<seq>");
  std::uint64_t seq = 0;
  for (char c : id.substr(dash + 1)) {
    FUZZ_CHECK(c >= '0' && c <= '9', "an event sequence number is decimal");
    seq = seq * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return {id.substr(0, dash), seq};
}

void record(ChannelLog& log, ResponseChannel::Item& item, std::vector<std::string>& all_ids) {
  FUZZ_CHECK(!log.ended && !log.responded, "nothing follows a stream's end or a whole response");
  if (std::holds_alternative<Response>(item)) {
    FUZZ_CHECK(!log.streaming, "a streamed answer is not followed by a whole response");
    log.responded = true;
    return;
  }
  if (auto* start = std::get_if<ResponseChannel::StreamStart>(&item)) {
    FUZZ_CHECK(!log.streaming, "a stream starts once");
    FUZZ_CHECK(start->header[boost::beast::http::field::content_type] == "text/event-stream", "a stream is SSE");
    log.streaming = true;
    return;
  }
  if (std::holds_alternative<ResponseChannel::End>(item)) {
    log.ended = true;
    return;
  }
  const std::string& frame = std::get<ResponseChannel::Chunk>(item).data;
  FUZZ_CHECK(log.streaming, "events travel only on an open stream");
  SseEvent ev = parse_sse_event(frame);
  FUZZ_CHECK(ev.well_formed, "each chunk is one well-formed SSE event");
  FUZZ_CHECK(ev.id.has_value(), "every event has an id to resume from");
  auto [stream, seq] = split_event_id(*ev.id);
  auto [it, fresh] = log.last_seq.try_emplace(stream, seq);
  if (!fresh) {
    FUZZ_CHECK(seq > it->second, "event ids of a stream only grow on a channel");
    it->second = seq;
  }
  FUZZ_CHECK(ev.data.has_value(), "every event has data");
  if (!ev.data->empty()) {
    // The transport passes strings through as the dispatcher made them (packs make them valid UTF-8).
    json::parse_options lenient;
    lenient.allow_invalid_utf8 = true;
    boost::system::error_code ec;
    auto v = json::parse(*ev.data, ec, {}, lenient);
    FUZZ_CHECK(!ec && v.is_object(), "event data is one JSON-RPC message");
  }
  log.event_ids.push_back(*ev.id);
  all_ids.push_back(*ev.id);
}

// Pulls whatever the channel holds without waiting, as the connection coroutine would.
void drain(asio::io_context& io, ChannelLog& log, std::vector<std::string>& all_ids) {
  // The connection stops reading its channel after a whole response or a stream's end.
  if (log.ended || log.responded) return;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 10000 && !log.ended && !log.responded; ++i) {
      auto item = co_await log.channel->next(std::chrono::steady_clock::time_point::min());
      if (!item) co_return;
      record(log, *item, all_ids);
    }
  }, asio::detached);
  io.run();
  io.restart();
}

json::value parse_id(const std::string& word) {
  if (!word.empty() && word.size() < 10 && std::all_of(word.begin(), word.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return static_cast<std::int64_t>(std::stoll(word));
  return json::string(word);
}

// "\n", "\r" and "\\" in a script line stand for those characters.
std::string unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      char c = s[++i];
      out += c == 'n' ? '\n' : c == 'r' ? '\r' : c;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string script(reinterpret_cast<const char*>(data), size);
  asio::io_context io;
  std::vector<ChannelLog> logs;  // outlives the state: channels hold callbacks into it
  logs.reserve(80);
  std::vector<std::string> all_ids;
  const std::size_t capacity = 1 + size % 8;
  const std::size_t max_bytes = 200 + size % 1000;
  auto state = std::make_shared<SseSessionState>(capacity, 1000, max_bytes);  // as streamable_http.cpp makes it

  auto new_channel = [&]() -> ChannelLog& {
    logs.emplace_back();
    logs.back().channel = std::make_shared<ResponseChannel>(io.get_executor());
    return logs.back();
  };
  std::istringstream lines(script);
  int ops = 0;
  for (std::string line; ops < 64 && std::getline(lines, line); ++ops) {
    std::istringstream words(line);
    std::string op, arg;
    words >> op >> arg;
    std::string rest;
    std::getline(words, rest);
    if (!rest.empty() && rest.front() == ' ') rest.erase(0, 1);

    if (op == "frame") {
      // sse_frame on its own, as the server calls it: ids it made ("<stream>-<seq>") and data that
      // may hold line feeds but no carriage return. (sse_frame splits data only at '\n', while SSE
      // clients also end a line at '\r'; JSON text and the legacy endpoint URL never hold one.)
      std::string text = unescape(rest);
      text.erase(std::remove(text.begin(), text.end(), '\r'), text.end());
      std::string id = arg == "-" ? "" : arg;
      id.erase(std::remove_if(id.begin(), id.end(), [](char c) { return !((c >= '0' && c <= '9') || c == '-'); }), id.end());
      SseEvent ev = parse_sse_event(sse_frame(text, id, "message"));
      FUZZ_CHECK(ev.well_formed, "sse_frame makes one well-formed event");
      FUZZ_CHECK(ev.data && *ev.data == text, "an SSE client reads back the data sse_frame was given");
      FUZZ_CHECK(id.empty() ? !ev.id : ev.id && *ev.id == id, "an SSE client reads back the id");
      continue;
    }
    if (!state) continue;  // the session was released: only the channels remain
    const json::value id = parse_id(arg);
    const std::string key = mcpd::core::id_key(id);
    if (op == "post") {
      auto& log = new_channel();
      state->begin_exchange(key, log.channel, rest.find("sse") != std::string::npos,
                            rest.find("http10") != std::string::npos ? 10 : 11);
    } else if (op == "answer") {
      state->complete_exchange(key, mcpd::core::make_result(id, json::object{{"text", unescape(rest)}}));
    } else if (op == "cancel") {
      state->complete_exchange(key, std::nullopt);
    } else if (op == "send") {
      json::object message = mcpd::core::make_notification("notifications/message", json::object{{"data", unescape(rest)}});
      state->send(std::move(message), arg == "-" ? json::value(nullptr) : id);
    } else if (op == "get" || op == "resume") {
      // resume <n>: Last-Event-ID is the n-th event id seen so far; get <text>: any Last-Event-ID.
      std::string last = op == "get" ? unescape(line.size() > 4 ? line.substr(4) : "") : "";
      if (op == "resume" && !all_ids.empty()) last = all_ids[static_cast<std::size_t>(std::abs(std::atoi(arg.c_str()))) % all_ids.size()];
      auto& log = new_channel();
      auto result = state->open_get_stream(log.channel, last, 11);
      drain(io, log, all_ids);
      if (result == SseSessionState::OpenResult::Opened) {
        FUZZ_CHECK(log.streaming, "an opened GET stream is SSE");
        if (!last.empty()) {
          FUZZ_CHECK(log.event_ids.size() <= capacity, "a resumption replays at most the buffer");
          // The server reads the number after the last '-' leniently (std::stoull); compare when it is plain.
          const auto dash = last.rfind('-');
          const std::string stream = last.substr(0, dash);
          const std::string digits = dash == std::string::npos ? "" : last.substr(dash + 1);
          const bool plain = !digits.empty() && digits.size() < 19 &&
                             std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
          for (const auto& e : log.event_ids) {
            auto [s, n] = split_event_id(e);
            FUZZ_CHECK(s == stream, "a resumption replays only its own stream");
            if (plain) FUZZ_CHECK(n > std::stoull(digits), "a resumption replays only what came after Last-Event-ID");
          }
        }
      } else {
        FUZZ_CHECK(!log.streaming && log.event_ids.empty(), "a refused GET gets no stream from the session");
        if (result == SseSessionState::OpenResult::Conflict) FUZZ_CHECK(last.empty(), "only a new GET stream conflicts");
      }
    } else if (op == "close") {
      state->close_stream(id);
    } else if (op == "gone" && !logs.empty()) {
      logs[static_cast<std::size_t>(std::abs(std::atoi(arg.c_str()))) % logs.size()].channel->mark_peer_gone();
    } else if (op == "end") {
      state->close_all();
    } else if (op == "release") {
      // The session ended and was let go while connections still hold their channels.
      state->close_all();
      for (auto& log : logs) drain(io, log, all_ids);
      state.reset();
    }
    for (auto& log : logs) drain(io, log, all_ids);
  }
  // Clients that hang up after the session is gone.
  for (auto& log : logs) log.channel->mark_peer_gone();
  return 0;
}
