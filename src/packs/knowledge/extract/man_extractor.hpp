// Man pages: which paths hold them, and their text through the roff interpreter. Pages that only
// include another (".so") are refused as aliases.
#pragma once
#include <string_view>

#include "packs/knowledge/extract/extract.hpp"

namespace mcpd::packs::knowledge {

// Man page extensions: "1".."9" anywhere; in a section directory ("man1", "man3", "mann", "man")
// also a section with a suffix ("3p", "3perl", "1ssl") and Tcl's "n" and "l". `ext` is lowercase.
bool is_man_extension(std::string_view path, std::string_view ext);

// `text` is UTF-8 with LF line ends; `name` is the file name ("ls.1").
core::Result<ExtractedText> extract_man(std::string_view name, std::string_view text);

}  // namespace mcpd::packs::knowledge
