// Text extraction for indexing: Markdown, plain text, source code, HTML (text only), PDF and roff
// man pages (converted to text with Markdown-style section headings).
// Binary, oversized or undecodable files are refused (a Refused Error whose message is the reason,
// which the index records).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace mcpd::packs::knowledge {

enum class DocumentKind { Markdown, Text, Code, Html, Pdf, Man };
std::string_view to_string(DocumentKind kind);

struct ExtractedText {
  DocumentKind kind = DocumentKind::Text;
  std::string title;  // first Markdown heading, HTML <title>/<h1>, PDF title metadata, man page "ls(1)",
                     // else the file name
  std::string text;   // valid UTF-8, '\n' line ends; Markdown and code keep their lines as they are
  std::string language;  // for code: "cpp", "python", ...; empty otherwise
};

struct ExtractOptions {
  std::size_t max_bytes = 10 * 1024 * 1024;
};

// The text, or a refusal: a Refused Error whose message is the reason, e.g. "binary file (NUL
// bytes)", "larger than 10485760 bytes".
// `path` (relative, '/'-separated) decides the kind by extension; `content` is the raw bytes.
// Man pages: a file whose extension is a single digit 1-9 ("ls.1"), or, inside a section directory
// ("man1", "man3", "mann", ... or "man"), any section extension ("printf.3p", "Dpkg.3perl",
// "SSL_new.3ssl", "text.n", "x.l"). Pages that only include another (".so") are refused as aliases.
core::Result<ExtractedText> extract(std::string_view path, std::string_view content, const ExtractOptions& options = {});

// True when the path has an extension this extractor handles (others are skipped without reading).
bool is_supported_path(std::string_view path);

}  // namespace mcpd::packs::knowledge
