// The man page extractor.
#include "packs/knowledge/extract/man_extractor.hpp"

#include "infra/text.hpp"
#include "packs/knowledge/extract/roff_interpreter.hpp"
#include "packs/knowledge/extract/text_encoding.hpp"

namespace mcpd::packs::knowledge {


bool is_man_extension(std::string_view path, std::string_view ext) {
  if (ext.empty() || !((ext[0] >= '1' && ext[0] <= '9') || ext[0] == 'n' || ext[0] == 'l')) return false;
  if (ext.size() == 1 && ext[0] != 'n' && ext[0] != 'l') return true;
  if (ext.size() > 12) return false;
  for (char c : ext.substr(1))
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  auto slash = path.rfind('/');
  if (slash == std::string_view::npos) return false;
  std::string_view dir = path.substr(0, slash);
  if (auto up = dir.rfind('/'); up != std::string_view::npos) dir = dir.substr(up + 1);
  if (dir.size() < 3 || infra::ascii_lower(dir.substr(0, 3)) != "man") return false;
  std::string_view sec = dir.substr(3);
  if (sec.empty()) return true;
  if (!((sec[0] >= '0' && sec[0] <= '9') || sec[0] == 'n' || sec[0] == 'l')) return false;
  for (char c : sec.substr(1))
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  return true;
}

core::Result<ExtractedText> extract_man(std::string_view name, std::string_view text) {
  auto page = interpret_roff(name, text);
  if (!page) return core::Error::refused("man page alias (.so)");
  ExtractedText out;
  out.kind = DocumentKind::Man;
  out.title = std::move(page->title);
  out.text = std::move(page->text);
  return out;
}

}  // namespace mcpd::packs::knowledge
