// The raw floor for bench/run.sh: the least a Boost.Beast + Boost.JSON server does to answer MCP
// `tools/call` echo over HTTP with the same bytes as mcpd (docs/BENCHMARKS.md, "The raw floor").
//
//   beast_echo_floor PORT            (listens on 127.0.0.1:PORT; PORT 0 lets the OS choose)
//
// One thread, one coroutine per connection (Beast's example/http/server/awaitable), keep-alive,
// status line, header and body in one write. Each POST /mcp body is parsed with Boost.JSON into a
// per-request monotonic arena; the reply is built as a Boost.JSON value and serialized. Its only
// MCP state is one session id: `initialize` hands it out, every other message must carry it.
// There is no auth, rate limit, origin check, metrics, dispatcher, schema validation or audit
// log: what mcpd spends beyond this server is what those cost. Logs
// {"event":"listening","address":"127.0.0.1:PORT"} on stderr when ready, like mcpd.
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <array>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using asio::ip::tcp;

namespace {

constexpr auto kToken = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxBody = 4 * 1024 * 1024;
constexpr auto kIdleTimeout = std::chrono::seconds(60);

// Reused per connection: after the first request a reply allocates nothing of its own.
struct Wire {
  std::string body;
  std::string out;
};

void append_number(std::string& s, std::size_t n) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  s.append(digits, end);
}

// The same status line and fields, in the same order, as mcpd's answers (src/transport/http_server.cpp).
void frame(Wire& w, unsigned status, std::string_view reason, std::string_view session_id, bool keep_alive,
           bool json_body) {
  w.out.clear();
  w.out += "HTTP/1.1 ";
  append_number(w.out, status);
  w.out += ' ';
  w.out += reason;
  w.out += "\r\nServer: mcpd\r\n";
  if (json_body) w.out += "Content-Type: application/json\r\n";
  w.out += "Cache-Control: no-store\r\n";
  if (!session_id.empty()) {
    w.out += "Mcp-Session-Id: ";
    w.out += session_id;
    w.out += "\r\n";
  }
  if (!keep_alive) w.out += "Connection: close\r\n";
  w.out += "Content-Length: ";
  append_number(w.out, w.body.size());
  w.out += "\r\n\r\n";
  w.out += w.body;
}

void serialize_into(const json::value& v, std::string& out) {
  out.clear();
  json::serializer sr;
  sr.reset(&v);
  char chunk[4096];
  while (!sr.done()) out += sr.read(chunk, sizeof chunk);
}

void json_rpc_error(Wire& w, const json::value& id, int code, std::string_view message, json::storage_ptr sp) {
  json::object error(sp);
  error.emplace("code", code);
  error.emplace("message", message);
  json::object reply(sp);
  reply.emplace("jsonrpc", "2.0");
  reply.emplace("id", id);
  reply.emplace("error", std::move(error));
  serialize_into(json::value(std::move(reply)), w.body);
}

// Fills w.out with the whole answer to one request.
void answer(const http::request<http::string_body>& req, const std::string& session_id, Wire& w) {
  bool keep_alive = req.keep_alive();
  if (req.target() != "/mcp") {
    w.body = R"({"error":"no such endpoint"})";
    return frame(w, 404, "Not Found", {}, keep_alive, true);
  }
  if (req.method() != http::verb::post) {
    w.body = R"({"error":"only POST /mcp is served"})";
    return frame(w, 405, "Method Not Allowed", {}, keep_alive, true);
  }

  // A 4 KiB arena on the stack holds a tools/call and its reply; larger bodies spill to the heap.
  std::array<unsigned char, 4096> arena;
  json::monotonic_resource mr(arena.data(), arena.size());
  json::storage_ptr sp(&mr);
  boost::system::error_code ec;
  json::value msg = json::parse(req.body(), ec, sp);
  const json::object* obj = ec ? nullptr : msg.if_object();
  const json::value* method = obj ? obj->if_contains("method") : nullptr;
  const json::value* version = obj ? obj->if_contains("jsonrpc") : nullptr;
  if (!obj || !method || !method->is_string() || !version || !version->is_string() || version->get_string() != "2.0") {
    json_rpc_error(w, nullptr, -32600, "Invalid Request", sp);
    return frame(w, 400, "Bad Request", {}, keep_alive, true);
  }
  const json::value* id = obj->if_contains("id");
  if (id && !id->is_string() && !id->is_int64() && !id->is_uint64()) {
    json_rpc_error(w, nullptr, -32600, "Invalid Request: 'id' must be a string or an integer", sp);
    return frame(w, 400, "Bad Request", {}, keep_alive, true);
  }
  std::string_view name = method->get_string();

  if (name == "initialize") {
    if (!id) {
      json_rpc_error(w, nullptr, -32600, "initialize needs an id", sp);
      return frame(w, 400, "Bad Request", {}, keep_alive, true);
    }
    json::object info(sp);
    info.emplace("name", "beast-echo-floor");
    info.emplace("version", "1.0.0");
    json::object tools(sp);
    tools.emplace("listChanged", false);
    json::object capabilities(sp);
    capabilities.emplace("tools", std::move(tools));
    json::object result(sp);
    result.emplace("protocolVersion", "2025-11-25");
    result.emplace("capabilities", std::move(capabilities));
    result.emplace("serverInfo", std::move(info));
    json::object reply(sp);
    reply.emplace("jsonrpc", "2.0");
    reply.emplace("id", *id);
    reply.emplace("result", std::move(result));
    serialize_into(json::value(std::move(reply)), w.body);
    return frame(w, 200, "OK", session_id, keep_alive, true);
  }

  auto sid = req.find("Mcp-Session-Id");
  if (sid == req.end() || sid->value() != session_id) {
    json_rpc_error(w, id ? *id : json::value(nullptr), -32001, "Session not found", sp);
    return frame(w, 404, "Not Found", {}, keep_alive, true);
  }
  if (!id) {  // a notification
    w.body.clear();
    return frame(w, 202, "Accepted", {}, keep_alive, false);
  }
  if (name != "tools/call") {
    json_rpc_error(w, *id, -32601, "Method not found", sp);
    return frame(w, 200, "OK", {}, keep_alive, true);
  }

  const json::value* params = obj->if_contains("params");
  const json::value* tool = params && params->is_object() ? params->get_object().if_contains("name") : nullptr;
  const json::value* args = params && params->is_object() ? params->get_object().if_contains("arguments") : nullptr;
  const json::value* text = args && args->is_object() ? args->get_object().if_contains("message") : nullptr;
  if (!tool || !tool->is_string() || tool->get_string() != "echo" || !text || !text->is_string()) {
    json_rpc_error(w, *id, -32602, "tools/call of echo needs arguments.message, a string", sp);
    return frame(w, 200, "OK", {}, keep_alive, true);
  }

  // {"jsonrpc":"2.0","id":…,"result":{"content":[{"type":"text","text":…}],"structuredContent":{"message":…}}}
  json::object item(sp);
  item.emplace("type", "text");
  item.emplace("text", *text);
  json::array content(sp);
  content.emplace_back(std::move(item));
  json::object structured(sp);
  structured.emplace("message", *text);
  json::object result(sp);
  result.emplace("content", std::move(content));
  result.emplace("structuredContent", std::move(structured));
  json::object reply(sp);
  reply.emplace("jsonrpc", "2.0");
  reply.emplace("id", *id);
  reply.emplace("result", std::move(result));
  serialize_into(json::value(std::move(reply)), w.body);
  frame(w, 200, "OK", {}, keep_alive, true);
}

asio::awaitable<void> serve_connection(tcp::socket socket, const std::string& session_id) {
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  Wire wire;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(kMaxBody);
    stream.expires_after(kIdleTimeout);  // also bounds the write below
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, kToken);
    if (ec) break;  // end of stream, timeout, malformed or oversized request
    const auto& req = parser.get();
    answer(req, session_id, wire);
    auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(wire.out), kToken);
    if (wec || !req.keep_alive()) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.close();
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, const std::string& session_id) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kToken);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      continue;
    }
    asio::co_spawn(acceptor.get_executor(), serve_connection(std::move(socket), session_id), asio::detached);
  }
}

std::string random_session_id() {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<std::uint64_t>(rd()) << 32) ^ rd());
  char hex[33];
  std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(gen()),
                static_cast<unsigned long long>(gen()));
  return hex;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: beast_echo_floor PORT (0: let the OS choose)\n");
    return 2;
  }
  char* end = nullptr;
  long port = std::strtol(argv[1], &end, 10);
  if (*argv[1] == '\0' || *end != '\0' || port < 0 || port > 65535) {
    std::fprintf(stderr, "beast_echo_floor: PORT must be a number from 0 to 65535 (got '%s')\n", argv[1]);
    return 2;
  }
  try {
    asio::io_context io(1);  // one thread: Asio may skip its locks
    tcp::acceptor acceptor(io);
    tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port));
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
    const std::string session_id = random_session_id();
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int) { io.stop(); });
    asio::co_spawn(io, accept_loop(acceptor, session_id), asio::detached);
    std::fprintf(stderr, "{\"event\":\"listening\",\"address\":\"127.0.0.1:%u\"}\n",
                 static_cast<unsigned>(acceptor.local_endpoint().port()));
    io.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "beast_echo_floor: %s\n", e.what());
    return 1;
  }
  return 0;
}
