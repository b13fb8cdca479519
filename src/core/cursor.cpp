// Cursors are base64url("mcpd:<offset>"): opaque to clients, checked on the way back.
#include "core/cursor.hpp"

#include <charconv>

namespace mcpd::core {

namespace {
constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view kPrefix = "mcpd:";

std::string b64url(std::string_view in) {
  std::string out;
  unsigned val = 0;
  int bits = -6;
  for (unsigned char c : in) {
    val = (val << 8) | c;
    bits += 8;
    while (bits >= 0) {
      out.push_back(kAlphabet[(val >> bits) & 0x3F]);
      bits -= 6;
    }
  }
  if (bits > -6) out.push_back(kAlphabet[((val << 8) >> (bits + 8)) & 0x3F]);
  return out;
}

std::optional<std::string> unb64url(std::string_view in) {
  std::string out;
  unsigned val = 0;
  int bits = -8;
  for (char c : in) {
    auto pos = kAlphabet.find(c);
    if (pos == std::string_view::npos) return std::nullopt;
    val = (val << 6) | static_cast<unsigned>(pos);
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((val >> bits) & 0xFF));
      bits -= 8;
    }
  }
  return out;
}
}  // namespace

std::string encode_cursor(std::size_t offset) { return b64url(std::string(kPrefix) + std::to_string(offset)); }

std::optional<std::size_t> decode_cursor(std::string_view cursor) {
  auto raw = unb64url(cursor);
  if (!raw || raw->rfind(kPrefix, 0) != 0) return std::nullopt;
  std::string_view digits = std::string_view(*raw).substr(kPrefix.size());
  std::size_t offset = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), offset);
  if (ec != std::errc() || ptr != digits.data() + digits.size() || digits.empty()) return std::nullopt;
  return offset;
}

}  // namespace mcpd::core
