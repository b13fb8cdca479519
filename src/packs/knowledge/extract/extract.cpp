// Text extraction: the kind by file name, then the checks every format shares (size, NUL bytes,
// strict UTF-8, byte order mark, LF line ends) before the format's own extractor.
#include "packs/knowledge/extract/extract.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <string>

#include "infra/text.hpp"
#include "packs/knowledge/extract/html_extractor.hpp"
#include "packs/knowledge/extract/man_extractor.hpp"
#include "packs/knowledge/extract/pdf_extractor.hpp"
#include "packs/knowledge/extract/text_encoding.hpp"
#include "packs/knowledge/extract/text_extractor.hpp"

namespace mcpd::packs::knowledge {

namespace {

using infra::first_invalid_utf8;
using text::latin1_to_utf8;
using text::normalize_newlines;

constexpr std::size_t kBinaryProbeBytes = 8 * 1024;

struct Classification {
  DocumentKind kind;
  std::string_view language;  // code only
};

struct ExtensionEntry {
  std::string_view ext;  // lowercase, without the dot
  DocumentKind kind;
  std::string_view language;
};

constexpr std::array kExtensions = std::to_array<ExtensionEntry>({
    // Markdown
    {"md", DocumentKind::Markdown, ""},
    {"markdown", DocumentKind::Markdown, ""},
    {"mdx", DocumentKind::Markdown, ""},
    // Plain text
    {"txt", DocumentKind::Text, ""},
    {"text", DocumentKind::Text, ""},
    {"rst", DocumentKind::Text, ""},
    {"adoc", DocumentKind::Text, ""},
    {"asciidoc", DocumentKind::Text, ""},
    // HTML, PDF
    {"html", DocumentKind::Html, ""},
    {"htm", DocumentKind::Html, ""},
    {"xhtml", DocumentKind::Html, ""},
    {"pdf", DocumentKind::Pdf, ""},
    // Source code
    {"c", DocumentKind::Code, "c"},
    {"h", DocumentKind::Code, "c"},
    {"cc", DocumentKind::Code, "cpp"},
    {"cpp", DocumentKind::Code, "cpp"},
    {"cxx", DocumentKind::Code, "cpp"},
    {"c++", DocumentKind::Code, "cpp"},
    {"hh", DocumentKind::Code, "cpp"},
    {"hpp", DocumentKind::Code, "cpp"},
    {"hxx", DocumentKind::Code, "cpp"},
    {"h++", DocumentKind::Code, "cpp"},
    {"ipp", DocumentKind::Code, "cpp"},
    {"inl", DocumentKind::Code, "cpp"},
    {"py", DocumentKind::Code, "python"},
    {"pyi", DocumentKind::Code, "python"},
    {"js", DocumentKind::Code, "javascript"},
    {"mjs", DocumentKind::Code, "javascript"},
    {"cjs", DocumentKind::Code, "javascript"},
    {"jsx", DocumentKind::Code, "javascript"},
    {"ts", DocumentKind::Code, "typescript"},
    {"tsx", DocumentKind::Code, "typescript"},
    {"mts", DocumentKind::Code, "typescript"},
    {"cts", DocumentKind::Code, "typescript"},
    {"go", DocumentKind::Code, "go"},
    {"rs", DocumentKind::Code, "rust"},
    {"java", DocumentKind::Code, "java"},
    {"kt", DocumentKind::Code, "kotlin"},
    {"kts", DocumentKind::Code, "kotlin"},
    {"scala", DocumentKind::Code, "scala"},
    {"groovy", DocumentKind::Code, "groovy"},
    {"gradle", DocumentKind::Code, "groovy"},
    {"cs", DocumentKind::Code, "csharp"},
    {"fs", DocumentKind::Code, "fsharp"},
    {"swift", DocumentKind::Code, "swift"},
    {"m", DocumentKind::Code, "objective-c"},
    {"mm", DocumentKind::Code, "objective-cpp"},
    {"rb", DocumentKind::Code, "ruby"},
    {"php", DocumentKind::Code, "php"},
    {"pl", DocumentKind::Code, "perl"},
    {"pm", DocumentKind::Code, "perl"},
    {"lua", DocumentKind::Code, "lua"},
    {"r", DocumentKind::Code, "r"},
    {"jl", DocumentKind::Code, "julia"},
    {"hs", DocumentKind::Code, "haskell"},
    {"ml", DocumentKind::Code, "ocaml"},
    {"mli", DocumentKind::Code, "ocaml"},
    {"ex", DocumentKind::Code, "elixir"},
    {"exs", DocumentKind::Code, "elixir"},
    {"erl", DocumentKind::Code, "erlang"},
    {"clj", DocumentKind::Code, "clojure"},
    {"dart", DocumentKind::Code, "dart"},
    {"zig", DocumentKind::Code, "zig"},
    {"nim", DocumentKind::Code, "nim"},
    {"sh", DocumentKind::Code, "shell"},
    {"bash", DocumentKind::Code, "shell"},
    {"zsh", DocumentKind::Code, "shell"},
    {"fish", DocumentKind::Code, "fish"},
    {"ps1", DocumentKind::Code, "powershell"},
    {"toml", DocumentKind::Code, "toml"},
    {"yaml", DocumentKind::Code, "yaml"},
    {"yml", DocumentKind::Code, "yaml"},
    {"json", DocumentKind::Code, "json"},
    {"jsonc", DocumentKind::Code, "json"},
    {"ini", DocumentKind::Code, "ini"},
    {"cfg", DocumentKind::Code, "ini"},
    {"conf", DocumentKind::Code, "ini"},
    {"xml", DocumentKind::Code, "xml"},
    {"sql", DocumentKind::Code, "sql"},
    {"proto", DocumentKind::Code, "protobuf"},
    {"graphql", DocumentKind::Code, "graphql"},
    {"cmake", DocumentKind::Code, "cmake"},
    {"mk", DocumentKind::Code, "make"},
    {"css", DocumentKind::Code, "css"},
    {"scss", DocumentKind::Code, "scss"},
    {"vue", DocumentKind::Code, "vue"},
    {"svelte", DocumentKind::Code, "svelte"},
    {"tf", DocumentKind::Code, "hcl"},
    {"nix", DocumentKind::Code, "nix"},
});

struct NameEntry {
  std::string_view name;  // lowercase file name
  DocumentKind kind;
  std::string_view language;
};

constexpr std::array kFileNames = std::to_array<NameEntry>({
    {"cmakelists.txt", DocumentKind::Code, "cmake"},
    {"makefile", DocumentKind::Code, "make"},
    {"gnumakefile", DocumentKind::Code, "make"},
    {"dockerfile", DocumentKind::Code, "dockerfile"},
    {"containerfile", DocumentKind::Code, "dockerfile"},
    {"gemfile", DocumentKind::Code, "ruby"},
    {"rakefile", DocumentKind::Code, "ruby"},
    {"vagrantfile", DocumentKind::Code, "ruby"},
    {"jenkinsfile", DocumentKind::Code, "groovy"},
});

std::string_view file_name(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::optional<Classification> classify(std::string_view path) {
  std::string name = infra::ascii_lower(file_name(path));
  if (name.empty()) return std::nullopt;
  for (const auto& e : kFileNames)
    if (e.name == name) return Classification{e.kind, e.language};
  auto dot = name.rfind('.');
  if (dot == std::string::npos) return Classification{DocumentKind::Text, ""};  // README, LICENSE, ...
  if (dot == 0) return std::nullopt;  // hidden files (.env, .gitignore): not documents
  std::string_view ext = std::string_view(name).substr(dot + 1);
  for (const auto& e : kExtensions)
    if (e.ext == ext) return Classification{e.kind, e.language};
  if (is_man_extension(path, ext)) return Classification{DocumentKind::Man, ""};
  return std::nullopt;
}

}  // namespace

std::string_view to_string(DocumentKind kind) {
  switch (kind) {
    case DocumentKind::Markdown:
      return "markdown";
    case DocumentKind::Text:
      return "text";
    case DocumentKind::Code:
      return "code";
    case DocumentKind::Html:
      return "html";
    case DocumentKind::Pdf:
      return "pdf";
    case DocumentKind::Man:
      return "man";
  }
  return "text";
}

bool is_supported_path(std::string_view path) { return classify(path).has_value(); }

core::Result<ExtractedText> extract(std::string_view path, std::string_view content, const ExtractOptions& options) {
  if (content.size() > options.max_bytes)
    return core::Error::refused("larger than " + std::to_string(options.max_bytes) + " bytes");
  auto cls = classify(path);
  if (!cls) return core::Error::refused("unsupported file type");
  const std::string_view name = file_name(path);
  if (cls->kind == DocumentKind::Pdf) return extract_pdf(name, content);

  if (std::memchr(content.data(), '\0', std::min(content.size(), kBinaryProbeBytes)) != nullptr)
    return core::Error::refused("binary file (NUL bytes)");
  if (auto bad = first_invalid_utf8(content); bad != std::string_view::npos) {
    if (cls->kind != DocumentKind::Man)
      return core::Error::refused("not valid UTF-8 (first invalid byte at offset " + std::to_string(bad) + ")");
    // groff reads a page that is not UTF-8 as Latin-1; so do we.
    if (std::memchr(content.data(), '\0', content.size()) != nullptr) return core::Error::refused("binary file (NUL bytes)");
    return extract_man(name, normalize_newlines(latin1_to_utf8(content)));
  }
  if (content.starts_with("\xEF\xBB\xBF")) content.remove_prefix(3);  // byte order mark
  std::string text = normalize_newlines(content);

  if (cls->kind == DocumentKind::Html) return extract_html(name, std::move(text));
  if (cls->kind == DocumentKind::Man) return extract_man(name, text);

  return extract_text(name, cls->kind, cls->language, std::move(text));
}

}  // namespace mcpd::packs::knowledge
