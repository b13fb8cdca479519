// Chunking: headings, fences, merging, splitting with overlap, UTF-8 safety, exact line ranges.
#include "packs/knowledge/extract/chunker.hpp"

#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

using namespace mcpd::packs::knowledge;

namespace {

ExtractedText doc_of(DocumentKind kind, std::string text) {
  ExtractedText d;
  d.kind = kind;
  d.text = std::move(text);
  return d;
}

std::string sha256_hex(const std::string& s) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), digest);
  std::string out;
  char buf[3];
  for (unsigned char b : digest) {
    std::snprintf(buf, sizeof buf, "%02x", b);
    out += buf;
  }
  return out;
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += len;
  }
  return true;
}

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::vector<std::size_t> line_offsets(const std::string& text) {
  std::vector<std::size_t> starts{0};
  for (std::size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n') starts.push_back(i + 1);
  return starts;
}

// Where each chunk sits in the document (byte offset), checked against its line range. Text can
// repeat, so each chunk is placed at its latest occurrence on line_start that leaves no gap after
// the chunks before it: if any placement covers the document, this one does.
std::vector<std::size_t> check_invariants(const ExtractedText& doc, const std::vector<Chunk>& chunks,
                                          const ChunkOptions& options) {
  const auto& text = doc.text;
  const auto starts = line_offsets(text);
  std::vector<std::size_t> positions;
  std::size_t reach = 0;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    const auto& c = chunks[i];
    SCOPED_TRACE("chunk " + std::to_string(i) + ": " + c.text.substr(0, 60));
    positions.push_back(0);
    EXPECT_FALSE(c.text.empty());
    if (c.text.empty()) continue;
    EXPECT_FALSE(is_ws(c.text.front()));
    EXPECT_FALSE(is_ws(c.text.back()));
    EXPECT_LE(c.text.size(), options.max_chars);
    EXPECT_TRUE(valid_utf8(c.text));
    EXPECT_EQ(c.hash, sha256_hex(c.heading + "\n" + c.text));
    EXPECT_GE(c.line_start, 1);
    EXPECT_LE(c.line_start, c.line_end);
    EXPECT_LE(static_cast<std::size_t>(c.line_end), starts.size());
    if (c.line_start < 1 || c.line_end < c.line_start || static_cast<std::size_t>(c.line_end) > starts.size()) continue;
    auto next_line = [&](int line) {
      return static_cast<std::size_t>(line) < starts.size() ? starts[line] : text.size() + 1;
    };
    // The text starts on line_start ...
    std::size_t bound = reach;
    while (bound < text.size() && is_ws(text[bound])) ++bound;
    const std::size_t line_begin = starts[c.line_start - 1];
    const std::size_t pos = text.rfind(c.text, std::min(bound, next_line(c.line_start) - 1));
    EXPECT_TRUE(pos != std::string::npos && pos >= line_begin)
        << "text not on line " << c.line_start << " or a gap before it";
    if (pos == std::string::npos || pos < line_begin) continue;
    // ... and ends on line_end.
    const std::size_t last = pos + c.text.size() - 1;
    EXPECT_TRUE(last >= starts[c.line_end - 1] && last < next_line(c.line_end))
        << "text does not end on line " << c.line_end;
    positions.back() = pos;
    reach = std::max(reach, pos + c.text.size());
  }
  return positions;
}

// Every non-whitespace byte of the document is in some chunk.
void check_coverage(const ExtractedText& doc, const std::vector<Chunk>& chunks, const std::vector<std::size_t>& pos) {
  ASSERT_EQ(pos.size(), chunks.size());
  std::vector<bool> covered(doc.text.size(), false);
  for (std::size_t i = 0; i < chunks.size(); ++i)
    std::fill(covered.begin() + pos[i], covered.begin() + pos[i] + chunks[i].text.size(), true);
  for (std::size_t i = 0; i < doc.text.size(); ++i)
    if (!is_ws(doc.text[i]) && !covered[i]) {
      ADD_FAILURE() << "byte " << i << " not covered: ..." << doc.text.substr(i, 40);
      return;
    }
}

std::vector<Chunk> chunk_checked(const ExtractedText& doc, const ChunkOptions& options = {}) {
  auto chunks = chunk(doc, options);
  auto pos = check_invariants(doc, chunks, options);
  check_coverage(doc, chunks, pos);
  return chunks;
}

std::string words(std::size_t n, const std::string& prefix) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += (i ? " " : "") + prefix + std::to_string(i);
  return s;
}

}  // namespace

TEST(Chunker, EmptyAndBlankDocumentsHaveNoChunks) {
  EXPECT_TRUE(chunk(doc_of(DocumentKind::Markdown, "")).empty());
  EXPECT_TRUE(chunk(doc_of(DocumentKind::Text, " \n\n\t\n")).empty());
}

TEST(Chunker, MarkdownHeadingPathsAndLineRanges) {
  const std::string text =
      "Preamble line.\n"       // 1
      "\n"                     // 2
      "# Guide\n"              // 3
      "\n"                     // 4
      "Intro text.\n"          // 5
      "\n"                     // 6
      "## Install\n"           // 7
      "Run make.\n"            // 8
      "\n"                     // 9
      "### From source ###\n"  // 10
      "\n"                     // 11
      "Clone it.\n"            // 12
      "\n"                     // 13
      "## Use\n"               // 14
      "\n"                     // 15
      "Call it.\n"             // 16
      "# Appendix\n"           // 17
      "Bye.\n";                // 18
  auto chunks = chunk_checked(doc_of(DocumentKind::Markdown, text));
  ASSERT_EQ(chunks.size(), 6u);
  struct Want {
    std::string heading, text;
    int start, end;
  };
  const std::vector<Want> want = {
      {"", "Preamble line.", 1, 1},
      {"Guide", "# Guide\n\nIntro text.", 3, 5},
      {"Guide > Install", "## Install\nRun make.", 7, 8},
      {"Guide > Install > From source", "### From source ###\n\nClone it.", 10, 12},
      {"Guide > Use", "## Use\n\nCall it.", 14, 16},
      {"Appendix", "# Appendix\nBye.", 17, 18},
  };
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(chunks[i].heading, want[i].heading) << i;
    EXPECT_EQ(chunks[i].text, want[i].text) << i;
    EXPECT_EQ(chunks[i].line_start, want[i].start) << i;
    EXPECT_EQ(chunks[i].line_end, want[i].end) << i;
  }
}

TEST(Chunker, EmptySectionHeadingJoinsTheNextSection) {
  auto chunks = chunk_checked(doc_of(DocumentKind::Markdown, "# Title\n\n## Intro\n\nHello.\n"));
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].heading, "Title > Intro");
  EXPECT_EQ(chunks[0].text, "# Title\n\n## Intro\n\nHello.");
  EXPECT_EQ(chunks[0].line_start, 1);
  EXPECT_EQ(chunks[0].line_end, 5);
}

TEST(Chunker, HeadingLevelsPopCorrectly) {
  auto chunks = chunk_checked(doc_of(DocumentKind::Markdown, "## B\nb\n# A\na\n### C\nc\n## D\nd\n"));
  ASSERT_EQ(chunks.size(), 4u);
  EXPECT_EQ(chunks[0].heading, "B");
  EXPECT_EQ(chunks[1].heading, "A");
  EXPECT_EQ(chunks[2].heading, "A > C");
  EXPECT_EQ(chunks[3].heading, "A > D");
}

TEST(Chunker, HashesDependOnHeadingAndText) {
  auto a = chunk(doc_of(DocumentKind::Markdown, "# One\nsame\n"));
  auto b = chunk(doc_of(DocumentKind::Text, "same\n"));
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  // SHA-256 of heading + "\n" + text, lowercase hex.
  EXPECT_EQ(b[0].hash, "c559330fab65f66726e28096f6c3f663b14a14ff64cbef6542249d228a30393a");
  EXPECT_EQ(a[0].hash, "ad8a59dae042de97ee5718e13ff35587d5d56722cb299cebb80a4469a4fa9162");
  EXPECT_EQ(a[0].hash.size(), 64u);
  EXPECT_NE(a[0].hash, b[0].hash);
}

TEST(Chunker, HeadingsOnlyInMarkdown) {
  for (auto kind : {DocumentKind::Text, DocumentKind::Code, DocumentKind::Html, DocumentKind::Pdf}) {
    auto chunks = chunk_checked(doc_of(kind, "# Not a heading\ntext\n\n## Neither\nmore\n"));
    for (const auto& c : chunks) EXPECT_EQ(c.heading, "");
  }
}

TEST(Chunker, FencedCodeIsKeptWholeAndHidesHeadings) {
  std::string fence = "```bash\n# install dependencies\napt-get install foo\n\n# build it\n";
  for (int i = 0; i < 20; ++i) fence += "make target" + std::to_string(i) + "\n";
  fence += "\n~~~ not a closer\n```";
  ASSERT_LT(fence.size(), 400u);
  const std::string text = "# Build\n\n" + words(40, "intro") + "\n\n" + fence + "\n\n" + words(40, "after") + "\n";
  ChunkOptions options{.max_chars = 400, .min_chars = 50, .overlap_chars = 50};
  auto chunks = chunk_checked(doc_of(DocumentKind::Markdown, text), options);
  bool whole = false;
  for (const auto& c : chunks) {
    EXPECT_EQ(c.heading, "Build");
    if (c.text.find(fence) != std::string::npos) whole = true;
    // No chunk holds a part of the fence without all of it.
    if (c.text.find("make target") != std::string::npos) {
      EXPECT_NE(c.text.find(fence), std::string::npos);
    }
  }
  EXPECT_TRUE(whole);
}

TEST(Chunker, OversizedFenceIsSplitAtLineEnds) {
  std::string fence = "```\n";
  for (int i = 0; i < 100; ++i) fence += "    statement_number_" + std::to_string(i) + "();\n";
  fence += "```";
  const std::string text = "# Code\n\n" + fence + "\n";
  ChunkOptions options{.max_chars = 300, .min_chars = 100, .overlap_chars = 60};
  auto chunks = chunk_checked(doc_of(DocumentKind::Markdown, text), options);
  ASSERT_GT(chunks.size(), 5u);
  for (const auto& c : chunks) {
    EXPECT_EQ(c.heading, "Code");
    // Every piece ends at the end of a line.
    const auto pos = text.find(c.text);
    ASSERT_NE(pos, std::string::npos);
    const auto end = pos + c.text.size();
    EXPECT_TRUE(end == text.size() || text[end] == '\n') << c.text;
  }
  EXPECT_EQ(chunks[0].text.substr(0, 12), "# Code\n\n```\n");  // the heading goes with the first piece
}

TEST(Chunker, SmallParagraphsMergeWithinASectionOnly) {
  std::string text = "# One\n\n";
  for (int i = 0; i < 30; ++i) text += "Short paragraph " + std::to_string(i) + ".\n\n";
  text += "# Two\n\ntiny\n";
  ChunkOptions options{.max_chars = 500, .min_chars = 100, .overlap_chars = 50};
  auto chunks = chunk_checked(doc_of(DocumentKind::Markdown, text), options);
  ASSERT_GE(chunks.size(), 3u);
  EXPECT_LT(chunks.size(), 12u);
  for (std::size_t i = 0; i + 1 < chunks.size(); ++i) {
    EXPECT_EQ(chunks[i].heading, "One");
    if (i + 2 < chunks.size()) {
      EXPECT_GE(chunks[i].text.size(), options.min_chars) << i;
    }
  }
  EXPECT_EQ(chunks.back().heading, "Two");
  EXPECT_EQ(chunks.back().text, "# Two\n\ntiny");
}

TEST(Chunker, MergeRule) {
  // Units that are both at least min_chars stay apart; a small one joins its neighbour if it fits.
  const std::string a = words(25, "alpha"), b = words(25, "beta");
  ChunkOptions options{.max_chars = 500, .min_chars = 100, .overlap_chars = 50};
  ASSERT_GE(a.size(), 100u);
  auto apart = chunk_checked(doc_of(DocumentKind::Text, a + "\n\n" + b + "\n"), options);
  ASSERT_EQ(apart.size(), 2u);
  EXPECT_EQ(apart[0].text, a);
  EXPECT_EQ(apart[1].text, b);
  EXPECT_EQ(apart[1].line_start, 3);
  auto joined = chunk_checked(doc_of(DocumentKind::Text, a + "\n\ntail\n"), options);
  ASSERT_EQ(joined.size(), 1u);
  EXPECT_EQ(joined[0].text, a + "\n\ntail");
  // ... but never beyond max_chars.
  auto full = chunk_checked(doc_of(DocumentKind::Text, a + "\n\ntail\n"),
                            {.max_chars = a.size() + 3, .min_chars = 100, .overlap_chars = 0});
  ASSERT_EQ(full.size(), 2u);
  EXPECT_EQ(full[1].text, "tail");
}

TEST(Chunker, LargeParagraphIsSplitAtLinesWithOverlap) {
  std::string text;
  for (int i = 0; i < 60; ++i) text += "Line " + std::to_string(i) + " of a long paragraph with words.\n";
  ChunkOptions options{.max_chars = 400, .min_chars = 100, .overlap_chars = 90};
  auto chunks = chunk_checked(doc_of(DocumentKind::Text, text), options);
  ASSERT_GT(chunks.size(), 6u);
  for (std::size_t i = 0; i + 1 < chunks.size(); ++i) {
    const auto& a = chunks[i];
    const auto& b = chunks[i + 1];
    // b starts with a's last line(s): same line range overlap, same text.
    EXPECT_LE(b.line_start, a.line_end);
    EXPECT_GT(b.line_start, a.line_start);
    const auto first_line = b.text.substr(0, b.text.find('\n'));
    EXPECT_NE(a.text.find(first_line), std::string::npos);
    const std::size_t repeated = a.text.size() - a.text.find(first_line);
    EXPECT_LE(repeated, options.overlap_chars);
    EXPECT_GT(repeated, 0u);
    // Pieces end at line ends.
    EXPECT_EQ(text[text.find(a.text) + a.text.size()], '\n');
  }
}

TEST(Chunker, NoOverlapWhenZero) {
  std::string text;
  for (int i = 0; i < 60; ++i) text += "Line " + std::to_string(i) + " of a long paragraph.\n";
  auto chunks = chunk_checked(doc_of(DocumentKind::Text, text), {.max_chars = 300, .min_chars = 0, .overlap_chars = 0});
  for (std::size_t i = 0; i + 1 < chunks.size(); ++i) EXPECT_EQ(chunks[i].line_end + 1, chunks[i + 1].line_start);
  std::string joined;
  for (const auto& c : chunks) joined += c.text + "\n";
  EXPECT_EQ(joined, text);
}

TEST(Chunker, LongLineIsSplitAtWhitespace) {
  const std::string text = words(500, "word") + "\n";
  ChunkOptions options{.max_chars = 200, .min_chars = 50, .overlap_chars = 40};
  auto chunks = chunk_checked(doc_of(DocumentKind::Text, text), options);
  ASSERT_GT(chunks.size(), 10u);
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    const auto& c = chunks[i];
    EXPECT_EQ(c.line_start, 1);
    EXPECT_EQ(c.line_end, 1);
    const auto pos = text.find(c.text);
    EXPECT_TRUE(pos == 0 || text[pos - 1] == ' ') << "starts mid-word: " << c.text;
    const auto end = pos + c.text.size();
    EXPECT_TRUE(text[end] == ' ' || text[end] == '\n') << "ends mid-word: " << c.text;
    if (i > 0) {  // overlap: starts with a word the previous chunk ended with
      const auto first_word = c.text.substr(0, c.text.find(' '));
      EXPECT_NE(chunks[i - 1].text.find(" " + first_word + " "), std::string::npos);
    }
  }
}

TEST(Chunker, HardSplitNeverCutsUtf8) {
  std::string text;
  for (int i = 0; i < 3000; ++i) text += (i % 3 == 0) ? "\xC3\xA9" : (i % 3 == 1) ? "\xE2\x82\xAC" : "\xF0\x9D\x84\x9E";
  for (std::size_t max : {4u, 5u, 7u, 101u, 1600u}) {
    ChunkOptions options{.max_chars = max, .min_chars = 0, .overlap_chars = 30};
    auto chunks = chunk_checked(doc_of(DocumentKind::Text, text), options);
    std::string joined;
    for (const auto& c : chunks) joined += c.text;  // no whitespace: no overlap possible
    EXPECT_EQ(joined, text) << max;
  }
}

TEST(Chunker, CodePrefersBlankLines) {
  std::string text;
  for (int f = 0; f < 12; ++f) {
    text += "int function_" + std::to_string(f) + "(int x) {\n";
    for (int l = 0; l < 4; ++l) text += "  x += " + std::to_string(l) + ";\n";
    text += "  return x;\n}\n\n";
  }
  ChunkOptions options{.max_chars = 300, .min_chars = 100, .overlap_chars = 50};
  auto chunks = chunk_checked(doc_of(DocumentKind::Code, text), options);
  ASSERT_GT(chunks.size(), 2u);
  for (const auto& c : chunks) {
    EXPECT_EQ(c.text.rfind("int function_", 0), 0u) << c.text;
    EXPECT_EQ(c.text.back(), '}');
  }
}

TEST(Chunker, OversizedCodeBlockSplitsAtInnerBlankLines) {
  // One unit (no blank line at top level) can still contain blank lines inside a fence.
  std::string body;
  for (int f = 0; f < 10; ++f) body += "def f" + std::to_string(f) + "():\n    return " + std::to_string(f) + "\n\n";
  const std::string text = "```python\n" + body + "```\n";
  ChunkOptions options{.max_chars = 120, .min_chars = 0, .overlap_chars = 0};
  auto chunks = chunk_checked(doc_of(DocumentKind::Markdown, text), options);
  for (std::size_t i = 1; i < chunks.size(); ++i) EXPECT_EQ(chunks[i].text.rfind("def f", 0), 0u) << chunks[i].text;
}

TEST(Chunker, UnclosedFenceRunsToTheEnd) {
  auto chunks = chunk_checked(doc_of(DocumentKind::Markdown, "# A\ntext\n\n```\n# comment\n\nmore\n"));
  for (const auto& c : chunks) EXPECT_EQ(c.heading, "A");
}

TEST(Chunker, InlineTripleBackticksDoNotOpenAFence) {
  auto chunks = chunk_checked(doc_of(DocumentKind::Markdown, "# A\nuse ```x``` here\n```code``` too\n\n# B\nb\n"));
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[1].heading, "B");
}

TEST(Chunker, Deterministic) {
  std::string text;
  for (int i = 0; i < 200; ++i)
    text += (i % 17 == 0 ? "## Part " + std::to_string(i) + "\n" : words(i % 23, "w") + "\n\n");
  auto a = chunk(doc_of(DocumentKind::Markdown, text), {.max_chars = 256, .min_chars = 64, .overlap_chars = 32});
  auto b = chunk(doc_of(DocumentKind::Markdown, text), {.max_chars = 256, .min_chars = 64, .overlap_chars = 32});
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].text, b[i].text);
    EXPECT_EQ(a[i].hash, b[i].hash);
    EXPECT_EQ(a[i].line_start, b[i].line_start);
  }
}

TEST(Chunker, RandomDocumentsKeepAllInvariants) {
  std::mt19937 rng(12345);
  const std::vector<std::string> pieces = {"# Title\n",
                                           "## Section\n",
                                           "### Deep ###\n",
                                           "#\n",
                                           "####### seven\n",
                                           "\n",
                                           "\n\n",
                                           "   \n",
                                           "plain words here ",
                                           "more text\n",
                                           "a\xC3\xA9\xE2\x82\xAC\xF0\x9D\x84\x9E\n",
                                           "```\n",
                                           "~~~~ info\n",
                                           "    indented\n",
                                           "\t\ttabs\n",
                                           std::string(300, 'x') + "\n",
                                           words(60, "long") + "\n",
                                           "- item\n",
                                           "> quote\n"};
  for (int round = 0; round < 150; ++round) {
    std::string text;
    const int n = std::uniform_int_distribution<int>(0, 80)(rng);
    for (int i = 0; i < n; ++i) text += pieces[std::uniform_int_distribution<std::size_t>(0, pieces.size() - 1)(rng)];
    const std::size_t max = std::uniform_int_distribution<std::size_t>(4, 700)(rng);
    ChunkOptions options{.max_chars = max,
                         .min_chars = std::uniform_int_distribution<std::size_t>(0, 300)(rng),
                         .overlap_chars = std::uniform_int_distribution<std::size_t>(0, 300)(rng)};
    for (auto kind : {DocumentKind::Markdown, DocumentKind::Text}) {
      SCOPED_TRACE("round " + std::to_string(round) + " max " + std::to_string(max));
      chunk_checked(doc_of(kind, text), options);
      if (HasFailure()) return;
    }
  }
}
