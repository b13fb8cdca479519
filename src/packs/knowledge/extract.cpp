// Text extraction: kind by extension, strict UTF-8, LF line ends; HTML through libxml2's HTML
// parser (text only), PDF through poppler-cpp.
#include "packs/knowledge/extract.hpp"

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <poppler/cpp/poppler-document.h>
#include <poppler/cpp/poppler-global.h>
#include <poppler/cpp/poppler-page.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>

namespace mcpd::packs::knowledge {

namespace {

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

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string_view file_name(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::optional<Classification> classify(std::string_view path) {
  std::string name = lower(file_name(path));
  if (name.empty()) return std::nullopt;
  for (const auto& e : kFileNames)
    if (e.name == name) return Classification{e.kind, e.language};
  auto dot = name.rfind('.');
  if (dot == std::string::npos) return Classification{DocumentKind::Text, ""};  // README, LICENSE, ...
  if (dot == 0) return std::nullopt;  // hidden files (.env, .gitignore): not documents
  std::string_view ext = std::string_view(name).substr(dot + 1);
  for (const auto& e : kExtensions)
    if (e.ext == ext) return Classification{e.kind, e.language};
  return std::nullopt;
}

// Offset of the first byte that is not part of well-formed UTF-8 (Unicode Table 3-7), or npos.
std::size_t first_invalid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  auto cont = [&](std::size_t k) { return k < n && (p[k] & 0xC0) == 0x80; };
  while (i < n) {
    if (i + 8 <= n) {
      std::uint64_t v;
      std::memcpy(&v, p + i, 8);
      if ((v & 0x8080808080808080ULL) == 0) {
        i += 8;
        continue;
      }
    }
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
    } else if (c >= 0xC2 && c <= 0xDF) {
      if (!cont(i + 1)) return i;
      i += 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      if (i + 1 >= n) return i;
      const unsigned char c1 = p[i + 1];
      const bool ok1 = c == 0xE0   ? (c1 >= 0xA0 && c1 <= 0xBF)
                       : c == 0xED ? (c1 >= 0x80 && c1 <= 0x9F)
                                   : (c1 & 0xC0) == 0x80;
      if (!ok1 || !cont(i + 2)) return i;
      i += 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
      if (i + 1 >= n) return i;
      const unsigned char c1 = p[i + 1];
      const bool ok1 = c == 0xF0   ? (c1 >= 0x90 && c1 <= 0xBF)
                       : c == 0xF4 ? (c1 >= 0x80 && c1 <= 0x8F)
                                   : (c1 & 0xC0) == 0x80;
      if (!ok1 || !cont(i + 2) || !cont(i + 3)) return i;
      i += 4;
    } else {
      return i;
    }
  }
  return std::string_view::npos;
}

// CRLF and lone CR become LF.
std::string normalize_newlines(std::string_view s) {
  std::string out;
  if (s.find('\r') == std::string_view::npos) return std::string(s);
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out += '\n';
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string collapse_whitespace(std::string_view s) {
  std::string out;
  bool pending = false;
  for (char c : s) {
    if (is_space(c)) {
      pending = true;
    } else {
      if (pending && !out.empty()) out += ' ';
      pending = false;
      out += c;
    }
  }
  return out;
}

// ---- Markdown ----

// Text of an ATX heading line ("## Title ##" -> "Title"), or nullopt when the line is not one.
std::optional<std::string_view> atx_heading_text(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size() && i < 3 && line[i] == ' ') ++i;
  std::size_t hashes = 0;
  while (i + hashes < line.size() && line[i + hashes] == '#') ++hashes;
  if (hashes == 0 || hashes > 6) return std::nullopt;
  i += hashes;
  if (i < line.size() && line[i] != ' ' && line[i] != '\t') return std::nullopt;
  std::string_view rest = line.substr(i);
  while (!rest.empty() && is_space(rest.front())) rest.remove_prefix(1);
  while (!rest.empty() && is_space(rest.back())) rest.remove_suffix(1);
  // Optional closing sequence: trailing '#'s preceded by a space (or making up the whole text).
  std::size_t end = rest.size();
  while (end > 0 && rest[end - 1] == '#') --end;
  if (end == 0) {
    rest = {};
  } else if (end < rest.size() && (rest[end - 1] == ' ' || rest[end - 1] == '\t')) {
    rest = rest.substr(0, end);
    while (!rest.empty() && is_space(rest.back())) rest.remove_suffix(1);
  }
  return rest;
}

// A fence opener or closer: returns the fence char and run length; `info` gets the rest of the line.
bool fence_line(std::string_view line, char& ch, std::size_t& len, std::string_view& info) {
  std::size_t i = 0;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  if (i >= line.size() || (line[i] != '`' && line[i] != '~')) return false;
  ch = line[i];
  std::size_t j = i;
  while (j < line.size() && line[j] == ch) ++j;
  len = j - i;
  if (len < 3) return false;
  info = line.substr(j);
  return true;
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
      if (fence_line(line, ch, len, info) && ch == fence_ch && len >= fence_len &&
          std::all_of(info.begin(), info.end(), is_space))
        in_fence = false;
      continue;
    }
    if (fence_line(line, ch, len, info) && !(ch == '`' && info.find('`') != std::string_view::npos)) {
      in_fence = true;
      fence_ch = ch;
      fence_len = len;
      continue;
    }
    if (auto h = atx_heading_text(line); h && !h->empty()) return collapse_whitespace(*h);
  }
  return {};
}

// ---- HTML ----

enum class Block { None, Space, Line, Paragraph };

Block block_kind(std::string_view tag) {
  static constexpr auto kParagraph = std::to_array<std::string_view>(
      {"p",     "h1",   "h2",     "h3",    "h4",      "h5",       "h6",      "pre",     "blockquote",
       "ul",    "ol",   "dl",     "table", "section", "article",  "header",  "footer",  "nav",
       "aside", "main", "figure", "hr",    "form",    "fieldset", "details", "address", "menu"});
  static constexpr auto kLine =
      std::to_array<std::string_view>({"div", "li", "dt", "dd", "tr", "br", "caption", "summary", "figcaption",
                                       "option", "legend", "thead", "tbody", "tfoot"});
  for (auto t : kParagraph)
    if (t == tag) return Block::Paragraph;
  for (auto t : kLine)
    if (t == tag) return Block::Line;
  if (tag == "td" || tag == "th") return Block::Space;
  return Block::None;
}

bool dropped_element(std::string_view tag) {
  return tag == "script" || tag == "style" || tag == "noscript" || tag == "template" || tag == "title" ||
         tag == "iframe" || tag == "object" || tag == "svg" || tag == "canvas";
}

bool preformatted_element(std::string_view tag) {
  return tag == "pre" || tag == "textarea" || tag == "listing" || tag == "xmp" || tag == "plaintext";
}

class TextBuilder {
 public:
  void request(Block b) { pending_ = std::max(pending_, b); }

  void text(std::string_view s) {
    for (char c : s) {
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
        request(Block::Space);
      } else {
        flush();
        out_ += c;
      }
    }
  }

  void verbatim(std::string_view s) {
    if (s.empty()) return;
    flush();
    out_.append(s);
  }

  std::string take() {
    strip_trailing(true);
    return std::move(out_);
  }

 private:
  void strip_trailing(bool newlines) {
    while (!out_.empty() && (out_.back() == ' ' || out_.back() == '\t' || (newlines && out_.back() == '\n')))
      out_.pop_back();
  }

  void flush() {
    Block b = pending_;
    pending_ = Block::None;
    if (out_.empty() || b == Block::None) return;
    if (b == Block::Space) {
      if (!is_space(out_.back())) out_ += ' ';
      return;
    }
    strip_trailing(false);
    std::size_t want = b == Block::Line ? 1 : 2;
    std::size_t have = 0;
    while (have < out_.size() && have < 2 && out_[out_.size() - 1 - have] == '\n') ++have;
    for (; have < want; ++have) out_ += '\n';
  }

  std::string out_;
  Block pending_ = Block::None;
};

std::string node_text(xmlNode* node) {
  xmlChar* content = xmlNodeGetContent(node);
  if (content == nullptr) return {};
  std::string out = collapse_whitespace(reinterpret_cast<const char*>(content));
  xmlFree(content);
  return out;
}

std::once_flag g_libxml_once;

ExtractOutcome extract_html(std::string_view name, std::string text) {
  ExtractedText out;
  out.kind = DocumentKind::Html;
  if (text.empty()) {
    out.title = std::string(name);
    return out;
  }
  if (text.size() > static_cast<std::size_t>(INT_MAX)) return ExtractRefused{"HTML document too large to parse"};
  std::call_once(g_libxml_once, [] { xmlInitParser(); });
  const int options = HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET | HTML_PARSE_RECOVER;
  std::unique_ptr<xmlDoc, void (*)(xmlDocPtr)> doc(
      htmlReadMemory(text.data(), static_cast<int>(text.size()), nullptr, "UTF-8", options), xmlFreeDoc);
  if (!doc) return ExtractRefused{"HTML could not be parsed"};

  TextBuilder builder;
  std::string title, h1;
  int pre_depth = 0;
  auto tag_of = [](xmlNode* n) { return std::string_view(reinterpret_cast<const char*>(n->name)); };
  // Returns false when the node's subtree is to be skipped.
  auto enter = [&](xmlNode* n) -> bool {
    switch (n->type) {
      case XML_TEXT_NODE:
      case XML_CDATA_SECTION_NODE: {
        if (n->content == nullptr) return true;
        std::string_view s(reinterpret_cast<const char*>(n->content));
        if (pre_depth > 0)
          builder.verbatim(s);
        else
          builder.text(s);
        return true;
      }
      case XML_ELEMENT_NODE: {
        auto tag = tag_of(n);
        if (dropped_element(tag)) {
          if (tag == "title" && title.empty()) title = node_text(n);
          return false;
        }
        if (tag == "h1" && h1.empty()) h1 = node_text(n);
        builder.request(block_kind(tag));
        if (preformatted_element(tag)) ++pre_depth;
        return true;
      }
      case XML_DOCUMENT_NODE:
      case XML_HTML_DOCUMENT_NODE:
      case XML_ENTITY_REF_NODE:
        return true;
      default:
        return false;  // comments, processing instructions, DTDs
    }
  };
  auto leave = [&](xmlNode* n) {
    if (n->type != XML_ELEMENT_NODE) return;
    auto tag = tag_of(n);
    builder.request(block_kind(tag));
    if (preformatted_element(tag)) --pre_depth;
  };

  // Iterative walk: deep documents must not exhaust the stack.
  auto* doc_node = reinterpret_cast<xmlNode*>(doc.get());
  xmlNode* cur = doc->children;
  while (cur != nullptr) {
    const bool descend = enter(cur);
    if (descend && cur->type != XML_ENTITY_REF_NODE && cur->children != nullptr) {
      cur = cur->children;
      continue;
    }
    if (descend) leave(cur);
    while (cur != nullptr && cur->next == nullptr) {
      cur = cur->parent;
      if (cur == nullptr || cur == doc_node) {
        cur = nullptr;
        break;
      }
      leave(cur);
    }
    if (cur != nullptr) cur = cur->next;
  }

  out.text = builder.take();
  if (!title.empty())
    out.title = std::move(title);
  else if (!h1.empty())
    out.title = std::move(h1);
  else
    out.title = std::string(name);
  return out;
}

// ---- PDF ----

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

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

ExtractOutcome extract_pdf(std::string_view name, std::string_view content) {
  if (content.size() > static_cast<std::size_t>(INT_MAX)) return ExtractRefused{"PDF too large to parse"};
  // poppler reports recoverable damage on stderr; the outcome says what matters.
  std::call_once(g_poppler_once, [] { poppler::set_debug_error_function(quiet_poppler, nullptr); });
  std::unique_ptr<poppler::document> doc(
      poppler::document::load_from_raw_data(content.data(), static_cast<int>(content.size())));
  if (!doc) return ExtractRefused{"PDF could not be parsed"};
  if (doc->is_locked()) return ExtractRefused{"encrypted PDF (a password is required)"};

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
  }
  return "text";
}

bool is_supported_path(std::string_view path) { return classify(path).has_value(); }

ExtractOutcome extract(std::string_view path, std::string_view content, const ExtractOptions& options) {
  if (content.size() > options.max_bytes)
    return ExtractRefused{"larger than " + std::to_string(options.max_bytes) + " bytes"};
  auto cls = classify(path);
  if (!cls) return ExtractRefused{"unsupported file type"};
  const std::string_view name = file_name(path);
  if (cls->kind == DocumentKind::Pdf) return extract_pdf(name, content);

  if (std::memchr(content.data(), '\0', std::min(content.size(), kBinaryProbeBytes)) != nullptr)
    return ExtractRefused{"binary file (NUL bytes)"};
  if (auto bad = first_invalid_utf8(content); bad != std::string_view::npos)
    return ExtractRefused{"not valid UTF-8 (first invalid byte at offset " + std::to_string(bad) + ")"};
  if (content.starts_with("\xEF\xBB\xBF")) content.remove_prefix(3);  // byte order mark
  std::string text = normalize_newlines(content);

  if (cls->kind == DocumentKind::Html) return extract_html(name, std::move(text));

  ExtractedText out;
  out.kind = cls->kind;
  out.language = std::string(cls->language);
  if (cls->kind == DocumentKind::Markdown) out.title = markdown_title(text);
  if (out.title.empty()) out.title = std::string(name);
  out.text = std::move(text);
  return out;
}

}  // namespace mcpd::packs::knowledge
