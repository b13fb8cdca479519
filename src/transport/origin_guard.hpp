// DNS-rebinding protection: validates the Host and Origin headers of every request.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "transport/response_channel.hpp"

namespace mcpd::transport {

class OriginGuard {
 public:
  OriginGuard(std::vector<std::string> allowed_origins, std::vector<std::string> allowed_hosts);

  // nullopt when the request may proceed; otherwise why it is refused (answered with 403).
  std::optional<std::string> check(const Request& request, bool loopback_listener) const;

  static bool is_loopback_host(std::string_view host);  // host without port

 private:
  std::vector<std::string> allowed_origins_;
  std::vector<std::string> allowed_hosts_;
};

}  // namespace mcpd::transport
