// API-key authentication: X-API-KEY or Authorization: Bearer, compared in constant time.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "transport/response_channel.hpp"

namespace mcpd::transport {

class Authenticator {
 public:
  explicit Authenticator(std::vector<std::string> keys);

  bool required() const { return !keys_.empty(); }
  // The caller's principal ("key:<id>", or "anonymous" when auth is off); nullopt when refused.
  std::optional<std::string> authenticate(const Request& request) const;
  // 401 with WWW-Authenticate, saying how to authenticate.
  // What a 401 says and its WWW-Authenticate header (the router shapes the body for the surface).
  struct Challenge {
    std::string message;
    std::string www_authenticate;
  };
  Challenge challenge(bool key_was_sent) const;
  // The public id of a key: the first 8 hex digits of its SHA-256 (safe to log and audit).
  static std::string key_id(const std::string& key);

 private:
  std::vector<std::string> keys_;
  std::vector<std::string> ids_;
};

}  // namespace mcpd::transport
