// The PDF extractor on real PDFs built here and parsed by poppler: text, titles, refusals.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "extract_outcome.hpp"
#include "packs/knowledge/extract/extract.hpp"

using namespace mcpd::packs::knowledge;
using mcpd::test::ok;
using mcpd::test::refused;

namespace {

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
