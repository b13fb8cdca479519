// UTF-8 validation; see text.hpp. Runs of ASCII are skipped eight bytes at a time, since most text
// checked here (object contents, extracted documents) is mostly ASCII.
#include "infra/text.hpp"

#include <cstdint>
#include <cstring>

namespace mcpd::infra {

std::size_t first_invalid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  auto continuation = [&](std::size_t k) { return k < n && (p[k] & 0xC0) == 0x80; };
  std::size_t i = 0;
  while (i < n) {
    if (i + 8 <= n) {
      std::uint64_t word;
      std::memcpy(&word, p + i, 8);
      if ((word & 0x8080808080808080ULL) == 0) {
        i += 8;
        continue;
      }
    }
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
    } else if (c >= 0xC2 && c <= 0xDF) {
      if (!continuation(i + 1)) return i;
      i += 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      if (i + 1 >= n) return i;
      const unsigned char c1 = p[i + 1];
      // E0 needs A0..BF (else overlong), ED needs 80..9F (else a surrogate).
      const bool second_ok = c == 0xE0 ? (c1 >= 0xA0 && c1 <= 0xBF) : c == 0xED ? (c1 >= 0x80 && c1 <= 0x9F) : (c1 & 0xC0) == 0x80;
      if (!second_ok || !continuation(i + 2)) return i;
      i += 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
      if (i + 1 >= n) return i;
      const unsigned char c1 = p[i + 1];
      // F0 needs 90..BF (else overlong), F4 needs 80..8F (else above U+10FFFF).
      const bool second_ok = c == 0xF0 ? (c1 >= 0x90 && c1 <= 0xBF) : c == 0xF4 ? (c1 >= 0x80 && c1 <= 0x8F) : (c1 & 0xC0) == 0x80;
      if (!second_ok || !continuation(i + 2) || !continuation(i + 3)) return i;
      i += 4;
    } else {
      return i;  // a stray continuation byte, C0/C1 (always overlong) or F5..FF
    }
  }
  return std::string_view::npos;
}

}  // namespace mcpd::infra
