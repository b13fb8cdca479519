// PDF through poppler-cpp: each page's text, pages a paragraph apart, titled by the document's
// Title metadata. Encrypted and unreadable files are refused.
#pragma once
#include <string_view>

#include "packs/knowledge/extract/extract.hpp"

namespace mcpd::packs::knowledge {

// `content` is the file's raw bytes; `name` (the file name) is the title when the PDF has none.
core::Result<ExtractedText> extract_pdf(std::string_view name, std::string_view content);

}  // namespace mcpd::packs::knowledge
