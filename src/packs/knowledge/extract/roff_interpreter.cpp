// The roff interpreter behind man page extraction.
#include "packs/knowledge/extract/roff_interpreter.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "infra/text.hpp"
#include "packs/knowledge/extract/text_encoding.hpp"

namespace mcpd::packs::knowledge {

namespace {

using text::append_utf8;
using text::collapse_whitespace;
using text::is_space;

// One pass over the lines, no allocation per character: requests are interpreted as nroff would
// (conditions on 'n' hold, on 't' do not), escapes become the characters they print, layout-only
// requests are dropped, and .SH/.SS (.Sh/.Ss) become "# " / "## " headings so the page keeps its
// section structure. Text lines that Markdown would take for a heading or a fence are indented or
// escaped, so the only headings are the page's own.

struct Glyph {
  std::string_view name;
  std::string_view text;
};

// groff_char(7) names (two-character \(xx and bracketed \[xxx]) that man pages use.
constexpr std::array kGlyphs = std::to_array<Glyph>({
    {"em", "\xE2\x80\x94"}, {"en", "\xE2\x80\x93"}, {"hy", "-"},  {"mi", "-"},  {"-", "-"},   {"aq", "'"},
    {"dq", "\""},           {"lq", "\xE2\x80\x9C"}, {"rq", "\xE2\x80\x9D"},     {"oq", "\xE2\x80\x98"},
    {"cq", "\xE2\x80\x99"}, {"Bq", "\xE2\x80\x9E"}, {"bq", "\xE2\x80\x9A"},     {"Fo", "\xC2\xAB"},
    {"Fc", "\xC2\xBB"},     {"fo", "\xE2\x80\xB9"}, {"fc", "\xE2\x80\xBA"},     {"bu", "\xE2\x80\xA2"},
    {"ci", "\xE2\x97\x8B"}, {"sq", "\xE2\x96\xA1"}, {"co", "\xC2\xA9"},         {"rg", "\xC2\xAE"},
    {"tm", "\xE2\x84\xA2"}, {"de", "\xC2\xB0"},     {"%0", "\xE2\x80\xB0"},     {"fm", "\xE2\x80\xB2"},
    {"sd", "\xE2\x80\xB3"}, {"mc", "\xC2\xB5"},     {"sc", "\xC2\xA7"},         {"ps", "\xC2\xB6"},
    {"dg", "\xE2\x80\xA0"}, {"dd", "\xE2\x80\xA1"}, {"ct", "\xC2\xA2"},         {"Eu", "\xE2\x82\xAC"},
    {"eu", "\xE2\x82\xAC"}, {"Po", "\xC2\xA3"},     {"Ye", "\xC2\xA5"},         {"Cs", "\xC2\xA4"},
    {">=", "\xE2\x89\xA5"}, {"<=", "\xE2\x89\xA4"}, {"!=", "\xE2\x89\xA0"},     {"==", "\xE2\x89\xA1"},
    {"~=", "\xE2\x89\x85"}, {"~~", "\xE2\x89\x88"}, {"ap", "~"},  {"pl", "+"},  {"+-", "\xC2\xB1"},
    {"-+", "\xE2\x88\x93"}, {"mu", "\xC3\x97"},     {"di", "\xC3\xB7"},         {"eq", "="},
    {"->", "\xE2\x86\x92"}, {"<-", "\xE2\x86\x90"}, {"<>", "\xE2\x86\x94"},     {"ua", "\xE2\x86\x91"},
    {"da", "\xE2\x86\x93"}, {"rA", "\xE2\x87\x92"}, {"lA", "\xE2\x87\x90"},     {"hA", "\xE2\x87\x94"},
    {"ti", "~"},            {"ha", "^"},            {"rs", "\\"}, {"sl", "/"},  {"ba", "|"},   {"br", "|"},
    {"bv", "|"},            {"ul", "_"},            {"ru", "_"},  {"rn", "\xE2\x80\xBE"},      {"lB", "["},
    {"rB", "]"},            {"lC", "{"},            {"rC", "}"},  {"la", "<"},  {"ra", ">"},   {"at", "@"},
    {"sh", "#"},            {"Do", "$"},            {"OK", "\xE2\x9C\x93"},     {"ss", "\xC3\x9F"},
    {"AE", "\xC3\x86"},     {"ae", "\xC3\xA6"},     {"OE", "\xC5\x92"},         {"oe", "\xC5\x93"},
    {"/o", "\xC3\xB8"},     {"/O", "\xC3\x98"},     {"oa", "\xC3\xA5"},         {"oA", "\xC3\x85"},
    {"'a", "\xC3\xA1"},     {"'e", "\xC3\xA9"},     {"'i", "\xC3\xAD"},         {"'o", "\xC3\xB3"},
    {"'u", "\xC3\xBA"},     {"'A", "\xC3\x81"},     {"'E", "\xC3\x89"},         {"`a", "\xC3\xA0"},
    {"`e", "\xC3\xA8"},     {"`u", "\xC3\xB9"},     {":a", "\xC3\xA4"},         {":o", "\xC3\xB6"},
    {":u", "\xC3\xBC"},     {":A", "\xC3\x84"},     {":O", "\xC3\x96"},         {":U", "\xC3\x9C"},
    {"^a", "\xC3\xA2"},     {"^e", "\xC3\xAA"},     {"^o", "\xC3\xB4"},         {"~n", "\xC3\xB1"},
    {"~N", "\xC3\x91"},     {",c", "\xC3\xA7"},     {",C", "\xC3\x87"},         {"-D", "\xC3\x90"},
    {"Sd", "\xC3\xB0"},     {"TP", "\xC3\x9E"},     {"Tp", "\xC3\xBE"},         {"r!", "\xC2\xA1"},
    {"r?", "\xC2\xBF"},     {"ff", "ff"},           {"fi", "fi"}, {"fl", "fl"}, {"Fi", "ffi"}, {"Fl", "ffl"},
    {"*a", "\xCE\xB1"},     {"*b", "\xCE\xB2"},     {"*g", "\xCE\xB3"},         {"*d", "\xCE\xB4"},
    {"*e", "\xCE\xB5"},     {"*l", "\xCE\xBB"},     {"*m", "\xCE\xBC"},         {"*p", "\xCF\x80"},
    {"*s", "\xCF\x83"},     {"*t", "\xCF\x84"},     {"*W", "\xCE\xA9"},         {"*D", "\xCE\x94"},
    {"*S", "\xCE\xA3"},     {"*P", "\xCE\xA0"},     {"if", "\xE2\x88\x9E"},     {"fa", "\xE2\x88\x80"},
    {"te", "\xE2\x88\x83"}, {"mo", "\xE2\x88\x88"}, {"nm", "\xE2\x88\x89"},     {"sb", "\xE2\x8A\x82"},
    {"sp", "\xE2\x8A\x83"}, {"ca", "\xE2\x88\xA9"}, {"cu", "\xE2\x88\xAA"},     {"no", "\xC2\xAC"},
    {"AN", "\xE2\x88\xA7"}, {"OR", "\xE2\x88\xA8"}, {"sr", "\xE2\x88\x9A"},     {"is", "\xE2\x88\xAB"},
    {"pd", "\xE2\x88\x82"}, {"gr", "\xE2\x88\x87"}, {"es", "\xE2\x88\x85"},     {"12", "\xC2\xBD"},
    {"14", "\xC2\xBC"},     {"34", "\xC2\xBE"},     {"S1", "\xC2\xB9"},         {"S2", "\xC2\xB2"},
    {"S3", "\xC2\xB3"},     {"an", "-"},            {"ho", ""},   {"ga", "`"},  {"aa", "'"},   {"a\"", "\""},
    {"ah", ""},             {"ao", ""},             {"a-", ""},   {"a.", ""},   {"a^", "^"},   {"a~", "~"},
    {"sqrt", "\xE2\x88\x9A"}, {"nbsp", " "},
});

// Appends the text of special character `name`; false when it is unknown.
bool append_glyph(std::string& out, std::string_view name) {
  static const auto sorted = [] {
    auto a = kGlyphs;
    std::sort(a.begin(), a.end(), [](const Glyph& x, const Glyph& y) { return x.name < y.name; });
    return a;
  }();
  auto it = std::lower_bound(sorted.begin(), sorted.end(), name,
                             [](const Glyph& g, std::string_view n) { return g.name < n; });
  if (it != sorted.end() && it->name == name) {
    out.append(it->text);
    return true;
  }
  // \[u00E9], \[u0065_0301] (composed: each part in turn), \[char233]
  if (name.size() >= 5 && name[0] == 'u') {
    std::size_t i = 1;
    bool any = false;
    while (i < name.size()) {
      std::uint32_t cp = 0;
      std::size_t digits = 0;
      while (i < name.size() && std::isxdigit(static_cast<unsigned char>(name[i])) && digits < 6) {
        const char c = name[i++];
        cp = cp * 16 + static_cast<std::uint32_t>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
        ++digits;
      }
      if (digits < 4 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return any;
      append_utf8(out, cp);
      any = true;
      if (i < name.size() && name[i] == '_') ++i;
      else break;
    }
    return any;
  }
  if (name.size() > 4 && name.substr(0, 4) == "char") {
    unsigned v = 0;
    for (char c : name.substr(4)) {
      if (c < '0' || c > '9' || v > 255) return false;
      v = v * 10 + static_cast<unsigned>(c - '0');
    }
    if (v == 0 || v > 255) return false;
    append_utf8(out, v);
    return true;
  }
  return false;
}

// mdoc(7) macros that may appear inside a macro line (the rest of the line is parsed).
constexpr auto kMdocCallable = std::to_array<std::string_view>({
    "%A", "%B", "%C", "%D", "%I", "%J", "%N", "%O", "%P", "%Q", "%R", "%T", "%U", "%V", "Ac", "Ad", "An",
    "Ao", "Ap", "Aq", "Ar", "At", "Bc", "Bo", "Bq", "Brc", "Bro", "Brq", "Bsx", "Bx", "Cd", "Cm", "D1",
    "Dc", "Dl", "Do", "Dq", "Dv", "Dx", "Ec", "Em", "En", "Eo", "Er", "Es", "Ev", "Fa", "Fc", "Fl", "Fn",
    "Fo", "Fr", "Ft", "Fx", "Ic", "In", "It", "Li", "Lk", "Ms", "Mt", "Nd", "Nm", "No", "Ns", "Nx", "Oc",
    "Oo", "Op", "Ot", "Ox", "Pa", "Pc", "Pf", "Po", "Pq", "Qc", "Ql", "Qo", "Qq", "Sc", "So", "Sq", "St",
    "Sx", "Sy", "Ta", "Tn", "Ux", "Va", "Vt", "Xc", "Xo", "Xr",
});

static_assert(std::is_sorted(kMdocCallable.begin(), kMdocCallable.end()));

bool mdoc_callable(std::string_view name) {
  return name.size() >= 2 && name.size() <= 3 &&
         std::binary_search(kMdocCallable.begin(), kMdocCallable.end(), name);
}

inline bool is_blank_char(char c) { return c == ' ' || c == '\t'; }

std::string_view trim_blanks(std::string_view s) {
  while (!s.empty() && is_blank_char(s.front())) s.remove_prefix(1);
  while (!s.empty() && (is_blank_char(s.back()) || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

class ManConverter {
 public:
  // `name` is the file name ("ls.1"): its stem and extension back up .TH.
  explicit ManConverter(std::string_view name) : file_name_(name) {
    auto dot = name.rfind('.');
    stem_ = dot == std::string_view::npos ? name : name.substr(0, dot);
    section_ = dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
  }

  // False when the page is an alias: a .so request before any content.
  bool run(std::string_view text) {
    out_.reserve(text.size());
    expansion_budget_ = 1024 * 1024 + 2 * text.size();
    std::string joined;  // a logical line continued with a trailing backslash
    std::size_t pos = 0;
    while (pos < text.size()) {
      std::size_t eol = text.find('\n', pos);
      if (eol == std::string_view::npos) eol = text.size();
      std::string_view line = text.substr(pos, eol - pos);
      pos = eol + 1;
      if (continues(line) && !is_comment_line(line)) {
        joined.assign(line.substr(0, line.size() - 1));
        while (pos < text.size()) {
          eol = text.find('\n', pos);
          if (eol == std::string_view::npos) eol = text.size();
          std::string_view next = text.substr(pos, eol - pos);
          pos = eol + 1;
          if (!continues(next)) {
            joined.append(next);
            break;
          }
          joined.append(next.substr(0, next.size() - 1));
        }
        input_line(joined, 0);
      } else {
        input_line(line, 0);
      }
      if (alias_) return false;
    }
    end_line();
    return true;
  }

  std::string take_text() {
    while (!out_.empty() && out_.back() == '\n') out_.pop_back();
    if (!out_.empty()) out_ += '\n';
    return std::move(out_);
  }

  std::string title() const {
    if (th_name_.empty()) return std::string(file_name_);
    std::string name = th_name_;
    // ".TH LS 1" in ls.1: the file name has the real spelling.
    if (name.size() == stem_.size() &&
        std::equal(name.begin(), name.end(), stem_.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        }))
      name = std::string(stem_);
    else if (std::none_of(name.begin(), name.end(), [](char c) { return c >= 'a' && c <= 'z'; }))
      name = infra::ascii_lower(name);  // the convention: "PERL" is perl
    const std::string section = th_section_.empty() ? std::string(section_) : th_section_;
    if (section.empty()) return name;
    return name + "(" + section + ")";
  }

 private:
  struct Arg {
    std::string_view text;
    bool quoted;
  };

  static bool continues(std::string_view line) {
    std::size_t n = 0;
    while (n < line.size() && line[line.size() - 1 - n] == '\\') ++n;
    return n % 2 == 1;
  }

  static bool is_comment_line(std::string_view line) {
    return line.size() >= 2 && (line[0] == '.' || line[0] == '\'' || line[0] == '\\') &&
           ((line[0] == '\\' && (line[1] == '"' || line[1] == '#')) ||
            (line[1] == '\\' && line.size() >= 3 && (line[2] == '"' || line[2] == '#')));
  }

  // Cuts a \" or \# comment off the line.
  static std::string_view strip_comment(std::string_view line) {
    std::size_t i = 0;
    while (true) {
      const void* p = std::memchr(line.data() + i, '\\', line.size() - i);
      if (p == nullptr) return line;
      i = static_cast<std::size_t>(static_cast<const char*>(p) - line.data());
      if (i + 1 >= line.size()) return line;
      if (line[i + 1] == '"' || line[i + 1] == '#') return line.substr(0, i);
      i += 2;
    }
  }

  void input_line(std::string_view line, int depth) {
    if (depth > 8) return;
    if (!end_macro_.empty()) {  // inside .de/.ig/.EQ/...: up to the end request
      if (!line.empty() && (line[0] == '.' || line[0] == '\'')) {
        std::string_view rest = trim_blanks(line.substr(1));
        auto sp = rest.find_first_of(" \t");
        if (rest.substr(0, sp) == end_macro_) end_macro_.clear();
      }
      return;
    }
    if (skip_braces_ > 0) {  // inside the \{ ... \} of a condition that does not hold
      skip_braces_ += brace_balance(line);
      if (skip_braces_ < 0) skip_braces_ = 0;
      return;
    }
    line = strip_comment(line);
    if (!line.empty() && (line[0] == '.' || line[0] == '\'')) return request(line.substr(1), depth);
    if (table_ == Table::Format) return table_format(line);
    text_line(line);
  }

  static int brace_balance(std::string_view s) {
    int n = 0;
    for (std::size_t i = 0; i + 1 < s.size(); ++i) {
      if (s[i] != '\\') continue;
      if (s[i + 1] == '{') ++n;
      else if (s[i + 1] == '}') --n;
      ++i;
    }
    return n;
  }

  // ---- output ----

  void end_line() {
    if (joining_) {
      out_ += '\n';
      joining_ = false;
    }
  }

  void paragraph() {
    end_line();
    if (!out_.empty()) blank_ = true;
  }

  void put_line(std::string_view s) {
    if (!continued_)
      while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    if (joining_) {
      out_.append(s);
    } else {
      if (s.empty() && !continued_) {
        paragraph();  // a blank input line is vertical space
        return;
      }
      if (blank_) {
        if (!out_.empty() && !out_.ends_with("\n\n")) out_ += '\n';
        blank_ = false;
      }
      // Markdown must not read this line as a heading or a code fence.
      std::size_t k = 0;
      while (k < s.size() && s[k] == ' ') ++k;
      std::size_t hashes = 0;
      while (k + hashes < s.size() && s[k + hashes] == '#') ++hashes;
      if (k < 4 && hashes >= 1 && hashes <= 6 && (k + hashes == s.size() || is_blank_char(s[k + hashes]))) {
        out_.append(4 - k, ' ');  // indented: text, not an ATX heading
      } else if (k + 2 < s.size() && (s[k] == '`' || s[k] == '~') && s[k + 1] == s[k] && s[k + 2] == s[k]) {
        out_.append(s.substr(0, k));
        out_ += '\\';
        s.remove_prefix(k);
      }
      out_.append(s);
    }
    seen_content_ = true;
    joining_ = continued_;
    continued_ = false;
    if (!joining_) out_ += '\n';
  }

  void heading(int level, std::string_view raw) {
    std::string text = collapse_whitespace(raw);
    end_line();
    pending_heading_ = 0;
    seen_content_ = true;
    if (text.empty()) return;
    if (!out_.empty() && !out_.ends_with("\n\n")) out_ += '\n';
    out_.append(static_cast<std::size_t>(level), '#');
    out_ += ' ';
    out_ += text;
    out_ += '\n';
    blank_ = true;
  }

  // A finished text line: the pending .SH heading, or an output line.
  void emit(std::string_view s) {
    if (pending_heading_ > 0) {
      if (trim_blanks(s).empty()) return;
      heading(pending_heading_, s);
      continued_ = false;
      return;
    }
    put_line(s);
  }

  void text_line(std::string_view line) {
    if (table_ == Table::Data) {
      std::string_view t = trim_blanks(line);
      if (t == "_" || t == "=") return;  // horizontal rules
      buf_.clear();
      table_row(buf_, line);
      if (buf_.empty()) return;  // "T{" alone: the cell's text follows
      return emit(buf_);
    }
    buf_.clear();
    convert(buf_, line, 0);
    emit(buf_);
  }

  // ---- escapes ----

  // Index just past the delimited argument starting at s[i] (the delimiter), escapes skipped whole.
  std::size_t delimited_end(std::string_view s, std::size_t i, int depth) {
    if (i >= s.size()) return i;
    const char delim = s[i++];
    while (i < s.size()) {
      if (s[i] == delim) return i + 1;
      if (s[i] == '\\' && i + 1 < s.size()) i = depth < 16 ? escape(nullptr, s, i + 1, depth + 1) : i + 2;
      else ++i;
    }
    return i;
  }

  // Name of an escape's argument at s[i]: "(xx", "[name]" or one character. `end` is set past it.
  static std::string_view escape_name(std::string_view s, std::size_t i, std::size_t& end) {
    if (i >= s.size()) {
      end = i;
      return {};
    }
    if (s[i] == '(') {
      end = std::min(i + 3, s.size());
      return s.substr(i + 1, end - i - 1);
    }
    if (s[i] == '[') {
      auto close = s.find(']', i + 1);
      if (close == std::string_view::npos) close = s.size();
      end = std::min(close + 1, s.size());
      return s.substr(i + 1, close - i - 1);
    }
    end = i + 1;
    return s.substr(i, 1);
  }

  // The escape whose letter is at s[i] (just after the backslash): appends what it prints to
  // `out` (when given) and returns the index after it.
  std::size_t escape(std::string* out, std::string_view s, std::size_t i, int depth) {
    const char c = s[i];
    std::size_t end = i + 1;
    auto put = [&](std::string_view t) {
      if (out) out->append(t);
    };
    switch (c) {
      case '-': put("-"); return end;
      case 'e': case 'E': case '\\': put("\\"); return end;
      case '.': put("."); return end;
      case '\'': put("'"); return end;
      case '`': put("`"); return end;
      case '_': put("_"); return end;
      case ' ': case '~': case '0': put(" "); return end;
      case 't': put("\t"); return end;
      case '&': case ')': case '|': case '^': case '%': case ':': case '/': case ',': case '{': case '}':
      case 'a': case 'd': case 'u': case 'r': case 'p': case 'z':
        return end;
      case 'c':
        if (out) continued_ = true;
        return end;
      case '"': case '#':
        return s.size();  // comment (normally cut already)
      case '(': {
        std::string_view name = s.substr(i + 1, 2);
        end = std::min(i + 3, s.size());
        if (out) special(*out, name);
        return end;
      }
      case '[': {
        std::string_view name = escape_name(s, i, end);
        if (out) {
          // \[a b c]: a composite; take each name in turn
          std::size_t p = 0;
          while (p < name.size()) {
            auto sp = name.find(' ', p);
            if (sp == std::string_view::npos) sp = name.size();
            if (sp > p) special(*out, name.substr(p, sp - p));
            p = sp + 1;
          }
        }
        return end;
      }
      case 'C': {  // \C'name'
        end = delimited_end(s, end, depth);
        if (out && end >= i + 3) special(*out, s.substr(i + 2, end - i - 3));
        return end;
      }
      case 'N': {  // \N'65': a glyph by number (taken as a code point)
        end = delimited_end(s, end, depth);
        if (out && end >= i + 3) {
          unsigned v = 0;
          for (char d : s.substr(i + 2, end - i - 3))
            if (d >= '0' && d <= '9' && v < 0x110000) v = v * 10 + static_cast<unsigned>(d - '0');
          if (v >= 32 && v < 0x110000 && !(v >= 0xD800 && v <= 0xDFFF)) append_utf8(*out, v);
        }
        return end;
      }
      case '*': {  // strings
        std::string_view name;
        if (end < s.size() && s[end] == '[') {
          name = escape_name(s, end, end);
          name = name.substr(0, name.find(' '));  // \*[name args]
        } else {
          name = escape_name(s, end, end);
        }
        if (out) expand_string(*out, name, depth);
        return end;
      }
      case 'f': case 'F': case 'm': case 'M': case 'n': case 'g': case 'V': case 'Y': case '$': case 'k': {
        std::size_t at = end;
        if ((c == 'n') && at < s.size() && (s[at] == '+' || s[at] == '-')) ++at;  // \n+x
        escape_name(s, at, end);
        return end;
      }
      case 's': {  // \s+2 \s-1 \s0 \s(12 \s[12] \s'12' \s+(12
        std::size_t at = end;
        if (at < s.size() && (s[at] == '+' || s[at] == '-')) ++at;
        if (at >= s.size()) return at;
        if (s[at] == '(') return std::min(at + 3, s.size());
        if (s[at] == '[') {
          escape_name(s, at, end);
          return end;
        }
        if (s[at] == '\'') return delimited_end(s, at, depth);
        if (s[at] >= '0' && s[at] <= '9') {
          if (s[at] >= '1' && s[at] <= '3' && at + 1 < s.size() && s[at + 1] >= '0' && s[at + 1] <= '9')
            return at + 2;
          return at + 1;
        }
        return at;
      }
      case 'h': {  // horizontal motion: a forward move separates words
        end = delimited_end(s, end, depth);
        if (out && end >= i + 3) {
          std::string_view amount = s.substr(i + 2, end - i - 3);
          if (!amount.empty() && amount[0] != '-' && amount.find_first_of("123456789") != std::string_view::npos)
            out->push_back(' ');
        }
        return end;
      }
      case 'v': case 'w': case 'o': case 'l': case 'L': case 'D': case 'b': case 'x': case 'X': case 'Z':
      case 'A': case 'B': case 'R': case 'S': case 'H':
        return delimited_end(s, end, depth);
      case 'O': {
        if (end < s.size() && s[end] == '[') escape_name(s, end, end);
        else end = std::min(end + 1, s.size());
        return end;
      }
      default:
        // Unknown escapes print their character (as groff does); a UTF-8 character is kept whole.
        if (out) {
          std::size_t len = 1;
          const auto u = static_cast<unsigned char>(c);
          if (u >= 0xF0) len = 4;
          else if (u >= 0xE0) len = 3;
          else if (u >= 0xC0) len = 2;
          len = std::min(len, s.size() - i);
          out->append(s.substr(i, len));
          return i + len;
        }
        return end;
    }
  }

  void special(std::string& out, std::string_view name) {
    for (const auto& [from, to] : translations_)
      if (from == name) {
        out.append(to);
        return;
      }
    append_glyph(out, name);
  }

  void expand_string(std::string& out, std::string_view name, int depth) {
    for (const auto& [n, value] : strings_)
      if (n == name) {
        // Strings may refer to strings: bounded in depth and in total size, so that a hostile page
        // cannot make its text explode.
        if (depth < 8 && expansion_budget_ >= value.size() + 1) {
          expansion_budget_ -= value.size() + 1;
          convert(out, value, depth + 1);
        }
        return;
      }
    static constexpr std::array kStrings = std::to_array<Glyph>({
        {"lq", "\xE2\x80\x9C"}, {"rq", "\xE2\x80\x9D"}, {"R", "\xC2\xAE"},      {"Tm", "\xE2\x84\xA2"},
        {"Lq", "\xE2\x80\x9C"}, {"Rq", "\xE2\x80\x9D"}, {"Le", "\xE2\x89\xA4"}, {"Ge", "\xE2\x89\xA5"},
        {"Lt", "<"},            {"Gt", ">"},            {"Ne", "\xE2\x89\xA0"}, {"Pm", "\xC2\xB1"},
        {"If", "\xE2\x88\x9E"}, {"Pi", "\xCF\x80"},     {"Na", "NaN"},          {"Ba", "|"},
        {"q", "\""},            {"Aq", "'"},            {"C+", "C++"},          {"--", "-"},
    });
    for (const auto& g : kStrings)
      if (g.name == name) {
        out.append(g.text);
        return;
      }
  }

  // Appends the printed text of `s` (escapes interpreted).
  void convert(std::string& out, std::string_view s, int depth) {
    std::size_t i = 0;
    while (i < s.size()) {
      const void* p = std::memchr(s.data() + i, '\\', s.size() - i);
      if (p == nullptr) {
        out.append(s.substr(i));
        return;
      }
      const auto bs = static_cast<std::size_t>(static_cast<const char*>(p) - s.data());
      out.append(s.substr(i, bs - i));
      if (bs + 1 >= s.size()) return;  // a lone backslash at the end
      i = escape(&out, s, bs + 1, depth);
    }
  }

  // ---- requests ----

  // Splits macro arguments: blank-separated, "double quoted" (with "" for a quote) kept whole.
  void split_args(std::string_view s, std::vector<Arg>& args) {
    args.clear();
    std::size_t i = 0;
    while (i < s.size()) {
      while (i < s.size() && is_blank_char(s[i])) ++i;
      if (i >= s.size()) break;
      if (s[i] == '"') {
        std::size_t start = ++i;
        while (i < s.size()) {
          if (s[i] == '"') {
            if (i + 1 < s.size() && s[i + 1] == '"') {
              i += 2;
              continue;
            }
            break;
          }
          if (s[i] == '\\' && i + 1 < s.size()) ++i;
          ++i;
        }
        args.push_back({s.substr(start, std::min(i, s.size()) - start), true});
        if (i < s.size()) ++i;
      } else {
        std::size_t start = i;
        while (i < s.size() && !is_blank_char(s[i])) i += (s[i] == '\\' && i + 1 < s.size()) ? 2 : 1;
        args.push_back({s.substr(start, std::min(i, s.size()) - start), false});
      }
    }
  }

  void convert_arg(std::string& out, const Arg& a) {
    if (!a.quoted || a.text.find("\"\"") == std::string_view::npos) return convert(out, a.text, 0);
    std::string unq;
    for (std::size_t i = 0; i < a.text.size(); ++i) {
      unq += a.text[i];
      if (a.text[i] == '"' && i + 1 < a.text.size() && a.text[i + 1] == '"') ++i;
    }
    convert(out, unq, 0);
  }

  // .B/.I (words joined by spaces) and .BR/.IR/... (alternating fonts: joined without spaces).
  void font_macro(std::string_view rest, bool alternating) {
    split_args(rest, args_);
    if (args_.empty()) return;
    buf_.clear();
    for (std::size_t k = 0; k < args_.size(); ++k) {
      if (k > 0 && !alternating) buf_ += ' ';
      convert_arg(buf_, args_[k]);
    }
    emit(buf_);
  }

  std::string args_text(std::string_view rest) {
    split_args(rest, args_);
    std::string out;
    for (std::size_t k = 0; k < args_.size(); ++k) {
      if (k > 0) out += ' ';
      convert_arg(out, args_[k]);
    }
    return out;
  }

  void request(std::string_view line, int depth) {
    std::size_t i = 0;
    while (i < line.size() && is_blank_char(line[i])) ++i;
    std::size_t start = i;
    while (i < line.size() && !is_blank_char(line[i]) && line[i] != '\\') ++i;
    const std::string_view name = line.substr(start, i - start);
    while (i < line.size() && is_blank_char(line[i])) ++i;
    const std::string_view rest = line.substr(i);
    if (name.empty()) return;  // "." alone, ".\}"

    if (mdoc_ && (name.size() == 2 || name.size() == 3) && std::isupper(static_cast<unsigned char>(name[0])) &&
        std::islower(static_cast<unsigned char>(name[1])))
      if (mdoc_request(name, rest)) return;
    if (table_ == Table::Data) {
      if (name == "TE") {
        table_ = Table::None;
        return paragraph();
      }
      if (name == "T&") {
        table_ = Table::Format;
        return;
      }
    }

    switch (name.size()) {
      case 1:
        if (name == "B" || name == "I") return font_macro(rest, false);
        if (name == "P") return paragraph();
        break;
      case 2:
        if (name == "SH" || name == "SS") {
          const int level = name == "SH" ? 1 : 2;
          std::string text = args_text(rest);
          if (trim_blanks(text).empty()) {
            end_line();
            pending_heading_ = level;  // the heading is the next line
            return;
          }
          return heading(level, text);
        }
        if (name == "BR" || name == "IR" || name == "RB" || name == "RI" || name == "BI" || name == "IB")
          return font_macro(rest, true);
        if (name == "SM" || name == "SB") return font_macro(rest, false);
        if (name == "PP" || name == "LP" || name == "TP" || name == "HP" || name == "sp" || name == "bp" ||
            name == "YS") {
          if (name == "sp" && !rest.empty() && (rest[0] == '-' || rest[0] == '0')) return;
          return paragraph();
        }
        if (name == "br" || name == "TQ" || name == "nf" || name == "fi" || name == "EX" || name == "EE" ||
            name == "ce")
          return end_line();
        if (name == "IP") {
          paragraph();
          split_args(rest, args_);
          if (args_.empty()) return;
          buf_.clear();
          convert_arg(buf_, args_[0]);
          if (trim_blanks(buf_).empty()) return;
          if (buf_.size() <= 4 && pending_heading_ == 0) {  // "•", "1.", "(a)": the item's text follows it
            buf_ += ' ';
            continued_ = true;
          }
          return emit(buf_);
        }
        if (name == "TH") return title_request(rest);
        if (name == "so") {
          if (!seen_content_) alias_ = true;
          return;
        }
        if (name == "if" || name == "ie") return conditional(rest, name == "ie", false, depth);
        if (name == "el") return conditional(rest, false, true, depth);
        if (name == "de" || name == "am" || name == "ig") {
          split_args(rest, args_);
          const std::size_t end_arg = name == "ig" ? 0 : 1;
          end_macro_ = args_.size() > end_arg ? std::string(args_[end_arg].text) : std::string(".");
          return;
        }
        if (name == "ds" || name == "as") return define_string(rest, name == "as");
        if (name == "tr") return translate(rest);
        if (name == "TS") {
          end_line();
          table_ = Table::Format;
          table_tab_ = '\t';
          table_first_ = true;
          return;
        }
        if (name == "EQ") {
          end_macro_ = "EN";
          return;
        }
        if (name == "PS") {
          end_macro_ = "PE";
          return;
        }
        if (name == "SY") {
          paragraph();
          return font_macro(rest, false);
        }
        if (name == "OP") {
          std::string text = args_text(rest);
          buf_ = "[" + text + "]";
          return emit(buf_);
        }
        if (name == "UR" || name == "MT") {
          split_args(rest, args_);
          link_.clear();
          if (!args_.empty()) convert_arg(link_, args_[0]);
          return;
        }
        if (name == "UE" || name == "ME") {
          if (link_.empty()) return;
          buf_ = "<" + link_ + ">" + args_text(rest);
          link_.clear();
          return emit(buf_);
        }
        if (name == "Dd" || name == "Dt") {  // an mdoc(7) page
          mdoc_ = true;
          mdoc_request(name, rest);
          return;
        }
        break;
      case 3:
        if (name == "nop") return text_line(rest);
        if (name == "de1" || name == "dei" || name == "am1" || name == "ami") {
          split_args(rest, args_);
          end_macro_ = args_.size() > 1 ? std::string(args_[1].text) : std::string(".");
          return;
        }
        if (name == "ds1" || name == "as1") return define_string(rest, name == "as1");
        break;
      default:
        if (name == "while") {  // never looped: skip its block
          auto b = brace_balance(rest);
          if (b > 0) skip_braces_ = b;
        }
        break;
    }
    // Anything else only changes the layout (or is a macro this page defines): dropped.
  }

  void title_request(std::string_view rest) {
    split_args(rest, args_);
    if (!args_.empty()) {
      th_name_.clear();
      convert_arg(th_name_, args_[0]);
      th_name_ = collapse_whitespace(th_name_);
    }
    if (args_.size() > 1) {
      th_section_.clear();
      convert_arg(th_section_, args_[1]);
      th_section_ = collapse_whitespace(th_section_);
    }
    seen_content_ = true;
  }

  void define_string(std::string_view rest, bool append) {
    std::size_t i = 0;
    while (i < rest.size() && !is_blank_char(rest[i])) ++i;
    std::string name(rest.substr(0, i));
    while (i < rest.size() && is_blank_char(rest[i])) ++i;
    std::string_view raw = rest.substr(i);
    if (!raw.empty() && raw[0] == '"') raw.remove_prefix(1);
    std::string value;
    for (std::size_t k = 0; k < raw.size(); ++k) {  // copy mode: "\\" is one backslash
      value += raw[k];
      if (raw[k] == '\\' && k + 1 < raw.size() && raw[k + 1] == '\\') ++k;
    }
    if (name.empty() || strings_.size() >= 256) return;
    for (auto& [n, v] : strings_)
      if (n == name) {
        v = append ? v + value : value;
        return;
      }
    strings_.emplace_back(std::move(name), std::move(value));
  }

  // .tr abcd: a->b, c->d; only special characters are translated (pod2man maps \(*W to '-').
  void translate(std::string_view rest) {
    std::vector<std::string> items;
    std::size_t i = 0;
    while (i < rest.size() && !is_blank_char(rest[i])) {
      if (rest[i] == '\\' && i + 1 < rest.size()) {
        std::size_t end;
        if (rest[i + 1] == '(' || rest[i + 1] == '[') {
          std::string_view n = escape_name(rest, i + 1, end);
          items.push_back("\\" + std::string(n));
          i = end;
          continue;
        }
        items.push_back(std::string(rest.substr(i, 2)));
        i += 2;
      } else {
        items.push_back(std::string(1, rest[i]));
        ++i;
      }
    }
    for (std::size_t k = 0; k + 1 < items.size(); k += 2)
      if (items[k].size() > 1 && items[k][0] == '\\' && items[k + 1].size() == 1 && translations_.size() < 32)
        translations_.emplace_back(items[k].substr(1), items[k + 1]);
  }

  // .if COND REST, .ie COND REST, .el REST. nroff's view: 'n' holds, 't' does not; numeric and
  // string conditions are taken as false unless trivially true.
  void conditional(std::string_view s, bool is_ie, bool is_el, int depth) {
    bool taken = false;
    std::size_t i = 0;
    if (is_el) {
      if (!else_stack_.empty()) {
        taken = else_stack_.back();
        else_stack_.pop_back();
      }
    } else {
      bool negate = false;
      while (i < s.size() && is_blank_char(s[i])) ++i;
      if (i < s.size() && s[i] == '!') {
        negate = true;
        ++i;
      }
      auto blank_at = [&](std::size_t k) { return k >= s.size() || is_blank_char(s[k]); };
      if (i < s.size() && std::strchr("ntvoe", s[i]) != nullptr && blank_at(i + 1)) {
        taken = s[i] == 'n';
        ++i;
      } else if (i < s.size() && std::strchr("drcmFS", s[i]) != nullptr && blank_at(i + 1)) {
        const char kind = s[i++];
        while (i < s.size() && is_blank_char(s[i])) ++i;
        std::size_t start = i;
        while (i < s.size() && !is_blank_char(s[i])) ++i;
        if (kind == 'd') {
          std::string_view n = s.substr(start, i - start);
          for (const auto& [name, v] : strings_)
            if (name == n) taken = true;
        }
      } else if (i < s.size() && (s[i] == '\'' || s[i] == '"' || s[i] == '|' || s[i] == '/')) {
        // 'a'b': compares the two strings as written
        const char d = s[i];
        std::size_t a = i + 1, mid = s.find(d, a);
        std::size_t b = mid == std::string_view::npos ? s.size() : mid + 1;
        std::size_t e = b < s.size() ? s.find(d, b) : std::string_view::npos;
        if (e == std::string_view::npos) e = s.size();
        if (mid != std::string_view::npos) taken = s.substr(a, mid - a) == s.substr(b, e - b);
        i = std::min(e + 1, s.size());
      } else {
        // Numeric expression: up to a blank outside parentheses.
        std::size_t start = i;
        int parens = 0;
        while (i < s.size() && (parens > 0 || !is_blank_char(s[i]))) {
          if (s[i] == '\\' && i + 1 < s.size()) {
            if (s[i + 1] == '{') break;
            i = escape(nullptr, s, i + 1, depth + 1);
            continue;
          }
          if (s[i] == '(') ++parens;
          else if (s[i] == ')') --parens;
          ++i;
        }
        std::string_view expr = s.substr(start, i - start);
        if (!expr.empty() && std::all_of(expr.begin(), expr.end(), [](char c) { return c >= '0' && c <= '9'; }))
          taken = std::any_of(expr.begin(), expr.end(), [](char c) { return c != '0'; });
      }
      taken = taken != negate;
      if (is_ie) {
        if (else_stack_.size() < 64) else_stack_.push_back(!taken);
      }
    }
    while (i < s.size() && is_blank_char(s[i])) ++i;
    std::string_view body = s.substr(i);
    if (body.size() >= 2 && body[0] == '\\' && body[1] == '{') {
      body.remove_prefix(2);
      if (!taken) {
        skip_braces_ = 1 + brace_balance(body);
        if (skip_braces_ < 0) skip_braces_ = 0;
        return;
      }
      while (!body.empty() && is_blank_char(body[0])) body.remove_prefix(1);
    }
    if (taken && !body.empty()) input_line(body, depth + 1);
  }

  // ---- tables (tbl) ----

  void table_format(std::string_view line) {
    std::string_view t = trim_blanks(line);
    if (table_first_) {
      table_first_ = false;
      if (t.ends_with(";")) {  // the options line
        auto tab = t.find("tab(");
        if (tab != std::string_view::npos && tab + 4 < t.size()) table_tab_ = t[tab + 4];
        return;
      }
    }
    if (t.ends_with(".")) table_ = Table::Data;
  }

  void table_row(std::string& out, std::string_view line) {
    std::size_t start = 0;
    bool first = true;
    while (start <= line.size()) {
      std::size_t end = line.find(table_tab_, start);
      if (end == std::string_view::npos) end = line.size();
      std::string_view cell = trim_blanks(line.substr(start, end - start));
      if (cell.starts_with("T{")) cell = trim_blanks(cell.substr(2));
      if (cell.starts_with("T}")) cell = trim_blanks(cell.substr(2));
      if (cell.ends_with("T{")) cell = trim_blanks(cell.substr(0, cell.size() - 2));
      if (!cell.empty() && cell != "_" && cell != "=" && cell != "\\^") {
        if (!first) out += "  ";
        convert(out, cell, 0);
        first = false;
      }
      if (end == line.size()) break;
      start = end + 1;
    }
  }

  // ---- mdoc(7) ----

  // True when handled.
  bool mdoc_request(std::string_view name, std::string_view rest) {
    if (name == "Dd" || name == "Os" || name == "Bl" || name == "El" || name == "Bd" || name == "Ed" ||
        name == "Bk" || name == "Ek" || name == "Rs" || name == "Re" || name == "Bf" ||
        name == "Ef" || name == "Ud" || name == "Lb" || name == "Ex" || name == "Rv") {
      if (name == "Bd" || name == "Ed" || name == "Bl" || name == "El") paragraph();
      return true;
    }
    if (name == "Dt") {
      split_args(rest, args_);
      if (!args_.empty()) {
        th_name_.clear();
        convert_arg(th_name_, args_[0]);
      }
      if (args_.size() > 1) {
        th_section_.clear();
        convert_arg(th_section_, args_[1]);
      }
      seen_content_ = true;
      return true;
    }
    if (name == "Sh" || name == "Ss") {
      heading(name == "Sh" ? 1 : 2, args_text(rest));
      return true;
    }
    if (name == "Pp" || name == "Lp") {
      paragraph();
      return true;
    }
    if (name == "Sm") {  // spacing mode: "off" joins the words of a line
      split_args(rest, args_);
      spacing_ = args_.empty() ? !spacing_ : args_[0].text != "off";
      return true;
    }
    if (name == "It") paragraph();
    if (!mdoc_callable(name)) return false;
    split_args(rest, args_);
    mdoc_words_.clear();
    mdoc_words_.push_back({name, false});
    mdoc_words_.insert(mdoc_words_.end(), args_.begin(), args_.end());
    buf_.clear();
    if (name == "Nd") buf_ = "\xE2\x80\x94 ";  // "— description"
    mdoc_parse(buf_, name == "Nd" ? 1 : 0);
    if (name == "Nm" && mdoc_name_.empty() && args_.size() == 1) mdoc_name_ = std::string(args_[0].text);
    emit(buf_);
    return true;
  }

  // Renders the words of a parsed mdoc line: macro names set the spacing and decoration.
  void mdoc_parse(std::string& out, std::size_t from) {
    std::vector<std::string_view> closers;
    bool no_space = true;
    enum class Next { Plain, Flag, XrName, XrSection } next = Next::Plain;
    auto word = [&](std::string_view w, bool quoted) {
      const bool closing = !quoted && w.size() == 1 && std::strchr(".,:;)]?!", w[0]) != nullptr;
      const bool opening = !quoted && w.size() == 1 && (w[0] == '(' || w[0] == '[');
      if (next == Next::XrSection) {
        out += '(';
        convert(out, w, 0);
        out += ')';
        next = Next::Plain;
        return;
      }
      if (spacing_ && !no_space && !closing && !out.empty() && out.back() != ' ') out += ' ';
      if (next == Next::Flag && !closing) out += '-';
      convert(out, w, 0);
      no_space = opening;
      next = next == Next::XrName ? Next::XrSection : Next::Plain;
    };
    auto open = [&](std::string_view o, std::string_view c) {
      if (!no_space && !out.empty() && out.back() != ' ') out += ' ';
      out += o;
      no_space = true;
      closers.push_back(c);
    };
    auto close = [&](std::string_view c) {
      out += c;
      no_space = false;
    };
    // Trailing punctuation goes after the enclosures the line opened: ".Op Ar port ." is "[port]."
    auto punctuation = [](const Arg& a) {
      return !a.quoted && a.text.size() == 1 && std::strchr(".,:;)]?!", a.text[0]) != nullptr;
    };
    std::size_t trail = mdoc_words_.size();
    while (trail > from + 1 && punctuation(mdoc_words_[trail - 1])) --trail;
    for (std::size_t k = from; k < mdoc_words_.size(); ++k) {
      if (k == trail) {
        for (auto it = closers.rbegin(); it != closers.rend(); ++it) out += *it;
        closers.clear();
      }
      const auto& [w, quoted] = mdoc_words_[k];
      if (quoted || !mdoc_callable(w)) {
        word(w, quoted);
        continue;
      }
      if (next == Next::Flag) {  // "Fl" followed by a macro: a lone dash
        if (!no_space && !out.empty() && out.back() != ' ') out += ' ';
        out += '-';
        no_space = false;
      }
      next = Next::Plain;
      const bool last = k + 1 == mdoc_words_.size() ||
                        (!mdoc_words_[k + 1].quoted && mdoc_callable(mdoc_words_[k + 1].text));
      if (w == "Fl") {
        next = Next::Flag;
        if (last) {
          if (!no_space && !out.empty() && out.back() != ' ') out += ' ';
          out += '-';
          no_space = false;
          next = Next::Plain;
        }
      } else if (w == "Xr") next = Next::XrName;
      else if (w == "Ns" || w == "Ap") {
        if (w == "Ap") out += '\'';
        no_space = true;
      } else if (w == "Pf") {
        if (k + 1 < mdoc_words_.size()) {
          word(mdoc_words_[++k].text, true);
          no_space = true;
        }
      } else if (w == "Nm" && last) {
        if (!mdoc_name_.empty()) word(mdoc_name_, true);
      } else if (w == "Op") open("[", "]");
      else if (w == "Oo") open("[", "");
      else if (w == "Oc") close("]");
      else if (w == "Dq") open("\xE2\x80\x9C", "\xE2\x80\x9D");
      else if (w == "Do") open("\xE2\x80\x9C", "");
      else if (w == "Dc") close("\xE2\x80\x9D");
      else if (w == "Sq" || w == "Ql") open("\xE2\x80\x98", "\xE2\x80\x99");
      else if (w == "So") open("\xE2\x80\x98", "");
      else if (w == "Sc") close("\xE2\x80\x99");
      else if (w == "Qq") open("\"", "\"");
      else if (w == "Qo") open("\"", "");
      else if (w == "Qc") close("\"");
      else if (w == "Pq") open("(", ")");
      else if (w == "Po") open("(", "");
      else if (w == "Pc") close(")");
      else if (w == "Bq") open("[", "]");
      else if (w == "Bo") open("[", "");
      else if (w == "Bc") close("]");
      else if (w == "Brq") open("{", "}");
      else if (w == "Bro") open("{", "");
      else if (w == "Brc") close("}");
      else if (w == "Aq") open("<", ">");
      else if (w == "Ao") open("<", "");
      else if (w == "Ac") close(">");
      else if (w == "Ux") word("UNIX", true);
      else if (w == "Bx") word("BSD", true);
      else if (w == "Ox") word("OpenBSD", true);
      else if (w == "Nx") word("NetBSD", true);
      else if (w == "Fx") word("FreeBSD", true);
      else if (w == "Dx") word("DragonFly", true);
      else if (w == "Bsx") word("BSD/OS", true);
      // Others (Ar, Pa, Cm, Em, Sy, Li, Ev, ...) only set a font: their words follow as they are.
    }
    for (auto it = closers.rbegin(); it != closers.rend(); ++it) out += *it;
  }

  enum class Table { None, Format, Data };

  std::string_view file_name_, stem_, section_;
  std::string out_, buf_, link_;
  std::string th_name_, th_section_;
  std::string end_macro_;  // while skipping a macro definition or a preprocessor block
  std::string mdoc_name_;
  std::vector<Arg> args_, mdoc_words_;
  std::vector<std::pair<std::string, std::string>> strings_;       // .ds
  std::vector<std::pair<std::string, std::string>> translations_;  // .tr of special characters
  std::vector<bool> else_stack_;
  std::size_t expansion_budget_ = 0;  // bytes that string expansion may still add
  int skip_braces_ = 0;
  int pending_heading_ = 0;
  bool seen_content_ = false, alias_ = false, mdoc_ = false, spacing_ = true;
  bool blank_ = false;      // a paragraph break is due before the next line
  bool joining_ = false;    // the last line ended in \c: the next text continues it
  bool continued_ = false;  // the line being converted contains \c
  Table table_ = Table::None;
  char table_tab_ = '\t';
  bool table_first_ = false;
};

}  // namespace

std::optional<RoffPage> interpret_roff(std::string_view file_name, std::string_view text) {
  ManConverter page(file_name);
  if (!page.run(text)) return std::nullopt;
  // An escape or a delimiter can take one byte of a multi-byte character (\f<byte>, \H'…'); what is
  // left of it is not UTF-8. Found by fuzzing; the index only holds valid UTF-8.
  RoffPage out;
  out.title = text::repair_utf8(page.title());
  out.text = text::repair_utf8(page.take_text());
  return out;
}

}  // namespace mcpd::packs::knowledge
