// The PDF extractor: poppler's UTF-16 text turned into valid UTF-8 with LF line ends.
#include "packs/knowledge/extract/pdf_extractor.hpp"

#include <poppler/cpp/poppler-document.h>
#include <poppler/cpp/poppler-global.h>
#include <poppler/cpp/poppler-page.h>

#include <climits>
#include <memory>
#include <mutex>
#include <string>

#include "packs/knowledge/extract/text_encoding.hpp"

namespace mcpd::packs::knowledge {

namespace {

using text::append_utf8;
using text::collapse_whitespace;
using text::is_space;
using text::normalize_newlines;

// poppler's ustring holds UTF-16 code units; unpaired surrogates become U+FFFD, NULs are dropped,
// so the result is always valid UTF-8.
std::string utf16_to_utf8(const poppler::ustring& s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char32_t u = s[i];
    if (u == 0 || (i == 0 && u == 0xFEFF)) continue;
    if (u >= 0xD800 && u <= 0xDBFF && i + 1 < s.size() && s[i + 1] >= 0xDC00 && s[i + 1] <= 0xDFFF) {
      u = 0x10000 + ((u - 0xD800) << 10) + (s[i + 1] - 0xDC00);
      ++i;
    } else if (u >= 0xD800 && u <= 0xDFFF) {
      u = 0xFFFD;
    }
    append_utf8(out, u);
  }
  return out;
}

std::once_flag g_poppler_once;

void quiet_poppler(const std::string&, void*) {}

}  // namespace

core::Result<ExtractedText> extract_pdf(std::string_view name, std::string_view content) {
  if (content.size() > static_cast<std::size_t>(INT_MAX)) return core::Error::refused("PDF too large to parse");
  // poppler reports recoverable damage on stderr; the outcome says what matters.
  std::call_once(g_poppler_once, [] { poppler::set_debug_error_function(quiet_poppler, nullptr); });
  std::unique_ptr<poppler::document> doc(
      poppler::document::load_from_raw_data(content.data(), static_cast<int>(content.size())));
  if (!doc) return core::Error::refused("PDF could not be parsed");
  if (doc->is_locked()) return core::Error::refused("encrypted PDF (a password is required)");

  ExtractedText out;
  out.kind = DocumentKind::Pdf;
  const int pages = doc->pages();
  for (int i = 0; i < pages; ++i) {
    std::unique_ptr<poppler::page> page(doc->create_page(i));
    if (!page) continue;
    std::string page_text = normalize_newlines(utf16_to_utf8(page->text()));
    while (!page_text.empty() && is_space(page_text.back())) page_text.pop_back();
    std::size_t lead = 0;
    while (lead < page_text.size() && page_text[lead] == '\n') ++lead;
    if (lead == page_text.size()) continue;
    if (!out.text.empty()) out.text += "\n\n";  // pages are paragraphs apart
    out.text.append(page_text, lead);
  }
  out.title = collapse_whitespace(utf16_to_utf8(doc->info_key("Title")));
  if (out.title.empty()) out.title = std::string(name);
  return out;
}

}  // namespace mcpd::packs::knowledge
