// The extractors' shared text helpers.
#include "packs/knowledge/extract/text_encoding.hpp"

#include "infra/text.hpp"


namespace mcpd::packs::knowledge::text {

std::string normalize_newlines(std::string_view s) {
  std::string out;
  if (s.find('\r') == std::string_view::npos) return std::string(s);
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out += '\n';
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string collapse_whitespace(std::string_view s) {
  std::string out;
  bool pending = false;
  for (char c : s) {
    if (is_space(c)) {
      pending = true;
    } else {
      if (pending && !out.empty()) out += ' ';
      pending = false;
      out += c;
    }
  }
  return out;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::string latin1_to_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      out += ch;
    } else {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

std::string repair_utf8(std::string s) {
  std::size_t bad = infra::first_invalid_utf8(s);
  if (bad == std::string::npos) return s;
  std::string out;
  out.reserve(s.size() + 8);
  std::string_view rest(s);
  while (bad != std::string_view::npos) {
    out.append(rest.substr(0, bad));
    out.append("\xEF\xBF\xBD");
    rest.remove_prefix(bad + 1);
    bad = infra::first_invalid_utf8(rest);
  }
  out.append(rest);
  return out;
}

}  // namespace mcpd::packs::knowledge::text
