// A browser page from another site must not be able to drive a local mcpd: a loopback listener
// accepts only loopback Host names, and any Origin must be loopback or explicitly allowed.
#include "transport/origin_guard.hpp"

#include <boost/asio/ip/address_v4.hpp>

#include <algorithm>

#include "infra/text.hpp"

namespace mcpd::transport {

namespace {

// "example.com:8080" -> "example.com", "[::1]:80" -> "::1"
std::string strip_port(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    auto close = host.find(']');
    return std::string(host.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
  }
  auto colon = host.find(':');
  return std::string(host.substr(0, colon));
}

bool contains(const std::vector<std::string>& list, const std::string& value) {
  return std::any_of(list.begin(), list.end(), [&](const std::string& v) { return infra::ascii_lower(v) == value || v == "*"; });
}
}  // namespace

OriginGuard::OriginGuard(std::vector<std::string> allowed_origins, std::vector<std::string> allowed_hosts)
    : allowed_origins_(std::move(allowed_origins)), allowed_hosts_(std::move(allowed_hosts)) {}

bool OriginGuard::is_loopback_host(std::string_view host) {
  std::string h = infra::ascii_lower(host);
  if (h == "localhost" || h == "::1" || (h.size() > 10 && h.substr(h.size() - 10) == ".localhost")) return true;
  // An address of 127.0.0.0/8 written as one: a name that merely starts with "127." (127.attacker.example)
  // is a name anyone can point at this machine, the very rebinding this guard stops.
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address_v4(h, ec);
  return !ec && address.is_loopback();
}

std::optional<std::string> OriginGuard::check(const Request& request, bool loopback_listener) const {
  auto host_it = request.find(http::field::host);
  std::string host = host_it == request.end() ? std::string() : infra::ascii_lower(host_it->value());
  std::string host_name = strip_port(host);
  bool host_allowed = contains(allowed_hosts_, host) || contains(allowed_hosts_, host_name);
  if (loopback_listener) {
    if (!is_loopback_host(host_name) && !host_allowed)
      return "the Host header '" + host + "' is not allowed on a loopback listener (DNS rebinding protection)";
  } else if (!allowed_hosts_.empty() && !host_allowed) {
    return "the Host header '" + host + "' is not in security.allowed_hosts";
  }
  auto origin_it = request.find(http::field::origin);
  if (origin_it == request.end()) return std::nullopt;  // not a browser request
  std::string origin = infra::ascii_lower(origin_it->value());
  while (!origin.empty() && origin.back() == '/') origin.pop_back();
  if (contains(allowed_origins_, origin)) return std::nullopt;
  auto scheme_end = origin.find("://");
  if (scheme_end != std::string::npos) {
    std::string origin_host = strip_port(std::string_view(origin).substr(scheme_end + 3));
    if (is_loopback_host(origin_host) && loopback_listener) return std::nullopt;
  }
  return "the Origin '" + std::string(origin_it->value()) + "' is not allowed; add it to security.allowed_origins";
}

}  // namespace mcpd::transport
