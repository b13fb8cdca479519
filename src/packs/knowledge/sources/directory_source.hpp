// A local folder as a source, with include/exclude globs; symlinks never lead outside its root.
#pragma once
#include <memory>
#include <string_view>
#include <string>
#include <vector>

#include "packs/knowledge/sources/source.hpp"

namespace mcpd::packs::knowledge {

struct DirectorySourceOptions {
  std::string name;
  std::string root;
  std::vector<std::string> include;  // globs on the relative path ("**/*.md", "docs/*"); empty: all
  std::vector<std::string> exclude;  // always also excludes ".git/**"
  std::size_t max_files = 1'000'000;
};

std::unique_ptr<Source> make_directory_source(DirectorySourceOptions options);

// Glob match on '/'-separated paths: '*' within a segment, '**' across segments, '?' one char,
// '[abc]' classes.
bool glob_match(std::string_view pattern, std::string_view path);

}  // namespace mcpd::packs::knowledge
