// HTTP listeners (Boost.Beast over Asio coroutines): one coroutine per connection, keep-alive,
// header/idle timeouts, body size limit, SSE streaming; requests go to a Router.
#pragma once
#include <boost/asio.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "infra/config.hpp"
#include "transport/response_channel.hpp"

namespace mcpd::transport {

struct ConnectionInfo {
  std::string remote_address;
  bool status_listener = false;  // requests that arrived on the separate status port
  bool loopback_listener = true;
};

class Router {
 public:
  virtual ~Router() = default;
  // Must eventually push a response (or a stream that ends) into `channel`.
  virtual void handle(Request&& request, const ChannelPtr& channel, const ConnectionInfo& info) = 0;
};

struct HttpLimits {
  std::size_t max_body_bytes = 4 * 1024 * 1024;
  std::chrono::seconds header_timeout{10};
  std::chrono::seconds idle_timeout{300};
  std::chrono::seconds sse_keepalive{15};
  // With one I/O thread every handler already runs in sequence: no strand per connection needed.
  bool single_threaded = false;
};

class HttpServer {
 public:
  HttpServer(asio::io_context& io, Router& router, HttpLimits limits);

  // Binds now (so a bad address fails at start-up); returns the bound port (useful with port 0).
  std::uint16_t listen(const infra::ListenAddress& address, bool status_listener);
  // Stops accepting; open connections finish their current exchange.
  void stop_accepting();
  std::size_t open_connections() const { return connections_->load(); }

 private:
  asio::awaitable<void> accept_loop(std::shared_ptr<asio::ip::tcp::acceptor> acceptor, ConnectionInfo info);

  asio::io_context& io_;
  Router& router_;
  HttpLimits limits_;
  std::vector<std::shared_ptr<asio::ip::tcp::acceptor>> acceptors_;
  std::shared_ptr<std::atomic<std::size_t>> connections_ = std::make_shared<std::atomic<std::size_t>>(0);
};

}  // namespace mcpd::transport
