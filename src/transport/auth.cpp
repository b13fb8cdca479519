// Authenticator implementation.
#include "transport/auth.hpp"

#include "infra/crypto.hpp"

namespace mcpd::transport {

Authenticator::Authenticator(std::vector<std::string> keys) : keys_(std::move(keys)) {
  for (const auto& k : keys_) ids_.push_back(key_id(k));
}

std::string Authenticator::key_id(const std::string& key) { return "key:" + infra::sha256_hex(key).substr(0, 8); }

std::optional<std::string> Authenticator::authenticate(const Request& request) const {
  if (keys_.empty()) return std::string("anonymous");
  std::string_view presented;
  if (auto it = request.find("X-API-KEY"); it != request.end()) {
    presented = it->value();
  } else if (auto a = request.find(http::field::authorization); a != request.end()) {
    std::string_view v = a->value();
    if (v.size() > 7 && (v.substr(0, 7) == "Bearer " || v.substr(0, 7) == "bearer ")) presented = v.substr(7);
  }
  if (presented.empty()) return std::nullopt;
  // Every key is compared, so the time taken does not tell which one (if any) matched.
  std::optional<std::string> principal;
  for (std::size_t i = 0; i < keys_.size(); ++i)
    if (infra::constant_time_equals(presented, keys_[i]) && !principal) principal = ids_[i];
  return principal;
}

Authenticator::Challenge Authenticator::challenge(bool key_was_sent) const {
  if (key_was_sent) return {"the API key is not valid", R"(Bearer realm="mcpd", error="invalid_token")"};
  return {"authentication required: send the API key as 'X-API-KEY: <key>' or 'Authorization: Bearer <key>'",
          R"(Bearer realm="mcpd")"};
}

}  // namespace mcpd::transport
