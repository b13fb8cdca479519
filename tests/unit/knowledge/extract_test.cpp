// Text extraction: kinds by file name, Markdown titles, line ends, and what every format refuses.
#include <gtest/gtest.h>

#include <string>

#include "extract_outcome.hpp"
#include "packs/knowledge/extract/extract.hpp"

using namespace mcpd::packs::knowledge;
using mcpd::test::ok;
using mcpd::test::refused;

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
