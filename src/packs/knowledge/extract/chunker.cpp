// Structure-aware chunking in one linear pass over the lines.
//
// The text is cut into units: paragraphs (runs of non-blank lines), fenced code blocks and, for
// Markdown, ATX heading lines, which also open a new section. Consecutive units of one section are
// merged while small; a unit larger than max_chars is split at blank lines, line ends, whitespace
// or (last resort) code point boundaries, each piece repeating up to overlap_chars of the previous
// piece's tail. Every chunk's text is a trimmed substring of the document text, so its line range
// is exact.
#include "packs/knowledge/extract/chunker.hpp"

#include "packs/knowledge/extract/markdown_syntax.hpp"

#include <openssl/sha.h>

#include <algorithm>
#include <cstring>
#include <string_view>

namespace mcpd::packs::knowledge {

namespace {

constexpr std::size_t npos = std::string_view::npos;

inline bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
inline bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

bool is_blank(std::string_view line) {
  for (char c : line)
    if (!is_ws(c)) return false;
  return true;
}

void hex_sha256(const std::string& data, std::string& out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  out.resize(2 * SHA256_DIGEST_LENGTH);
  for (std::size_t i = 0; i < SHA256_DIGEST_LENGTH; ++i) {
    out[2 * i] = kDigits[digest[i] >> 4];
    out[2 * i + 1] = kDigits[digest[i] & 0xF];
  }
}

class Chunker {
 public:
  Chunker(const ExtractedText& doc, const ChunkOptions& o)
      : text_(doc.text), markdown_(doc.kind == DocumentKind::Markdown) {
    max_ = std::max<std::size_t>(o.max_chars, 4);  // a code point always fits
    min_ = std::min(o.min_chars, max_);
    overlap_ = std::min(o.overlap_chars, max_ / 2);
  }

  std::vector<Chunk> run() {
    const char* base = text_.data();
    const std::size_t n = text_.size();
    std::size_t para_begin = npos, para_end = 0;
    bool in_fence = false;
    char fence_ch = 0;
    std::size_t fence_len = 0, fence_begin = 0;

    auto end_paragraph = [&] {
      if (para_begin != npos) unit(para_begin, para_end);
      para_begin = npos;
    };

    std::size_t pos = 0;
    while (pos < n) {
      const void* nl = std::memchr(base + pos, '\n', n - pos);
      const std::size_t eol = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - base) : n;
      const std::string_view line(base + pos, eol - pos);
      const std::size_t next = nl ? eol + 1 : n;

      if (markdown_) {
        char ch;
        std::size_t len;
        std::string_view info;
        if (in_fence) {
          if (markdown::parse_fence(line, ch, len, info) && ch == fence_ch && len >= fence_len && is_blank(info)) {
            in_fence = false;
            unit(fence_begin, eol);
          }
          pos = next;
          continue;
        }
        // Cheap first-character test before the real parsers.
        std::size_t k = 0;
        while (k < line.size() && (line[k] == ' ' || line[k] == '\t')) ++k;
        const char first = k < line.size() ? line[k] : '\0';
        int level;
        std::string_view heading;
        if (first == '\0' || is_ws(first)) {
          end_paragraph();
        } else if (first == '#' && markdown::parse_atx_heading(line, level, heading)) {
          end_paragraph();
          heading_unit(pos, eol, level, heading);
        } else if ((first == '`' || first == '~') && markdown::parse_fence(line, ch, len, info) &&
                   !(ch == '`' && info.find('`') != std::string_view::npos)) {
          end_paragraph();
          in_fence = true;
          fence_ch = ch;
          fence_len = len;
          fence_begin = pos;
        } else {
          if (para_begin == npos) para_begin = pos;
          para_end = eol;
        }
      } else if (is_blank(line)) {
        end_paragraph();
      } else {
        if (para_begin == npos) para_begin = pos;
        para_end = eol;
      }
      pos = next;
    }
    end_paragraph();
    if (in_fence) unit(fence_begin, n);  // an unclosed fence runs to the end
    flush();
    return std::move(out_);
  }

 private:
  // ---- sections and merging ----

  void heading_unit(std::size_t b, std::size_t e, int level, std::string_view heading) {
    // A heading with no content of its own is carried into the next section's first chunk.
    if (acc_begin_ != npos && (!acc_heading_only_ || e - acc_begin_ > max_)) flush();
    while (!stack_.empty() && stack_.back().first >= level) stack_.pop_back();
    stack_.emplace_back(level, std::string(heading));
    path_.clear();
    for (const auto& [lvl, t] : stack_) {
      if (t.empty()) continue;
      if (!path_.empty()) path_ += " > ";
      path_ += t;
    }
    if (acc_begin_ == npos) {
      if (e - b > max_) {
        split(b, e);
        return;
      }
      acc_begin_ = b;
    }
    acc_end_ = e;
    acc_heading_only_ = true;
  }

  void unit(std::size_t b, std::size_t e) {
    const std::size_t size = e - b;
    if (acc_begin_ == npos) {
      if (size > max_) {
        split(b, e);
      } else {
        acc_begin_ = b;
        acc_end_ = e;
        acc_heading_only_ = false;
      }
      return;
    }
    if (acc_heading_only_) {
      if (e - acc_begin_ <= max_) {
        acc_end_ = e;
        acc_heading_only_ = false;
      } else if (size > max_) {
        const std::size_t start = acc_begin_;  // the headings go with the first piece
        acc_begin_ = npos;
        split(start, e);
      } else {
        flush();
        acc_begin_ = b;
        acc_end_ = e;
        acc_heading_only_ = false;
      }
      return;
    }
    if (size > max_) {
      flush();
      split(b, e);
      return;
    }
    const std::size_t acc_size = acc_end_ - acc_begin_;
    if ((acc_size < min_ || size < min_) && e - acc_begin_ <= max_) {
      acc_end_ = e;
      return;
    }
    flush();
    acc_begin_ = b;
    acc_end_ = e;
    acc_heading_only_ = false;
  }

  void flush() {
    if (acc_begin_ == npos) return;
    emit(acc_begin_, acc_end_);
    acc_begin_ = npos;
    acc_heading_only_ = false;
  }

  // ---- splitting one oversized unit ----

  void split(std::size_t b, std::size_t e) {
    std::size_t piece = b;  // where the piece starts (overlap included)
    std::size_t fresh = b;  // where its new content starts
    while (true) {
      if (e - piece <= max_) {
        emit(piece, e);
        return;
      }
      const std::size_t cut = find_cut(piece, fresh, piece + max_);
      emit(piece, cut);
      std::size_t next = cut;
      while (next < e && is_ws(text_[next])) ++next;
      if (next >= e) return;
      const std::size_t overlap = overlap_start(piece, cut);
      piece = (overlap != npos && next - overlap <= max_ / 2) ? overlap : next;
      fresh = next;
    }
  }

  // End (exclusive) of a piece that starts at `piece`, with new content from `fresh`, and may not
  // pass `limit` (< end of unit). Preference: blank line, line end, whitespace in the second half
  // of the window; then line end, whitespace anywhere; then the last code point boundary.
  std::size_t find_cut(std::size_t piece, std::size_t fresh, std::size_t limit) const {
    const std::size_t half = std::max(fresh + 1, piece + max_ / 2);
    std::size_t line_hi = npos, space_hi = npos, line_lo = npos, space_lo = npos;
    bool segment_blank = false;  // is the text between q and the next '\n' above it blank?
    for (std::size_t q = limit; q > fresh; --q) {
      const char c = text_[q];
      if (c == '\n') {
        if (q >= half) {
          if (segment_blank) return q;  // the line after q is blank: a paragraph boundary
          if (line_hi == npos) line_hi = q;
        } else if (line_lo == npos) {
          line_lo = q;
          if (line_hi != npos) break;
        }
        segment_blank = true;
      } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
        if (q >= half) {
          if (space_hi == npos) space_hi = q;
        } else if (space_lo == npos) {
          space_lo = q;
        }
      } else {
        segment_blank = false;
      }
      if (q < half && line_hi != npos) break;  // nothing below can beat it
    }
    if (line_hi != npos) return line_hi;
    if (space_hi != npos) return space_hi;
    if (line_lo != npos) return line_lo;
    if (space_lo != npos) return space_lo;
    std::size_t cut = limit;
    while (cut > fresh && is_continuation(text_[cut])) --cut;
    if (cut <= fresh) {  // only when max_chars is below one code point
      cut = fresh + 1;
      while (cut < text_.size() && is_continuation(text_[cut])) ++cut;
    }
    return cut;
  }

  // Start of the overlap taken from the tail of [piece, cut): the earliest line start within the
  // last overlap_chars, else the earliest word start; npos when neither exists.
  std::size_t overlap_start(std::size_t piece, std::size_t cut) const {
    if (overlap_ == 0) return npos;
    const std::size_t lo = std::max(piece + 1, cut > overlap_ ? cut - overlap_ : 0);
    for (std::size_t q = lo; q < cut; ++q)
      if (text_[q - 1] == '\n' && !is_ws(text_[q])) return q;
    for (std::size_t q = lo; q < cut; ++q)
      if (is_ws(text_[q - 1]) && !is_ws(text_[q])) return q;
    return npos;
  }

  // ---- output ----

  int line_at(std::size_t offset) {
    if (offset >= cursor_off_) {
      cursor_line_ += static_cast<int>(std::count(text_.data() + cursor_off_, text_.data() + offset, '\n'));
    } else {
      cursor_line_ -= static_cast<int>(std::count(text_.data() + offset, text_.data() + cursor_off_, '\n'));
    }
    cursor_off_ = offset;
    return cursor_line_;
  }

  void emit(std::size_t b, std::size_t e) {
    while (b < e && is_ws(text_[b])) ++b;
    while (e > b && is_ws(text_[e - 1])) --e;
    if (b == e) return;
    Chunk c;
    c.line_start = line_at(b);
    c.line_end = line_at(e - 1);
    c.text.assign(text_.data() + b, e - b);
    c.heading = path_;
    scratch_.assign(path_);
    scratch_ += '\n';
    scratch_.append(c.text);
    hex_sha256(scratch_, c.hash);
    out_.push_back(std::move(c));
  }

  std::string_view text_;
  bool markdown_;
  std::size_t max_, min_, overlap_;

  std::vector<std::pair<int, std::string>> stack_;  // open headings: level, text
  std::string path_;

  std::size_t acc_begin_ = npos, acc_end_ = 0;  // pending chunk, within the current section
  bool acc_heading_only_ = false;

  std::size_t cursor_off_ = 0;
  int cursor_line_ = 1;
  std::string scratch_;
  std::vector<Chunk> out_;
};

}  // namespace

std::vector<Chunk> chunk(const ExtractedText& document, const ChunkOptions& options) {
  return Chunker(document, options).run();
}

}  // namespace mcpd::packs::knowledge
