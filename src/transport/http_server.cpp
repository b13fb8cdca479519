// Listeners and the accept loop.
#include "transport/http_server.hpp"

#include <boost/beast/core.hpp>

#include "core/error_mapping.hpp"
#include "core/json_rpc.hpp"
#include "infra/logging.hpp"
#include "transport/http_session.hpp"

namespace mcpd::transport {

using asio::ip::tcp;

Response make_response(unsigned status, std::string body, std::string_view content_type, unsigned version) {
  Response r{static_cast<http::status>(status), version};
  r.set(http::field::server, "mcpd");
  if (!content_type.empty()) r.set(http::field::content_type, content_type);
  r.set(http::field::cache_control, "no-store");
  r.body() = std::move(body);
  return r;
}

Response error_response(unsigned status, std::string_view message, unsigned version) {
  return json_response(status, boost::json::object{{"error", message}}, version);
}

Response rpc_error_response(unsigned status, std::string_view message, unsigned version, int code) {
  return json_response(status, core::make_error(nullptr, core::RpcError{code, std::string(message), nullptr}), version);
}

Response error_response(const core::Error& error, unsigned version) {
  Response r = error_response(core::http_status(error.kind), error.message, version);
  if (error.kind == core::ErrorKind::Busy) r.set(http::field::retry_after, std::to_string(core::kRetryAfterSeconds));
  return r;
}

Response sse_header(unsigned version) {
  Response r = make_response(200, "", "text/event-stream", version);
  r.set(http::field::cache_control, "no-cache, no-transform");
  r.set("X-Accel-Buffering", "no");
  return r;
}

std::string sse_frame(std::string_view data, std::string_view id, std::string_view event, std::optional<int> retry_ms) {
  std::string out;
  out.reserve(data.size() + 64);
  if (!event.empty()) { out += "event: "; out += event; out += '\n'; }
  if (!id.empty()) { out += "id: "; out += id; out += '\n'; }
  if (retry_ms) { out += "retry: "; out += std::to_string(*retry_ms); out += '\n'; }
  // Serialized JSON never holds a raw newline; other payloads are split per the SSE rules.
  std::size_t start = 0;
  while (true) {
    auto nl = data.find('\n', start);
    out += "data: ";
    out += data.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    out += '\n';
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  out += '\n';
  return out;
}

HttpServer::HttpServer(asio::io_context& io, Router& router, HttpLimits limits)
    : io_(io), router_(router), limits_(limits) {}

std::uint16_t HttpServer::listen(const infra::ListenAddress& address, bool status_listener) {
  tcp::resolver resolver(io_);
  auto results = resolver.resolve(address.host, std::to_string(address.port), tcp::resolver::passive);
  if (results.empty()) throw std::runtime_error("cannot resolve listen address " + address.to_string());
  tcp::endpoint endpoint = *results.begin();
  auto acceptor = std::make_shared<tcp::acceptor>(io_);
  acceptor->open(endpoint.protocol());
  acceptor->set_option(asio::socket_base::reuse_address(true));
  acceptor->bind(endpoint);
  acceptor->listen(asio::socket_base::max_listen_connections);
  acceptors_.push_back(acceptor);
  ConnectionInfo info;
  info.status_listener = status_listener;
  info.loopback_listener = endpoint.address().is_loopback();
  asio::co_spawn(io_, accept_loop(acceptor, info), asio::detached);
  return acceptor->local_endpoint().port();
}

void HttpServer::stop_accepting() {
  for (auto& a : acceptors_) {
    boost::system::error_code ec;
    a->close(ec);
  }
}

asio::awaitable<void> HttpServer::accept_loop(std::shared_ptr<tcp::acceptor> acceptor, ConnectionInfo info) {
  for (;;) {
    auto executor = limits_.single_threaded ? asio::any_io_executor(io_.get_executor())
                                            : asio::any_io_executor(asio::make_strand(io_));
    auto [ec, socket] = co_await acceptor->async_accept(executor, asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
      infra::log::warn("accept failed", {{"error", ec.message()}});
      continue;
    }
    ConnectionInfo conn = info;
    boost::system::error_code rec;
    auto remote = socket.remote_endpoint(rec);
    if (!rec) conn.remote_address = remote.address().to_string();
    connections_->fetch_add(1);
    asio::co_spawn(socket.get_executor(), serve_connection(std::move(socket), router_, limits_, conn),
                   [counter = connections_](std::exception_ptr e) {
                     counter->fetch_sub(1);
                     if (e) {
                       try { std::rethrow_exception(e); } catch (const std::exception& ex) {
                         infra::log::error("connection failed", {{"error", ex.what()}});
                       }
                     }
                   });
  }
}

}  // namespace mcpd::transport
