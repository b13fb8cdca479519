// Structure-aware chunking: splits at Markdown headings, code fences, paragraphs and blank lines,
// within size bounds and with overlap; each chunk knows its heading path and line range.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "packs/knowledge/extract/extract.hpp"

namespace mcpd::packs::knowledge {

struct Chunk {
  std::string text;
  std::string heading;     // heading path, e.g. "Install > From source"; empty before the first heading
  int line_start = 1;      // 1-based, inclusive, in the extracted text
  int line_end = 1;
  std::string hash;        // hex SHA-256 of heading + "\n" + text: unchanged chunks keep their embeddings
};

struct ChunkOptions {
  std::size_t max_chars = 1600;  // hard upper bound on a chunk's text (in bytes of UTF-8)
  std::size_t min_chars = 200;   // small pieces of one section are merged up to this size
  std::size_t overlap_chars = 200;  // a split inside one section repeats this much of the previous tail
};

std::vector<Chunk> chunk(const ExtractedText& document, const ChunkOptions& options = {});

}  // namespace mcpd::packs::knowledge
