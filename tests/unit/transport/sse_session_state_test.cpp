// Streamable HTTP routing: JSON vs SSE answers, priming events, polling and Last-Event-ID replay.
#include <gtest/gtest.h>

#include "transport/sse_session_state.hpp"

using namespace mcpd::transport;
namespace json = boost::json;

namespace {

std::vector<ResponseChannel::Item> drain(asio::io_context& io, const ChannelPtr& ch) {
  std::vector<ResponseChannel::Item> items;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    while (auto item = co_await ch->next(std::chrono::steady_clock::now())) items.push_back(std::move(*item));
  }, asio::detached);
  io.run();
  io.restart();
  return items;
}

std::string chunk(const ResponseChannel::Item& item) {
  auto* c = std::get_if<ResponseChannel::Chunk>(&item);
  return c ? c->data : "<not a chunk>";
}

json::object note() { return json::object{{"jsonrpc", "2.0"}, {"method", "notifications/progress"}}; }
json::object reply(int id) { return json::object{{"jsonrpc", "2.0"}, {"id", id}, {"result", json::object{}}}; }

}  // namespace

TEST(SseSessionState, AnswersWithJsonWhenNothingElseIsSent) {
  asio::io_context io;
  auto ch = std::make_shared<ResponseChannel>(io.get_executor());
  auto state = std::make_shared<SseSessionState>(8, 1000);  // as the transport makes it
  auto& st = *state;
  st.begin_exchange("n:1", ch, true, 11);
  st.complete_exchange("n:1", reply(1));
  auto items = drain(io, ch);
  ASSERT_EQ(items.size(), 1u);
  auto& r = std::get<Response>(items[0]);
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(r.body(), R"({"jsonrpc":"2.0","id":1,"result":{}})");
}

TEST(SseSessionState, SwitchesToSseWithAPrimingEventWhenTheCallEmits) {
  asio::io_context io;
  auto ch = std::make_shared<ResponseChannel>(io.get_executor());
  auto state = std::make_shared<SseSessionState>(8, 1000);  // as the transport makes it
  auto& st = *state;
  st.begin_exchange("n:1", ch, true, 11);
  st.send(note(), 1);
  st.complete_exchange("n:1", reply(1));
  auto items = drain(io, ch);
  ASSERT_EQ(items.size(), 5u);
  EXPECT_TRUE(std::holds_alternative<ResponseChannel::StreamStart>(items[0]));
  EXPECT_EQ(chunk(items[1]), "id: 1-1\nretry: 1000\ndata: \n\n");
  EXPECT_NE(chunk(items[2]).find("id: 1-2\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}"), std::string::npos);
  EXPECT_NE(chunk(items[3]).find("\"id\":1,\"result\""), std::string::npos);
  EXPECT_TRUE(std::holds_alternative<ResponseChannel::End>(items[4]));
}

TEST(SseSessionState, ClientWithoutSseGetsJsonAndNotificationsGoToTheStandaloneStream) {
  asio::io_context io;
  auto post = std::make_shared<ResponseChannel>(io.get_executor());
  auto get = std::make_shared<ResponseChannel>(io.get_executor());
  auto state = std::make_shared<SseSessionState>(8, 1000);  // as the transport makes it
  auto& st = *state;
  EXPECT_EQ(st.open_get_stream(get, "", 11), SseSessionState::OpenResult::Opened);
  st.begin_exchange("n:1", post, false, 11);
  st.send(note(), 1);
  st.complete_exchange("n:1", reply(1));
  auto post_items = drain(io, post);
  ASSERT_EQ(post_items.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<Response>(post_items[0]));
  auto get_items = drain(io, get);
  ASSERT_EQ(get_items.size(), 3u);  // header, priming, the notification
  EXPECT_NE(chunk(get_items[2]).find("notifications/progress"), std::string::npos);
}

TEST(SseSessionState, OneStandaloneStreamAtATime) {
  asio::io_context io;
  auto a = std::make_shared<ResponseChannel>(io.get_executor());
  auto b = std::make_shared<ResponseChannel>(io.get_executor());
  auto state = std::make_shared<SseSessionState>(8, 1000);  // as the transport makes it
  auto& st = *state;
  EXPECT_EQ(st.open_get_stream(a, "", 11), SseSessionState::OpenResult::Opened);
  EXPECT_EQ(st.open_get_stream(b, "", 11), SseSessionState::OpenResult::Conflict);
  a->mark_peer_gone();
  EXPECT_EQ(st.open_get_stream(b, "", 11), SseSessionState::OpenResult::Opened);
  EXPECT_EQ(st.open_get_stream(b, "nonsense", 11), SseSessionState::OpenResult::UnknownEvent);
}

TEST(SseSessionState, PollingClosesTheStreamAndLastEventIdReplaysTheAnswer) {
  asio::io_context io;
  auto post = std::make_shared<ResponseChannel>(io.get_executor());
  auto state = std::make_shared<SseSessionState>(8, 1000);  // as the transport makes it
  auto& st = *state;
  st.begin_exchange("n:1", post, true, 11);
  st.close_stream(1);
  auto first = drain(io, post);
  ASSERT_EQ(first.size(), 3u);  // header, priming, end: the answer is not there yet
  EXPECT_EQ(chunk(first[1]).substr(0, 8), "id: 1-1\n");
  EXPECT_TRUE(std::holds_alternative<ResponseChannel::End>(first[2]));
  st.complete_exchange("n:1", reply(1));
  auto resumed = std::make_shared<ResponseChannel>(io.get_executor());
  EXPECT_EQ(st.open_get_stream(resumed, "1-1", 11), SseSessionState::OpenResult::Opened);
  auto items = drain(io, resumed);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_NE(chunk(items[1]).find("\"id\":1,\"result\""), std::string::npos);
  EXPECT_TRUE(std::holds_alternative<ResponseChannel::End>(items[2]));
}

TEST(SseSessionState, ResumingALiveStreamDeliversLaterMessagesToTheNewConnection) {
  asio::io_context io;
  auto post = std::make_shared<ResponseChannel>(io.get_executor());
  auto state = std::make_shared<SseSessionState>(8, 1000);  // as the transport makes it
  auto& st = *state;
  st.begin_exchange("n:1", post, true, 11);
  st.send(note(), 1);   // event 1-2
  post->mark_peer_gone();
  st.send(note(), 1);   // event 1-3, missed by the client
  auto resumed = std::make_shared<ResponseChannel>(io.get_executor());
  EXPECT_EQ(st.open_get_stream(resumed, "1-2", 11), SseSessionState::OpenResult::Opened);
  st.complete_exchange("n:1", reply(1));
  auto items = drain(io, resumed);
  ASSERT_EQ(items.size(), 4u);  // header, 1-3 replayed, the answer live, end
  EXPECT_EQ(chunk(items[1]).substr(0, 8), "id: 1-3\n");
  EXPECT_NE(chunk(items[2]).find("\"result\""), std::string::npos);
}

TEST(SseSessionState, TheReplayBufferIsBounded) {
  asio::io_context io;
  auto post = std::make_shared<ResponseChannel>(io.get_executor());
  auto state = std::make_shared<SseSessionState>(2, 1000);  // as the transport makes it
  auto& st = *state;
  st.begin_exchange("n:1", post, true, 11);
  for (int i = 0; i < 5; ++i) st.send(note(), 1);  // events 1-2 .. 1-6; only 1-5 and 1-6 are kept
  post->mark_peer_gone();
  auto resumed = std::make_shared<ResponseChannel>(io.get_executor());
  EXPECT_EQ(st.open_get_stream(resumed, "1-1", 11), SseSessionState::OpenResult::Opened);
  auto items = drain(io, resumed);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(chunk(items[1]).substr(0, 8), "id: 1-5\n");
}

TEST(SseSessionState, TheReplayBufferIsBoundedInBytesToo) {
  asio::io_context io;
  auto post = std::make_shared<ResponseChannel>(io.get_executor());
  auto state = std::make_shared<SseSessionState>(100, 1000, 1000);  // as the transport makes it
  auto& st = *state;  // room for 100 events but only 1000 bytes
  st.begin_exchange("n:1", post, true, 11);
  json::object big{{"jsonrpc", "2.0"}, {"method", "notifications/message"}, {"params", json::object{{"data", std::string(600, 'x')}}}};
  st.send(big, 1);    // event 1-2 (~650 bytes)
  st.send(note(), 1); // event 1-3: both fit
  st.send(big, 1);    // event 1-4: 1-2 must go
  post->mark_peer_gone();
  auto resumed = std::make_shared<ResponseChannel>(io.get_executor());
  EXPECT_EQ(st.open_get_stream(resumed, "1-1", 11), SseSessionState::OpenResult::Opened);
  auto items = drain(io, resumed);
  ASSERT_EQ(items.size(), 3u);  // header, 1-3, 1-4
  EXPECT_EQ(chunk(items[1]).substr(0, 8), "id: 1-3\n");
  EXPECT_EQ(chunk(items[2]).substr(0, 8), "id: 1-4\n");

  // An event larger than the whole buffer is delivered live but never kept.
  auto live = std::make_shared<ResponseChannel>(io.get_executor());
  SseSessionState small(100, 1000, 100);
  small.begin_exchange("n:2", live, true, 11);
  small.send(big, 2);  // event 1-2
  auto delivered = drain(io, live);
  ASSERT_EQ(delivered.size(), 3u);  // header, priming, the event
  EXPECT_NE(chunk(delivered[2]).find("xxxx"), std::string::npos);
  live->mark_peer_gone();
  auto again = std::make_shared<ResponseChannel>(io.get_executor());
  EXPECT_EQ(small.open_get_stream(again, "1-1", 11), SseSessionState::OpenResult::Opened);
  EXPECT_EQ(drain(io, again).size(), 1u);  // only the header: nothing to replay
}

TEST(SseSessionState, AClientGoneAfterTheSessionEndedTouchesNothing) {
  asio::io_context io;
  auto ch = std::make_shared<ResponseChannel>(io.get_executor());
  std::weak_ptr<SseSessionState> gone;
  {
    auto state = std::make_shared<SseSessionState>(8, 1000);
    gone = state;
    state->begin_exchange("n:1", ch, true, 11);
    state->send(note(), json::value(1));  // the answer switches to SSE: the stream watches the connection
  }  // the session ended and released its state; the connection is still open
  EXPECT_TRUE(gone.expired());
  ch->mark_peer_gone();  // found by fuzzing: this used the freed state (ASan: heap-use-after-free)
  EXPECT_TRUE(ch->peer_gone());
}
