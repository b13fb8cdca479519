// The per-connection coroutine: read a request, hand it to the Router, write what comes back.
#pragma once
#include <boost/asio.hpp>

#include "transport/http_server.hpp"

namespace mcpd::transport {

asio::awaitable<void> serve_connection(asio::ip::tcp::socket socket, Router& router, HttpLimits limits,
                                       ConnectionInfo info);

}  // namespace mcpd::transport
