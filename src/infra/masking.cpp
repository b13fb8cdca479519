// Secret and PII masking.
#include "infra/masking.hpp"

#include "infra/text.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <regex>

namespace mcpd::infra {

bool is_secret_key(std::string_view key) {
  static constexpr std::array<std::string_view, 11> kWords = {
      "password", "passwd", "secret", "token", "api_key", "apikey", "api-key", "authorization", "credential",
      "private_key", "cookie"};
  std::string k = ascii_lower(key);
  return std::any_of(kWords.begin(), kWords.end(), [&](std::string_view w) { return k.find(w) != std::string::npos; });
}

std::string mask_text(std::string_view text) {
  static const std::regex kBearer(R"((bearer|basic)\s+[A-Za-z0-9._~+/=-]+)", std::regex::icase);
  static const std::regex kAssignments(
      R"(((?:password|passwd|secret|token|api[_-]?key|authorization)\s*[=:]\s*)("?)(?!(?:bearer|basic)\s)[^\s"&,;]+)", std::regex::icase);
  static const std::regex kUrlCredentials(R"((://[^:/@\s]+:)[^@/\s]+@)");
  static const std::regex kEmail(R"([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})");
  static const std::regex kSqlPassword(R"((password\s+)'[^']*')", std::regex::icase);  // ALTER ROLE x PASSWORD '...'
  // std::regex (libstdc++) recurses once per character matched, and some patterns are quadratic:
  // text longer than this is cut before it is scanned.
  constexpr std::size_t kMaxScanned = 2048;
  std::string out(text);
  if (text.size() > kMaxScanned) {
    std::size_t cut = kMaxScanned;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // not inside a character
    out = std::string(text.substr(0, cut)) + "…(" + std::to_string(text.size()) + " bytes)";
  }
  // Each pattern runs only when the text holds what it needs (std::regex is slow, and this runs
  // on every audited argument): most text holds none of it.
  const std::string l = ascii_lower(out);
  auto has = [&](std::string_view w) { return l.find(w) != std::string::npos; };
  if (has("bearer") || has("basic")) out = std::regex_replace(out, kBearer, "$1 ***");
  if ((has("=") || has(":")) && (has("passw") || has("secret") || has("token") || has("api") || has("authorization")))
    out = std::regex_replace(out, kAssignments, "$1$2***");
  if (has("passw")) out = std::regex_replace(out, kSqlPassword, "$1'***'");
  if (has("@")) {
    if (has("://")) out = std::regex_replace(out, kUrlCredentials, "$1***@");
    out = std::regex_replace(out, kEmail, "***@***");
  }
  return out;
}

void mask_json(boost::json::value& value) {
  if (value.is_object()) {
    for (auto& [k, v] : value.get_object()) {
      if (is_secret_key(k) && !v.is_null()) v = "***";
      else mask_json(v);
    }
  } else if (value.is_array()) {
    for (auto& v : value.get_array()) mask_json(v);
  } else if (value.is_string()) {
    std::string masked = mask_text(value.get_string());
    if (masked != std::string_view(value.get_string())) value = masked;
  }
}

std::string clean_detail(std::string text, std::initializer_list<std::string_view> secrets, std::size_t max_chars) {
  for (std::string_view secret : secrets) {
    if (secret.empty()) continue;
    for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos + 3))
      text.replace(pos, secret.size(), "***");
  }
  std::string out;
  out.reserve(std::min(text.size(), max_chars + 3));
  bool space = false;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  while (!out.empty() && (out.back() == '.' || out.back() == ' ')) out.pop_back();
  if (out.size() > max_chars) {
    std::size_t cut = max_chars;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
    out += "...";
  }
  return out;
}

std::string mask_secret(std::string_view secret) {
  if (secret.size() < 12) return "***";
  return std::string(secret.substr(0, 4)) + "…(" + std::to_string(secret.size()) + " chars)";
}

}  // namespace mcpd::infra
