// HTML through libxml2's HTML parser: the text only (scripts, styles and the like dropped), block
// elements as line and paragraph breaks, titled by <title> or the first <h1>.
#pragma once
#include <string>
#include <string_view>

#include "packs/knowledge/extract/extract.hpp"

namespace mcpd::packs::knowledge {

// `text` is valid UTF-8 with LF line ends; `name` (the file name) is the title when the page has none.
core::Result<ExtractedText> extract_html(std::string_view name, std::string text);

}  // namespace mcpd::packs::knowledge
