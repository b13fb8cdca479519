// Fuzzes the knowledge pack's text extraction and chunking (src/packs/knowledge/extract/*): roff man
// pages, HTML (libxml2), PDF (poppler), Markdown, text and code. The input's first line is the file's
// path, which picks the extractor as a sync would; the rest is the file. Whatever comes out is valid
// UTF-8 with LF line ends, and its chunks keep their size bound and line ranges.
#include <algorithm>
#include <cstdint>
#include <string>

#include "fuzz_check.hpp"
#include "infra/text.hpp"
#include "packs/knowledge/extract/chunker.hpp"
#include "packs/knowledge/extract/extract.hpp"

using namespace mcpd::packs::knowledge;

namespace {

bool is_hex_sha256(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

void check_chunks(const ExtractedText& doc, const ChunkOptions& options) {
  const auto lines = static_cast<int>(std::count(doc.text.begin(), doc.text.end(), '\n')) + 1;
  int previous_start = 0;
  for (const auto& c : chunk(doc, options)) {
    FUZZ_CHECK(c.text.size() <= options.max_chars, "a chunk keeps the size bound");
    FUZZ_CHECK(mcpd::infra::first_invalid_utf8(c.text) == std::string::npos, "a chunk is cut between characters");
    FUZZ_CHECK(mcpd::infra::first_invalid_utf8(c.heading) == std::string::npos, "a heading is valid UTF-8");
    FUZZ_CHECK(1 <= c.line_start && c.line_start <= c.line_end && c.line_end <= lines,
               "a chunk's lines are lines of the document");
    FUZZ_CHECK(c.line_start >= previous_start, "chunks follow the document's order");
    previous_start = c.line_start;
    FUZZ_CHECK(is_hex_sha256(c.hash), "a chunk has its SHA-256");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto newline = input.find('\n');
  if (newline == std::string_view::npos || newline > 200) return 0;
  const std::string_view path = input.substr(0, newline);
  const std::string_view content = input.substr(newline + 1);

  ExtractOptions options;
  options.max_bytes = 64 * 1024;
  const auto outcome = extract(path, content, options);
  if (!outcome) {
    FUZZ_CHECK(!outcome.error().message.empty(), "a refusal says why");
    return 0;
  }
  const auto& doc = *outcome;
  FUZZ_CHECK(is_supported_path(path), "only a supported path is extracted");
  FUZZ_CHECK(content.size() <= options.max_bytes, "a file past the size limit is refused");
  FUZZ_CHECK(mcpd::infra::first_invalid_utf8(doc.text) == std::string::npos, "extracted text is valid UTF-8");
  FUZZ_CHECK(doc.text.find('\r') == std::string::npos, "extracted text has LF line ends");
  // The title falls back to the file name, which is only as valid as the path.
  if (mcpd::infra::first_invalid_utf8(path) == std::string::npos)
    FUZZ_CHECK(mcpd::infra::first_invalid_utf8(doc.title) == std::string::npos, "a title is valid UTF-8");

  check_chunks(doc, ChunkOptions{});
  check_chunks(doc, ChunkOptions{120, 20, 30});  // small bounds: many splits, overlaps and merges
  return 0;
}
