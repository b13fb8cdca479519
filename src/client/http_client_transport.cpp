// Client transport over Streamable HTTP (Boost.Beast, synchronous, keep-alive).
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <optional>

#include "client/client.hpp"
#include "core/json_rpc.hpp"

namespace mcpd::client {

namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

struct Url {
  std::string host, port, target;
};

Url parse_url(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0)
    throw std::invalid_argument("MCP_SERVER_URL must start with http:// (put a TLS terminator in front for https)");
  std::string rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  Url u;
  u.target = slash == std::string::npos ? "/mcp" : rest.substr(slash);
  if (u.target == "/") u.target = "/mcp";
  auto colon = authority.rfind(':');
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    u.host = authority.substr(1, close - 1);
    u.port = close + 1 < authority.size() ? authority.substr(close + 2) : "80";
  } else if (colon != std::string::npos) {
    u.host = authority.substr(0, colon);
    u.port = authority.substr(colon + 1);
  } else {
    u.host = authority;
    u.port = "80";
  }
  return u;
}

class HttpClientTransport : public ClientTransport {
 public:
  HttpClientTransport(const std::string& url, std::string api_key) : url_(parse_url(url)), api_key_(std::move(api_key)) {}

  json::object request(const json::object& message) override {
    std::string key = core::id_key(message.at("id"));
    auto response = post(json::serialize(message));
    if (response.result_int() != 200)
      throw std::runtime_error("HTTP " + std::to_string(response.result_int()) + " from the server: " + response.body());
    if (auto sid = response.find("Mcp-Session-Id"); sid != response.end()) session_id_ = std::string(sid->value());
    std::string type(response[http::field::content_type]);
    if (type.find("text/event-stream") != std::string::npos) {
      std::optional<json::object> answer;
      for_each_sse_data(response.body(), [&](const std::string& data) {
        boost::system::error_code ec;
        json::value v = json::parse(data, ec);
        if (ec || !v.is_object()) return;
        auto& o = v.as_object();
        if (o.contains("method") && !o.contains("id") && on_notification) on_notification(o);
        else if (o.contains("id") && !o.contains("method") && core::id_key(o.at("id")) == key) answer = o;
      });
      if (!answer) throw std::runtime_error("the server's SSE stream ended without an answer");
      return *answer;
    }
    boost::system::error_code ec;
    json::value v = json::parse(response.body(), ec);
    if (ec || !v.is_object()) throw std::runtime_error("the server's answer is not a JSON object");
    return v.as_object();
  }

  void notify(const json::object& message) override {
    auto response = post(json::serialize(message));
    if (response.result_int() >= 300)
      throw std::runtime_error("HTTP " + std::to_string(response.result_int()) + " from the server: " + response.body());
  }

 private:
  static void for_each_sse_data(const std::string& body, const std::function<void(const std::string&)>& fn) {
    std::string data;
    std::size_t pos = 0;
    while (pos <= body.size()) {
      auto nl = body.find('\n', pos);
      std::string line = body.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) {
        if (!data.empty()) fn(data);
        data.clear();
      } else if (line.rfind("data:", 0) == 0) {
        std::string d = line.substr(5);
        if (!d.empty() && d.front() == ' ') d.erase(0, 1);
        if (!data.empty()) data.push_back('\n');
        data += d;
      }
      if (nl == std::string::npos) break;
      pos = nl + 1;
    }
    if (!data.empty()) fn(data);
  }

  http::response<http::string_body> post(const std::string& body) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      try {
        if (!stream_) connect();
        http::request<http::string_body> req{http::verb::post, url_.target, 11};
        req.set(http::field::host, url_.host + ":" + url_.port);
        req.set(http::field::content_type, "application/json");
        req.set(http::field::accept, "application/json, text/event-stream");
        if (!session_id_.empty()) req.set("Mcp-Session-Id", session_id_);
        if (!session_id_.empty()) req.set("MCP-Protocol-Version", "2025-11-25");
        if (!api_key_.empty()) req.set(http::field::authorization, "Bearer " + api_key_);
        req.keep_alive(true);
        req.body() = body;
        req.prepare_payload();
        http::write(*stream_, req);
        http::response_parser<http::string_body> parser;
        parser.body_limit(64 * 1024 * 1024);
        http::read(*stream_, buffer_, parser);
        auto res = parser.release();
        if (!res.keep_alive()) stream_.reset();
        return res;
      } catch (const boost::system::system_error&) {
        // A kept-alive connection the server closed meanwhile: reconnect once.
        stream_.reset();
        if (attempt == 1) throw;
      }
    }
    throw std::runtime_error("unreachable");
  }

  void connect() {
    tcp::resolver resolver(io_);
    stream_.emplace(io_);
    stream_->connect(resolver.resolve(url_.host, url_.port));
    stream_->socket().set_option(tcp::no_delay(true));
    buffer_.clear();
  }

  Url url_;
  std::string api_key_;
  std::string session_id_;
  asio::io_context io_;
  std::optional<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
};

}  // namespace

std::unique_ptr<ClientTransport> make_http_transport(const std::string& url, const std::string& api_key) {
  return std::make_unique<HttpClientTransport>(url, api_key);
}

}  // namespace mcpd::client
