// Markdown titles read the way the chunker reads headings and fences (markdown_syntax.hpp).
#include "packs/knowledge/extract/text_extractor.hpp"

#include <algorithm>
#include <optional>

#include "packs/knowledge/extract/markdown_syntax.hpp"
#include "packs/knowledge/extract/text_encoding.hpp"

namespace mcpd::packs::knowledge {

namespace {

using text::collapse_whitespace;
using text::is_space;

// Text of an ATX heading line ("## Title ##" -> "Title"), or nullopt when the line is not one.
std::optional<std::string_view> atx_heading_text(std::string_view line) {
  int level = 0;
  std::string_view text;
  if (!markdown::parse_atx_heading(line, level, text)) return std::nullopt;
  return text;
}

std::string markdown_title(std::string_view text) {
  bool in_fence = false;
  char fence_ch = 0;
  std::size_t fence_len = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    char ch;
    std::size_t len;
    std::string_view info;
    if (in_fence) {
      if (markdown::parse_fence(line, ch, len, info) && ch == fence_ch && len >= fence_len &&
          std::all_of(info.begin(), info.end(), is_space))
        in_fence = false;
      continue;
    }
    if (markdown::parse_fence(line, ch, len, info) && !(ch == '`' && info.find('`') != std::string_view::npos)) {
      in_fence = true;
      fence_ch = ch;
      fence_len = len;
      continue;
    }
    if (auto h = atx_heading_text(line); h && !h->empty()) return collapse_whitespace(*h);
  }
  return {};
}

}  // namespace

ExtractedText extract_text(std::string_view name, DocumentKind kind, std::string_view language, std::string text) {
  ExtractedText out;
  out.kind = kind;
  out.language = std::string(language);
  if (kind == DocumentKind::Markdown) out.title = markdown_title(text);
  if (out.title.empty()) out.title = std::string(name);
  out.text = std::move(text);
  return out;
}

}  // namespace mcpd::packs::knowledge
