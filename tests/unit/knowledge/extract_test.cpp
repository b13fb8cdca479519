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
  EXPECT_EQ(to_string(DocumentKind::Man), "man");
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
                        "Paper.PDF",
                        "ls.1",
                        "doc/tool.8",
                        "man1/ls.1",
                        "usr/share/man/man3/printf.3",
                        "man/man1/cp.1p",
                        "man3/Dpkg::Version.3perl",
                        "share/man/man7/ossl.7ssl",
                        "fr/man1/ls.1",
                        "mann/text.n",
                        "man3/history.3readline",
                        "man/x.3pm"})
    EXPECT_TRUE(is_supported_path(p)) << p;
  for (const char* p :
       {"logo.png", "archive.tar.gz", "lib.so", "a.out.o", ".env", "dir/.gitignore", "trailing.", "dir/", "",
        "ls.0", "notes.3perl", "src/parse.l", "docs/text.n", "manual/x.3pm", "man1/ls.1.gz", "man1/x.1-2"})
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

// ---- man pages ----

namespace {

// The head of coreutils' ls(1) (help2man output), abridged.
constexpr std::string_view kLsPage = R"ROFF(.\" DO NOT MODIFY THIS FILE!  It was generated by help2man 1.49.2.
.TH LS "1" "September 2022" "GNU coreutils 9.1" "User Commands"
.SH NAME
ls \- list directory contents
.SH SYNOPSIS
.B ls
[\fI\,OPTION\/\fR]... [\fI\,FILE\/\fR]...
.SH DESCRIPTION
.\" Add any additional description here
.PP
List information about the FILEs (the current directory by default).
Sort entries alphabetically if none of \fB\-cftuvSUX\fR nor \fB\-\-sort\fR is specified.
.PP
Mandatory arguments to long options are mandatory for short options too.
.TP
\fB\-a\fR, \fB\-\-all\fR
do not ignore entries starting with .
.TP
\fB\-\-block\-size\fR=\fI\,SIZE\/\fR
with \fB\-l\fR, scale sizes by SIZE when printing them;
e.g., '\-\-block\-size=M'; see SIZE format below
.SS "Exit status:"
.TP
0
if OK,
.SH AUTHOR
Written by Richard M. Stallman and David MacKenzie.
.SH "SEE ALSO"
Full documentation <https://www.gnu.org/software/coreutils/ls>
.br
or available locally via: info \(aq(coreutils) ls invocation\(aq
)ROFF";

bool has_line_starting_with(const std::string& text, char c) {
  if (!text.empty() && text[0] == c) return true;
  return text.find(std::string("\n") + c) != std::string::npos;
}

std::vector<std::string> headings_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string line = text.substr(pos, eol - pos);
    if (line.starts_with("# ") || line.starts_with("## ")) out.push_back(line);
    pos = eol + 1;
  }
  return out;
}

}  // namespace

TEST(ExtractMan, RealPageBecomesTextWithHeadings) {
  auto doc = ok("man1/ls.1", kLsPage);
  EXPECT_EQ(doc.kind, DocumentKind::Man);
  EXPECT_EQ(doc.title, "ls(1)");  // .TH LS in ls.1: the file name has the real spelling
  EXPECT_TRUE(doc.language.empty());
  EXPECT_EQ(headings_of(doc.text), (std::vector<std::string>{"# NAME", "# SYNOPSIS", "# DESCRIPTION",
                                                              "## Exit status:", "# AUTHOR", "# SEE ALSO"}));
  EXPECT_EQ(doc.text.substr(0, 39), "# NAME\n\nls - list directory contents\n\n#");
  EXPECT_NE(doc.text.find("ls\n[OPTION]... [FILE]...\n"), std::string::npos) << doc.text;
  EXPECT_NE(doc.text.find("Sort entries alphabetically if none of -cftuvSUX nor --sort is specified.\n"),
            std::string::npos);
  EXPECT_NE(doc.text.find("\n\n-a, --all\ndo not ignore entries starting with .\n\n--block-size=SIZE\n"),
            std::string::npos) << doc.text;
  EXPECT_NE(doc.text.find("info '(coreutils) ls invocation'"), std::string::npos);
  // No escapes, requests or comments are left.
  EXPECT_EQ(doc.text.find('\\'), std::string::npos) << doc.text;
  EXPECT_FALSE(has_line_starting_with(doc.text, '.')) << doc.text;
  EXPECT_EQ(doc.text.find("help2man"), std::string::npos);
  EXPECT_EQ(doc.text.find("Add any additional"), std::string::npos);
  EXPECT_EQ(doc.text.back(), '\n');
}

TEST(ExtractMan, EscapesBecomeTheirCharacters) {
  auto text = [](std::string_view body) { return ok("x.7", ".TH X 7\n" + std::string(body) + "\n").text; };
  EXPECT_EQ(text(R"(a\-b \(em c \(en d)"), "a-b \xE2\x80\x94 c \xE2\x80\x93 d\n");
  EXPECT_EQ(text(R"(\(aqq\(aq \(lqdq\(rq \*(lqs\*(rq \(oqo\(cq)"),
            "'q' \xE2\x80\x9C" "dq\xE2\x80\x9D \xE2\x80\x9Cs\xE2\x80\x9D \xE2\x80\x98o\xE2\x80\x99\n");
  EXPECT_EQ(text(R"(C:\eDir\e \&.dot a\&b)"), "C:\\Dir\\ .dot ab\n");
  EXPECT_EQ(text(R"(\(bu item \[bu] \[em] \[u00E9]t\[u00E9] \C'co' \N'65')"),
            "\xE2\x80\xA2 item \xE2\x80\xA2 \xE2\x80\x94 \xC3\xA9t\xC3\xA9 \xC2\xA9 A\n");
  EXPECT_EQ(text(R"(\fBbold\fR \fIit\fP \f(CWcw\fR \f[CB]cb\f[] \f5five\fR)"), "bold it cw cb five\n");
  EXPECT_EQ(text(R"(\s-1SMALL\s0 \s+2BIG\s-2 \s(12x\s[10]y)"), "SMALL BIG xy\n");
  EXPECT_EQ(text(R"(a\ b\~c\|d\^e\%f\:g)"), "a b cdefg\n");
  EXPECT_EQ(text(R"(width \w'abc'u and \n(.g number \kx mark)"), "width u and  number  mark\n");
  EXPECT_EQ(text("one\\c\ntwo"), "onetwo\n");
  EXPECT_EQ(text("text \\\" a comment\n"), "text\n");
  EXPECT_EQ(text(R"(unknown \X'ps: exec'done \Z'zero'width)"), "unknown done width\n");
}

TEST(ExtractMan, FontMacrosAreJoinedAsPlainText) {
  auto doc = ok("man1/cp.1",
                ".TH CP 1\n.SH NAME\ncp \\- copy\n.SH OPTIONS\n.B \\-r \"two words\"\n.BR cp (1),\n"
                ".IR file \" and \" dir\n.I\nnext line\n.SM SMALL caps\n");
  EXPECT_EQ(doc.title, "cp(1)");
  EXPECT_NE(doc.text.find("\n-r two words\ncp(1),\nfile and dir\nnext line\nSMALL caps\n"), std::string::npos)
      << doc.text;
}

TEST(ExtractMan, TitleComesFromTheThRequest) {
  EXPECT_EQ(ok("man3/printf.3", ".TH printf 3 2023-02-05 \"Linux man-pages 6.03\"\n").title, "printf(3)");
  EXPECT_EQ(ok("man3/Dpkg::Version.3perl", ".TH Dpkg::Version 3perl \"2023-05-11\"\n").title,
            "Dpkg::Version(3perl)");
  EXPECT_EQ(ok("man1/git-add.1", ".TH \"GIT\\-ADD\" \"1\" \"10/07/2025\" \"Git 2\\&.39\\&.5\"\n").title, "git-add(1)");
  EXPECT_EQ(ok("man1/perl5.36.0.1", ".TH PERL 1 \"2025-04-12\"\n").title, "perl(1)");  // all capitals: lowered
  EXPECT_EQ(ok("man1/foo.1", ".TH Bar\n").title, "Bar(1)");  // no section: the file's
  EXPECT_EQ(ok("man1/foo.1", "just text\n").title, "foo.1");  // no .TH: the file name
}

TEST(ExtractMan, ShWithoutArgumentsTakesTheNextLine) {
  auto doc = ok("a.1", ".TH A 1\n.SH\nNAME\na \\- b\n.SH\n.B \"SEE ALSO\"\nc\n.SS\n\\fBSub\\fR section\nd\n");
  EXPECT_EQ(headings_of(doc.text), (std::vector<std::string>{"# NAME", "# SEE ALSO", "## Sub section"}));
}

TEST(ExtractMan, SoAliasIsRefused) {
  EXPECT_EQ(refused("man1/rbash.1", ".so man1/bash.1\n"), "man page alias (.so)");
  EXPECT_EQ(refused("man3/x.3", ".\\\" Copyright\n.\\\"\n\n.so man3/y.3\n"), "man page alias (.so)");
  // A page with content that includes a shared part is a page: the .so line is dropped.
  auto doc = ok("man1/rbash.1", ".TH RBASH 1\n.SH NAME\nrbash \\- restricted bash\n.so man1/bash.1\n");
  EXPECT_EQ(doc.text, "# NAME\n\nrbash - restricted bash\n");
}

TEST(ExtractMan, ConditionsMacrosAndStringsAreInterpretedAsNroff) {
  // As pod2man and DocBook write them.
  auto doc = ok("man1/t.1", R"ROFF(.de Vb \" Begin verbatim text
.ft CW
macro body text
..
.ie n \{\
.    ds C` ""
.    ds C' ""
'br\}
.el\{\
.    ds C`
.    ds C'
'br\}
.tr \(*W-
.ds PI pi
.if (\n(rF:(\n(.g==0)) \{\
.    if \nF \{\
hidden text
.    \}
.\}
.ig
ignored text
..
.TH T 1
.SH NAME
t \- uses \*(C`quotes\*(C' and \*(PI and \(*W
.SH DESCRIPTION
.ie n \{\
\h'-04'\(bu\h'+03'\c
.\}
.el \{\
.IP \(bu 2.3
.\}
First item
.if t troff only
.if n nroff only
.if !t not troff
)ROFF");
  EXPECT_EQ(doc.text, "# NAME\n\nt - uses \"quotes\" and pi and -\n\n# DESCRIPTION\n\n\xE2\x80\xA2 First item\n"
                      "nroff only\nnot troff\n");
}

TEST(ExtractMan, TablesKeepTheirCellsOnly) {
  auto doc = ok("man7/t.7", ".TH T 7\n.TS\nallbox tab(:);\nl l\nl l.\nName:Value\n_\nT{\nlong cell\nT}:v2\n.TE\nafter\n");
  EXPECT_EQ(doc.text, "Name  Value\nlong cell\nv2\n\nafter\n");
}

TEST(ExtractMan, TextStaysMarkdownSafe) {
  // A root prompt in an example must not become a heading of the page.
  auto doc = ok("man8/t.8", ".TH T 8\n.SH EXAMPLES\n.EX\n# mount /dev/sda1 /mnt\n  ## twice\n#include <stdio.h>\n```\n.EE\n");
  EXPECT_EQ(doc.text, "# EXAMPLES\n\n    # mount /dev/sda1 /mnt\n    ## twice\n#include <stdio.h>\n\\```\n");
  EXPECT_EQ(headings_of(doc.text), (std::vector<std::string>{"# EXAMPLES"}));
}

TEST(ExtractMan, MdocPages) {
  auto doc = ok("man1/ssh.1", R"ROFF(.\" mdoc
.Dd $Mdocdate: November 28 2022 $
.Dt SSH 1
.Os
.Sh NAME
.Nm ssh
.Nd OpenSSH remote login client
.Sh SYNOPSIS
.Nm ssh
.Op Fl 46AaC
.Op Fl B Ar bind_interface
.Ar destination
.Sh DESCRIPTION
.Nm
connects to
.Ar destination ,
see
.Xr ssh_config 5 .
.Ss Options
.Bl -tag -width Ds
.It Fl 4
Forces
.Nm
to use IPv4 addresses only.
.El
)ROFF");
  EXPECT_EQ(doc.title, "ssh(1)");
  EXPECT_EQ(doc.text,
            "# NAME\n\nssh\n\xE2\x80\x94 OpenSSH remote login client\n\n# SYNOPSIS\n\nssh\n[-46AaC]\n[-B bind_interface]\n"
            "destination\n\n# DESCRIPTION\n\nssh\nconnects to\ndestination,\nsee\nssh_config(5).\n\n## Options\n\n-4\n"
            "Forces\nssh\nto use IPv4 addresses only.\n");
}

TEST(ExtractMan, Latin1PagesAreDecodedAsGroffDoes) {
  auto doc = ok("man1/cafe.1", ".TH CAFE 1\n.SH NAME\ncaf\xE9 \\- \xFC" "ber\n");
  EXPECT_EQ(doc.text, "# NAME\n\ncaf\xC3\xA9 - \xC3\xBC" "ber\n");
  EXPECT_EQ(refused("man1/bin.1", std::string("\x7F" "ELF\0\0", 6)), "binary file (NUL bytes)");
}

TEST(ExtractMan, HostileInputStaysBounded) {
  // Deep nesting, unterminated escapes and blocks: no crash, no runaway recursion.
  std::string nested;
  for (int i = 0; i < 100000; ++i) nested += "\\w'";
  EXPECT_EQ(ok("a.1", nested).kind, DocumentKind::Man);
  std::string conds;
  for (int i = 0; i < 10000; ++i) conds += ".if n ";
  conds += "deep\n";
  EXPECT_EQ(ok("a.1", conds).text, "");
  EXPECT_EQ(ok("a.1", ".ds x \\*x\\*x\n\\*x end\n").text, " end\n");  // recursion: bounded
  // Exponential string expansion stays bounded in time and size.
  std::string bomb = ".ds a " + std::string(1000, 'x') + "\n.ds b \\*a\\*a\\*a\\*a\\*a\\*a\\*a\\*a\n"
                     ".ds c \\*b\\*b\\*b\\*b\\*b\\*b\\*b\\*b\n.ds d \\*c\\*c\\*c\\*c\\*c\\*c\\*c\\*c\n";
  for (int i = 0; i < 1000; ++i) bomb += "\\*d\\*d\\*d\\*d\n";
  EXPECT_LT(ok("a.1", bomb).text.size(), 2u * 1024 * 1024);
  EXPECT_EQ(ok("a.1", ".if 0 \\{\nnever closed\n").text, "");
  EXPECT_EQ(ok("a.1", ".de X\nnever ended\n").text, "");
  EXPECT_EQ(ok("a.1", "trailing \\").text, "trailing\n");
  EXPECT_EQ(ok("a.1", "\\f").text, "");
  EXPECT_EQ(ok("a.1", "\\(").text, "");
  EXPECT_EQ(ok("a.1", "\\[unterminated").text, "");
  EXPECT_EQ(ok("a.1", "\\s+").text, "");
}
