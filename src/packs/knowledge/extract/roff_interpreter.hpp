// A small roff interpreter for man pages (man(7) and mdoc(7) macros): the page as text with
// Markdown-style section headings ("# NAME", "## Options"), titled "ls(1)".
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace mcpd::packs::knowledge {

struct RoffPage {
  std::string title;  // "ls(1)": .TH's name and section, backed up by the file name
  std::string text;   // valid UTF-8 when the input is; '\n' line ends, one at the end
};

// `file_name` is the page's file name ("ls.1"): its stem and extension back up .TH. `text` has LF
// line ends. nullopt when the page is an alias: a .so request before any content.
std::optional<RoffPage> interpret_roff(std::string_view file_name, std::string_view text);

}  // namespace mcpd::packs::knowledge
