// The two bits of Markdown syntax both the extractor (titles) and the chunker (sections, fences)
// must read the same way: ATX headings and code fences.
#pragma once
#include <cstddef>
#include <string_view>

namespace mcpd::packs::knowledge::markdown {

inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// ATX heading: up to 3 spaces, 1-6 '#', then a space/tab or the end of the line. `text` is the
// heading without an optional closing run of '#'.
inline bool parse_atx_heading(std::string_view line, int& level, std::string_view& text) {
  std::size_t i = 0;
  while (i < line.size() && i < 3 && line[i] == ' ') ++i;
  std::size_t hashes = 0;
  while (i + hashes < line.size() && line[i + hashes] == '#') ++hashes;
  if (hashes == 0 || hashes > 6) return false;
  i += hashes;
  if (i < line.size() && line[i] != ' ' && line[i] != '\t') return false;
  std::string_view rest = line.substr(i);
  while (!rest.empty() && is_space(rest.front())) rest.remove_prefix(1);
  while (!rest.empty() && is_space(rest.back())) rest.remove_suffix(1);
  std::size_t end = rest.size();
  while (end > 0 && rest[end - 1] == '#') --end;
  if (end == 0) {
    rest = {};
  } else if (end < rest.size() && (rest[end - 1] == ' ' || rest[end - 1] == '\t')) {
    rest = rest.substr(0, end);
    while (!rest.empty() && is_space(rest.back())) rest.remove_suffix(1);
  }
  level = static_cast<int>(hashes);
  text = rest;
  return true;
}

// A line of >= 3 backticks or tildes (any indentation, so fences nested in list items count too):
// the fence character and run length; `info` gets the rest of the line.
inline bool parse_fence(std::string_view line, char& ch, std::size_t& len, std::string_view& info) {
  std::size_t i = 0;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  if (i >= line.size() || (line[i] != '`' && line[i] != '~')) return false;
  ch = line[i];
  std::size_t j = i;
  while (j < line.size() && line[j] == ch) ++j;
  len = j - i;
  if (len < 3) return false;
  info = line.substr(j);
  return true;
}

}  // namespace mcpd::packs::knowledge::markdown
