// The HTML extractor: text without scripts, blocks as line breaks, titles, malformed pages.
#include <gtest/gtest.h>

#include <string>

#include "extract_outcome.hpp"
#include "packs/knowledge/extract/extract.hpp"

using namespace mcpd::packs::knowledge;
using mcpd::test::ok;
using mcpd::test::refused;

TEST(Extract, HtmlTextWithoutScriptsAndWithBlocks) {
  const std::string html =
      "<!DOCTYPE html><html><head><title>  The   Page </title><style>p { color: red }</style>"
      "<script>var secret = 1;</script></head><body><!-- a comment -->"
      "<h1>Heading</h1><p>First   paragraph\n with <b>bold</b> and &amp; entity.</p>"
      "<noscript>enable JavaScript</noscript><p>Second</p><ul><li>one</li><li>two</li></ul>"
      "line one<br>line two<div>in a div</div><pre>  keep\n    this</pre><script>alert(1)</script>"
      "<table><tr><td>a</td><td>b</td></tr></table></body></html>";
  auto doc = ok("site/page.html", html);
  EXPECT_EQ(doc.kind, DocumentKind::Html);
  EXPECT_EQ(doc.title, "The Page");
  EXPECT_EQ(doc.text,
            "Heading\n\nFirst paragraph with bold and & entity.\n\nSecond\n\none\ntwo\n\nline one\nline two\n"
            "in a div\n\n  keep\n    this\n\na b");
  for (const char* gone : {"secret", "alert", "color", "JavaScript", "comment", "The Page"})
    EXPECT_EQ(doc.text.find(gone), std::string::npos) << gone;
}

TEST(Extract, HtmlTitleFallsBackToH1ThenFileName) {
  EXPECT_EQ(ok("a.htm", "<body><h2>Sub</h2><h1> Main\n title </h1><h1>Second</h1></body>").title, "Main title");
  EXPECT_EQ(ok("a.htm", "<title> </title><h1>Main</h1>").title, "Main");
  EXPECT_EQ(ok("docs/a.htm", "<p>no headings</p>").title, "a.htm");
  EXPECT_EQ(ok("docs/empty.html", "").text, "");
  EXPECT_EQ(ok("docs/empty.html", "").title, "empty.html");
}

TEST(Extract, HtmlIsReadAsUtf8WhateverItDeclares) {
  auto doc = ok("a.html", "<meta charset=\"iso-8859-1\"><p>caf\xC3\xA9 \xE2\x82\xAC</p>");
  EXPECT_EQ(doc.text, "caf\xC3\xA9 \xE2\x82\xAC");
}

TEST(Extract, HtmlMalformedIsRecovered) {
  auto doc = ok("a.html", "<p>open <b>bold <i>both</p><p>next &nosuch; &lt;tag&gt;");
  EXPECT_EQ(doc.text, "open bold both\n\nnext &nosuch; <tag>");
}

TEST(HtmlExtractor, ACarriageReturnFromACharacterReferenceInPreBecomesALineEnd) {
  // Found by fuzzing (tests/fuzz/regressions/extract): the text promises LF line ends.
  auto doc = ok("a.html", "<html><body><pre>a&#13;b&#13;&#10;c</pre></body></html>");
  EXPECT_EQ(doc.text.find('\r'), std::string::npos) << doc.text;
  EXPECT_NE(doc.text.find("a\nb\nc"), std::string::npos) << doc.text;
}
