// Text extraction: kinds, titles, refusals, HTML text and real PDFs (built here, parsed by poppler).
#include "packs/knowledge/extract.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

using namespace mcpd::packs::knowledge;

namespace {

ExtractedText ok(std::string_view path, std::string_view content, const ExtractOptions& options = {}) {
  auto outcome = extract(path, content, options);
  if (auto* refused = std::get_if<ExtractRefused>(&outcome)) {
    ADD_FAILURE() << path << " refused: " << refused->reason;
    return {};
  }
  return std::get<ExtractedText>(outcome);
}

std::string refused(std::string_view path, std::string_view content, const ExtractOptions& options = {}) {
  auto outcome = extract(path, content, options);
  if (auto* r = std::get_if<ExtractRefused>(&outcome)) return r->reason;
  ADD_FAILURE() << path << " was not refused";
  return {};
}

// A small but well-formed PDF: one Helvetica text line per entry of each page, exact xref offsets.
std::string make_pdf(const std::vector<std::vector<std::string>>& pages, const std::string& title,
                     bool encrypted = false) {
  std::vector<std::string> objects;  // object i+1
  const int page_count = static_cast<int>(pages.size());
  const int first_page = 4;  // 1 catalog, 2 pages, 3 font, then page/content pairs
  std::string kids;
  for (int i = 0; i < page_count; ++i) kids += std::to_string(first_page + 2 * i) + " 0 R ";
  objects.push_back("<< /Type /Catalog /Pages 2 0 R >>");
  objects.push_back("<< /Type /Pages /Kids [" + kids + "] /Count " + std::to_string(page_count) + " >>");
  objects.push_back("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>");
  for (int i = 0; i < page_count; ++i) {
    std::string stream = "BT /F1 12 Tf 72 720 Td 14 TL\n";
    for (const auto& line : pages[i]) stream += "(" + line + ") Tj T*\n";
    stream += "ET\n";
    objects.push_back(
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
        "/Contents " +
        std::to_string(first_page + 2 * i + 1) + " 0 R >>");
    objects.push_back("<< /Length " + std::to_string(stream.size()) + " >>\nstream\n" + stream + "endstream");
  }
  int info = 0, encrypt = 0;
  if (!title.empty()) {
    objects.push_back("<< /Title (" + title + ") /Producer (mcpd tests) >>");
    info = static_cast<int>(objects.size());
  }
  if (encrypted) {
    // Standard security handler with a user password we do not know: poppler cannot open it.
    const std::string o(64, 'A'), u(64, 'B');
    objects.push_back("<< /Filter /Standard /V 1 /R 2 /O <" + o + "> /U <" + u + "> /P -44 >>");
    encrypt = static_cast<int>(objects.size());
  }
  std::string pdf = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n";  // the usual binary marker: not UTF-8
  std::vector<std::size_t> offsets;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    offsets.push_back(pdf.size());
    pdf += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
  }
  const std::size_t xref = pdf.size();
  pdf += "xref\n0 " + std::to_string(objects.size() + 1) + "\n0000000000 65535 f \n";
  for (auto off : offsets) {
    char row[32];
    std::snprintf(row, sizeof row, "%010zu 00000 n \n", off);
    pdf += row;
  }
  pdf += "trailer\n<< /Size " + std::to_string(objects.size() + 1) + " /Root 1 0 R";
  if (info) pdf += " /Info " + std::to_string(info) + " 0 R";
  if (encrypt)
    pdf += " /Encrypt " + std::to_string(encrypt) +
           " 0 R /ID [<0123456789abcdef0123456789abcdef> <0123456789abcdef0123456789abcdef>]";
  pdf += " >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
  return pdf;
}

}  // namespace

TEST(Extract, KindNames) {
  EXPECT_EQ(to_string(DocumentKind::Markdown), "markdown");
  EXPECT_EQ(to_string(DocumentKind::Text), "text");
  EXPECT_EQ(to_string(DocumentKind::Code), "code");
  EXPECT_EQ(to_string(DocumentKind::Html), "html");
  EXPECT_EQ(to_string(DocumentKind::Pdf), "pdf");
}

TEST(Extract, SupportedPaths) {
  for (const char* p : {"README.md",
                        "docs/guide.markdown",
                        "a/b/page.mdx",
                        "notes.txt",
                        "index.rst",
                        "manual.adoc",
                        "README",
                        "LICENSE",
                        "pkg/COPYING",
                        "src/main.cpp",
                        "x.c",
                        "x.cc",
                        "x.h",
                        "x.hpp",
                        "x.py",
                        "x.js",
                        "x.ts",
                        "x.go",
                        "x.rs",
                        "x.java",
                        "x.rb",
                        "x.sh",
                        "x.toml",
                        "x.yaml",
                        "x.yml",
                        "x.json",
                        "x.sql",
                        "x.cmake",
                        "CMakeLists.txt",
                        "sub/Makefile",
                        "site/index.html",
                        "old.htm",
                        "paper.pdf",
                        "UPPER.MD",
                        "Paper.PDF"})
    EXPECT_TRUE(is_supported_path(p)) << p;
  for (const char* p :
       {"logo.png", "archive.tar.gz", "lib.so", "a.out.o", ".env", "dir/.gitignore", "trailing.", "dir/", ""})
    EXPECT_FALSE(is_supported_path(p)) << p;
}

TEST(Extract, MarkdownTitleIsFirstAtxHeadingOutsideFences) {
  auto doc = ok("docs/guide.md",
                "Some preamble.\n\n```sh\n# not a heading: a shell comment\n```\n\n#hashtag is not one either\n\n"
                "## Getting  started ##\n\ntext\n\n# Later\n");
  EXPECT_EQ(doc.kind, DocumentKind::Markdown);
  EXPECT_EQ(doc.title, "Getting started");
  EXPECT_TRUE(doc.language.empty());
  EXPECT_EQ(doc.text.substr(0, 15), "Some preamble.\n");  // lines kept as they are
}

TEST(Extract, MarkdownWithoutHeadingIsTitledByFileName) {
  EXPECT_EQ(ok("a/b/notes.markdown", "just text\n").title, "notes.markdown");
  EXPECT_EQ(ok("page.mdx", "").title, "page.mdx");
  EXPECT_EQ(ok("page.mdx", "").kind, DocumentKind::Markdown);
}

TEST(Extract, TextKinds) {
  for (const char* p : {"README", "LICENSE", "notes.txt", "index.rst", "manual.adoc"}) {
    auto doc = ok(p, "Hello\n");
    EXPECT_EQ(doc.kind, DocumentKind::Text) << p;
    EXPECT_EQ(doc.title, p);
    EXPECT_EQ(doc.text, "Hello\n");
    EXPECT_TRUE(doc.language.empty());
  }
  EXPECT_EQ(ok("dir/sub/README", "# Not a title in plain text\n").title, "README");
}

TEST(Extract, CodeKindsCarryTheLanguage) {
  const std::vector<std::pair<const char*, const char*>> cases = {{"src/main.cpp", "cpp"},
                                                                  {"a.cc", "cpp"},
                                                                  {"a.hpp", "cpp"},
                                                                  {"a.c", "c"},
                                                                  {"a.h", "c"},
                                                                  {"tool.py", "python"},
                                                                  {"app.js", "javascript"},
                                                                  {"app.ts", "typescript"},
                                                                  {"main.go", "go"},
                                                                  {"lib.rs", "rust"},
                                                                  {"A.java", "java"},
                                                                  {"x.rb", "ruby"},
                                                                  {"run.sh", "shell"},
                                                                  {"Cargo.toml", "toml"},
                                                                  {"ci.yml", "yaml"},
                                                                  {"k.yaml", "yaml"},
                                                                  {"package.json", "json"},
                                                                  {"q.sql", "sql"},
                                                                  {"x.cmake", "cmake"},
                                                                  {"CMakeLists.txt", "cmake"},
                                                                  {"sub/CMakeLists.txt", "cmake"},
                                                                  {"Makefile", "make"}};
  for (const auto& [path, language] : cases) {
    auto doc = ok(path, "int x;\n\n\tindented  line  \n");
    EXPECT_EQ(doc.kind, DocumentKind::Code) << path;
    EXPECT_EQ(doc.language, language) << path;
    EXPECT_EQ(doc.text, "int x;\n\n\tindented  line  \n") << path;  // lines kept as they are
    EXPECT_EQ(doc.title, std::string(path).substr(std::string(path).rfind('/') + 1));
  }
}

TEST(Extract, LineEndsAreNormalized) {
  EXPECT_EQ(ok("a.txt", "one\r\ntwo\rthree\n\r\nfour").text, "one\ntwo\nthree\n\nfour");
  EXPECT_EQ(ok("a.md", "# T\r\n\r\nx\r\n").text, "# T\n\nx\n");
  EXPECT_EQ(ok("a.md", "# T\r\n\r\nx\r\n").title, "T");
}

TEST(Extract, ByteOrderMarkIsDropped) {
  auto doc = ok("a.md", "\xEF\xBB\xBF# Title\n");
  EXPECT_EQ(doc.text, "# Title\n");
  EXPECT_EQ(doc.title, "Title");
}

TEST(Extract, OversizedIsRefusedBeforeParsing) {
  EXPECT_EQ(refused("a.txt", std::string(11, 'x'), {.max_bytes = 10}), "larger than 10 bytes");
  EXPECT_EQ(ok("a.txt", std::string(10, 'x'), {.max_bytes = 10}).text, std::string(10, 'x'));
  // Neither the binary check nor the PDF parser runs first.
  EXPECT_EQ(refused("a.txt", std::string(20, '\0'), {.max_bytes = 10}), "larger than 10 bytes");
  EXPECT_EQ(refused("a.pdf", "not a pdf at all", {.max_bytes = 10}), "larger than 10 bytes");
  EXPECT_EQ(refused("a.txt", std::string(10 * 1024 * 1024 + 1, 'x')), "larger than 10485760 bytes");
}

TEST(Extract, BinaryIsRefused) {
  EXPECT_EQ(refused("a.txt", std::string("abc\0def", 7)), "binary file (NUL bytes)");
  EXPECT_EQ(refused("README", std::string("\x7F"
                                          "ELF\x02\x01\x01\0\0\0",
                                          10)),
            "binary file (NUL bytes)");
  // UTF-16 text has NULs too.
  EXPECT_EQ(refused("a.md", std::string("\xFF\xFE#\0 \0T\0", 8)), "binary file (NUL bytes)");
  // Only the first 8 KiB are probed.
  std::string late(9000, 'a');
  late[8500] = '\0';
  EXPECT_EQ(ok("a.txt", late).text.size(), 9000u);
}

TEST(Extract, InvalidUtf8IsRefusedNotRepaired) {
  EXPECT_EQ(refused("a.txt", "ab\xC3\x28"), "not valid UTF-8 (first invalid byte at offset 2)");
  EXPECT_EQ(refused("a.md", "caf\xE9\n"), "not valid UTF-8 (first invalid byte at offset 3)");          // Latin-1
  EXPECT_EQ(refused("a.txt", "\xC0\xAF"), "not valid UTF-8 (first invalid byte at offset 0)");          // overlong
  EXPECT_EQ(refused("a.txt", "x\xED\xA0\x80"), "not valid UTF-8 (first invalid byte at offset 1)");     // surrogate
  EXPECT_EQ(refused("a.txt", "\xF4\x90\x80\x80"), "not valid UTF-8 (first invalid byte at offset 0)");  // > U+10FFFF
  EXPECT_EQ(refused("a.txt", "abc\xE2\x82"), "not valid UTF-8 (first invalid byte at offset 3)");       // truncated
  EXPECT_EQ(refused("a.txt", std::string(100, 'a') + "\x80"), "not valid UTF-8 (first invalid byte at offset 100)");
  EXPECT_EQ(refused("a.html", "<p>\xFF</p>"), "not valid UTF-8 (first invalid byte at offset 3)");
  const std::string fine = "h\xC3\xA9llo \xE2\x82\xAC \xF0\x9D\x84\x9E \xEF\xBF\xBD end";
  EXPECT_EQ(ok("a.txt", fine).text, fine);
}

TEST(Extract, UnsupportedTypeIsRefused) { EXPECT_EQ(refused("logo.png", "x"), "unsupported file type"); }

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

TEST(Extract, PdfTextAndTitle) {
  const auto pdf = make_pdf({{"Hello PDF world", "Second line"}, {"Page two"}}, "Quarterly Report");
  auto doc = ok("reports/q1.pdf", pdf);
  EXPECT_EQ(doc.kind, DocumentKind::Pdf);
  EXPECT_EQ(doc.title, "Quarterly Report");
  EXPECT_EQ(doc.text, "Hello PDF world\nSecond line\n\nPage two");
  EXPECT_TRUE(doc.language.empty());
}

TEST(Extract, PdfWithoutTitleIsTitledByFileName) {
  auto doc = ok("reports/Q2.PDF", make_pdf({{"Only text"}}, ""));
  EXPECT_EQ(doc.title, "Q2.PDF");
  EXPECT_EQ(doc.text, "Only text");
}

TEST(Extract, BrokenOrEncryptedPdfIsRefused) {
  EXPECT_EQ(refused("a.pdf", "this is not a PDF"), "PDF could not be parsed");
  EXPECT_EQ(refused("a.pdf", ""), "PDF could not be parsed");
  EXPECT_EQ(refused("a.pdf", make_pdf({{"secret"}}, "T", /*encrypted=*/true)),
            "encrypted PDF (a password is required)");
}
