// The HTML extractor: an iterative walk over libxml2's tree, so deep documents cannot exhaust the stack.
#include "packs/knowledge/extract/html_extractor.hpp"

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <array>
#include <climits>
#include <memory>
#include <mutex>

#include "packs/knowledge/extract/text_encoding.hpp"

namespace mcpd::packs::knowledge {

namespace {

using text::collapse_whitespace;
using text::is_space;

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
    // A character reference (&#13;) can put a CR into <pre>; the text promises LF line ends. Found by fuzzing.
    out_.append(text::normalize_newlines(s));
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

}  // namespace

core::Result<ExtractedText> extract_html(std::string_view name, std::string text) {
  ExtractedText out;
  out.kind = DocumentKind::Html;
  if (text.empty()) {
    out.title = std::string(name);
    return out;
  }
  if (text.size() > static_cast<std::size_t>(INT_MAX)) return core::Error::refused("HTML document too large to parse");
  std::call_once(g_libxml_once, [] { xmlInitParser(); });
  const int options = HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET | HTML_PARSE_RECOVER;
  std::unique_ptr<xmlDoc, void (*)(xmlDocPtr)> doc(
      htmlReadMemory(text.data(), static_cast<int>(text.size()), nullptr, "UTF-8", options), xmlFreeDoc);
  if (!doc) return core::Error::refused("HTML could not be parsed");

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

}  // namespace mcpd::packs::knowledge
