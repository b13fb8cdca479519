// A git repository as a source (libgit2): a local path or a remote URL and branch, kept as a bare
// mirror under the data directory; private HTTPS repositories authenticate with a token (GH_PAT).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "packs/knowledge/sources/source.hpp"

namespace mcpd::packs::knowledge {

struct GitSourceOptions {
  std::string name;
  std::string url;          // "/path/to/repo", "file:///…", "https://github.com/org/repo.git"
  std::string branch;       // empty: the remote's default branch (HEAD)
  std::string token;        // for HTTPS (sent as basic auth "x-access-token:<token>"); may be empty
  std::string cache_dir;    // where the bare mirror lives (created if missing)
  std::vector<std::string> include;  // globs as for directories
  std::vector<std::string> exclude;
};

std::unique_ptr<Source> make_git_source(GitSourceOptions options);

// "org/repo1,org/repo2" (the GH_REPOS variable) -> https://github.com/org/repo1.git, …
std::vector<std::string> expand_github_repos(std::string_view list);

}  // namespace mcpd::packs::knowledge
