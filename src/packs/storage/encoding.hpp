// Small codecs the storage pack needs: base64 (standard for blobs, URL-safe for continuation
// tokens), UTF-8 validation (text or blob?), and time stamps in the one format the tools answer with.
#pragma once
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace mcpd::packs::storage {

std::string base64_encode(std::string_view bytes, bool url_safe = false);
// Nullopt when `text` is not base64 of that alphabet. Padding is optional; whitespace is refused.
std::optional<std::string> base64_decode(std::string_view text, bool url_safe = false);

// Well-formed UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view bytes);

// "2024-05-01T12:00:00.000Z".
std::string iso8601_utc(std::time_t seconds, long nanoseconds = 0);
// An HTTP date ("Wed, 01 May 2024 12:00:00 GMT") as ISO 8601; anything else is returned unchanged.
std::string http_date_to_iso8601(const std::string& http_date);

}  // namespace mcpd::packs::storage
