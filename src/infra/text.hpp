// Small text helpers shared across rooms: ASCII case folding and UTF-8 validation.
#pragma once
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <string>
#include <string_view>

namespace mcpd::infra {

inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Offset of the first byte that is not part of well-formed UTF-8 (Unicode Table 3-7: no overlong
// forms, no surrogates, nothing above U+10FFFF, no truncated sequence), or npos when all of it is.
std::size_t first_invalid_utf8(std::string_view bytes);

inline bool is_valid_utf8(std::string_view bytes) { return first_invalid_utf8(bytes) == std::string_view::npos; }

}  // namespace mcpd::infra
