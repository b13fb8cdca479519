// UTF-8 conversions, line ends and whitespace: what the extractors of every format share (case
// folding and UTF-8 validation are infra/text.hpp's).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace mcpd::packs::knowledge::text {

// CRLF and lone CR become LF.
std::string normalize_newlines(std::string_view s);

bool is_space(char c);

// Runs of whitespace become one space; none at the ends.
std::string collapse_whitespace(std::string_view s);

// Appends code point `cp` encoded as UTF-8.
void append_utf8(std::string& out, char32_t cp);

// `s` with every byte that is not part of well-formed UTF-8 replaced by U+FFFD.
std::string repair_utf8(std::string s);

// Latin-1 to UTF-8 (groff's own default input encoding), for pages that are not UTF-8.
std::string latin1_to_utf8(std::string_view s);

}  // namespace mcpd::packs::knowledge::text
