// Base64 (RFC 4648): the standard alphabet with padding for bytes in JSON (blobs, bytea columns),
// and the URL-safe alphabet without padding for tokens that travel in URLs and query strings.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace mcpd::infra {

// Standard alphabet ('+', '/'), padded with '='.
std::string base64_encode(std::string_view bytes);
// URL-safe alphabet ('-', '_'), no padding: '=' would need escaping in a query string.
std::string base64url_encode(std::string_view bytes);

// The bytes, or nullopt when `text` is not base64 of that alphabet. Padding is optional; whitespace
// and the other alphabet's characters are refused.
std::optional<std::string> base64_decode(std::string_view text);
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace mcpd::infra
