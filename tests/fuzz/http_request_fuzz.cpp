// Fuzzes what the HTTP listener does with raw bytes: Beast's request parser configured as
// src/transport/http_session.cpp configures it, requests read one after another on a kept-alive
// connection in reads of varying size, then the Host/Origin check every request meets first.
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <cstdint>
#include <string>

#include "fuzz_check.hpp"
#include "transport/http_server.hpp"
#include "transport/origin_guard.hpp"

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using namespace mcpd::transport;

namespace {

// A socket's read side over the fuzz input: at most `chunk` bytes a read, then end of stream.
class ByteStream {
 public:
  using executor_type = net::any_io_executor;
  ByteStream(std::string_view bytes, std::size_t chunk) : rest_(bytes), chunk_(chunk) {}

  template <class MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& buffers, beast::error_code& ec) {
    if (rest_.empty()) {
      ec = net::error::eof;
      return 0;
    }
    ec = {};
    std::size_t n = net::buffer_copy(buffers, net::buffer(rest_.data(), std::min(chunk_, rest_.size())));
    rest_.remove_prefix(n);
    return n;
  }
  template <class MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& buffers) {
    beast::error_code ec;
    auto n = read_some(buffers, ec);
    if (ec) throw beast::system_error(ec);
    return n;
  }
  std::size_t left() const { return rest_.size(); }

 private:
  std::string_view rest_;
  std::size_t chunk_;
};

// Names that cannot be registered in DNS and reach only this machine: localhost, *.localhost (RFC 6761),
// ::1, and 127.… written in digits and dots (browsers send IPv4 hosts as numbers). A name like
// "127.example.com" can be registered and rebound, so it is not one of them.
bool is_loopback_literal(std::string_view host) {
  if (host == "localhost" || host == "::1") return true;
  if (host.size() > 10 && host.substr(host.size() - 10) == ".localhost") return true;
  return host.rfind("127.", 0) == 0 && host.find_first_not_of("0123456789.") == std::string_view::npos;
}

std::string host_name(std::string_view host) {
  std::string h;
  for (char c : host) h += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (!h.empty() && h.front() == '[') return h.substr(1, h.find(']') == std::string::npos ? std::string::npos : h.find(']') - 1);
  return h.substr(0, h.find(':'));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // The server's body limit, and a small one so that chunked bodies past a limit are reached too.
  const std::size_t body_limit = size % 2 ? 64 : HttpLimits{}.max_body_bytes;
  ByteStream stream(bytes, 1 + size % 97);
  beast::flat_buffer buffer;
  const OriginGuard loopback_guard({}, {});
  const OriginGuard listed_guard({"https://app.example"}, {"mcp.example"});

  for (int requests = 0; requests < 1000; ++requests) {
    const std::size_t before = stream.left() + buffer.size();
    http::request_parser<http::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(body_limit);
    beast::error_code ec;
    http::read(stream, buffer, parser, ec);
    if (ec == http::error::body_limit) {
      // Answered with 413 and the connection closed: nothing more is read.
      break;
    }
    if (ec) break;  // end of stream or a malformed request: the connection ends
    FUZZ_CHECK(stream.left() + buffer.size() < before, "every request read consumes bytes");
    Request request = parser.release();
    FUZZ_CHECK(request.body().size() <= body_limit, "a body is never larger than the limit");
    FUZZ_CHECK(request.version() == 10 || request.version() == 11, "only HTTP/1.0 and HTTP/1.1 are read");
    if (!request.chunked()) {
      if (auto cl = request.find(http::field::content_length); cl != request.end()) {
        const std::string v(cl->value());
        if (!v.empty() && v.size() < 18 && v.find_first_not_of("0123456789") == std::string::npos)
          FUZZ_CHECK(std::stoull(v) == request.body().size(), "a body has the length its Content-Length says");
      }
    }

    // The DNS-rebinding check: on a loopback listener only loopback names pass, unless listed.
    auto host = request.find(http::field::host);
    if (!loopback_guard.check(request, true)) {
      FUZZ_CHECK(host != request.end(), "a request without Host is refused on a loopback listener");
      FUZZ_CHECK(is_loopback_literal(host_name(host->value())),
                 "a loopback listener accepts only loopback names in Host");
      if (auto origin = request.find(http::field::origin); origin != request.end()) {
        std::string o(origin->value());
        for (auto& c : o) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        while (!o.empty() && o.back() == '/') o.pop_back();
        auto scheme = o.find("://");
        FUZZ_CHECK(scheme != std::string::npos && is_loopback_literal(host_name(o.substr(scheme + 3))),
                   "a loopback listener accepts only loopback origins");
      }
    }
    if (!listed_guard.check(request, false)) {
      FUZZ_CHECK(host != request.end(), "a request without Host is refused when hosts are listed");
      FUZZ_CHECK(host_name(host->value()) == "mcp.example", "a listed host is required");
    }
    (void)OriginGuard::is_loopback_host(std::string(host == request.end() ? "" : host->value()));
    if (!request.keep_alive()) break;
  }
  return 0;
}
