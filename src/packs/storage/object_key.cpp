// The object key, list prefix and bucket name rules; see object_key.hpp for what they refuse and why.
#include "packs/storage/object_key.hpp"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "infra/text.hpp"

namespace mcpd::packs::storage {

namespace {

// Every code point whose NFKC form contains '.', '/' or '\', or is exactly ' ' or ';', with that
// form (generated from Python's unicodedata: for cp in 0x80..0x10FFFF, normalize('NFKC', chr(cp))).
// Only these can turn a harmless key into a dot segment, a separator or a ';' parameter on a server
// that normalises Unicode; every other character is left as it is.
constexpr std::pair<char32_t, std::string_view> kCompatibilityForms[] = {
    {0x00A0, " "},   {0x037E, ";"},    {0x2000, " "},    {0x2001, " "},    {0x2002, " "},    {0x2003, " "},
    {0x2004, " "},   {0x2005, " "},    {0x2006, " "},    {0x2007, " "},    {0x2008, " "},    {0x2009, " "},
    {0x200A, " "},   {0x2024, "."},    {0x2025, ".."},   {0x2026, "..."},  {0x202F, " "},    {0x205F, " "},
    {0x2100, "a/c"}, {0x2101, "a/s"},  {0x2105, "c/o"},  {0x2106, "c/u"},  {0x2488, "1."},   {0x2489, "2."},
    {0x248A, "3."},  {0x248B, "4."},   {0x248C, "5."},   {0x248D, "6."},   {0x248E, "7."},   {0x248F, "8."},
    {0x2490, "9."},  {0x2491, "10."},  {0x2492, "11."},  {0x2493, "12."},  {0x2494, "13."},  {0x2495, "14."},
    {0x2496, "15."}, {0x2497, "16."},  {0x2498, "17."},  {0x2499, "18."},  {0x249A, "19."},  {0x249B, "20."},
    {0x3000, " "},   {0x33C2, "a.m."}, {0x33C7, "Co."},  {0x33D8, "p.m."}, {0xFE14, ";"},    {0xFE19, "..."},
    {0xFE30, ".."},  {0xFE52, "."},    {0xFE54, ";"},    {0xFE68, "\\"},   {0xFF0E, "."},    {0xFF0F, "/"},
    {0xFF1B, ";"},   {0xFF3C, "\\"},   {0x1F100, "0."},
};

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// The URL escape starting at `at` ("%2e", "%u002e"), or an empty view when '%' starts none.
std::string_view escape_at(std::string_view s, std::size_t at) {
  if (at + 2 < s.size() && is_hex(s[at + 1]) && is_hex(s[at + 2])) return s.substr(at, 3);
  if (at + 5 < s.size() && (s[at + 1] == 'u' || s[at + 1] == 'U') &&
      std::all_of(s.begin() + static_cast<std::ptrdiff_t>(at) + 2, s.begin() + static_cast<std::ptrdiff_t>(at) + 6, is_hex))
    return s.substr(at, 6);
  return {};
}

// "." and "..", and what servers trim into them: only dots and spaces, before any ';' parameters.
bool is_dot_segment(std::string_view segment) {
  segment = segment.substr(0, segment.find(';'));
  return segment.find('.') != std::string_view::npos &&
         std::all_of(segment.begin(), segment.end(), [](char c) { return c == '.' || c == ' '; });
}

// The key with the characters of kCompatibilityForms replaced by their NFKC forms. `s` is valid UTF-8.
std::string compatibility_folded(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    char32_t cp = n == 1 ? c : n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
    for (std::size_t k = 1; k < n && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    const auto* hit = cp < 0x80 ? std::end(kCompatibilityForms)
                                : std::find_if(std::begin(kCompatibilityForms), std::end(kCompatibilityForms),
                                               [&](const auto& entry) { return entry.first == cp; });
    if (hit != std::end(kCompatibilityForms)) out += hit->second;
    else out.append(s.substr(i, n));
    i += n;
  }
  return out;
}

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// The rules a key and a prefix share, on a value already known to be valid UTF-8 without control
// characters. `what` is "key" or "prefix"; `shown` is the value as the caller gave it.
std::string shape_problem(std::string_view value, std::string_view shown, const std::string& what) {
  const std::string the = "the " + what + " " + quoted(shown);
  if (value.find('\\') != std::string_view::npos)
    return the + " contains a backslash, which some servers read as a folder separator; separate folders with '/'";
  if (value.starts_with('/'))
    return the + " starts with '/'; " + what + "s are relative to the bucket, so leave out the leading '/'";
  if (value.find("//") != std::string_view::npos)
    return the + " has an empty segment (\"//\"), which servers and proxies may collapse into another " + what +
           "; put a single '/' between folders";
  for (std::size_t start = 0;;) {
    const auto slash = value.find('/', start);
    const auto segment = value.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (is_dot_segment(segment))
      return the + " has a " + quoted(segment) + " segment, which could resolve to another folder or bucket; give the " +
             what + " without \".\" or \"..\" segments";
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return {};
}

std::string value_problem(std::string_view value, const std::string& what) {
  if (value.size() > kMaxObjectKeyBytes)
    return "the " + what + " is " + std::to_string(value.size()) + " bytes long, above the 1024-byte limit; use a shorter " +
           what;
  if (!infra::is_valid_utf8(value)) return "the " + what + " is not valid UTF-8; give it as UTF-8 text";
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", c);
      return "the " + what + " contains the control character " + hex + "; remove it";
    }
  }
  for (auto at = value.find('%'); at != std::string_view::npos; at = value.find('%', at + 1))
    if (const auto escape = escape_at(value, at); !escape.empty())
      return "the " + what + " " + quoted(value) + " contains the URL escape " + quoted(escape) +
             ", which a server could decode into another " + what + "; give the " + what +
             " decoded (mcpd encodes it itself)";
  if (auto p = shape_problem(value, value, what); !p.empty()) return p;
  if (const std::string folded = compatibility_folded(value); folded != value)
    if (auto p = shape_problem(folded, value, what); !p.empty())
      return p + " (after Unicode normalisation it reads " + quoted(folded) + ")";
  return {};
}

}  // namespace

std::string object_key_problem(std::string_view key) {
  if (key.empty()) return "the object key is empty; give the key of the object";
  return value_problem(key, "key");
}

std::string list_prefix_problem(std::string_view prefix) { return value_problem(prefix, "prefix"); }

std::string bucket_name_problem(std::string_view bucket) {
  if (bucket.empty()) return "the bucket name is empty; give the bucket to use";
  const bool chars_ok = std::all_of(bucket.begin(), bucket.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
  });
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
  if (!chars_ok || bucket.size() > 63 || !alnum(bucket.front()) || !alnum(bucket.back()))
    return "the bucket name " + quoted(bucket) +
           " is invalid; use 1 to 63 letters, digits, '.', '-' or '_', starting and ending with a letter or digit";
  return {};
}

}  // namespace mcpd::packs::storage
