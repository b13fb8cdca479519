// Markdown, plain text and source code: the text as it is, titled by its first Markdown heading.
#pragma once
#include <string>
#include <string_view>

#include "packs/knowledge/extract/extract.hpp"

namespace mcpd::packs::knowledge {

// `text` is valid UTF-8 with LF line ends; `name` (the file name) is the title when there is no
// Markdown heading (or the kind is not Markdown).
ExtractedText extract_text(std::string_view name, DocumentKind kind, std::string_view language, std::string text);

}  // namespace mcpd::packs::knowledge
