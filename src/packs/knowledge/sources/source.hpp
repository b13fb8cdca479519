// A knowledge source: something that holds documents and can list and read them. Its failures are
// Errors (a folder gone, a remote unreachable), recorded by the sync as the source's last error.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace mcpd::packs::knowledge {

struct SourceEntry {
  std::string path;     // relative to the source root, '/'-separated, no "..", no leading '/'
  std::string version;  // changes when the content changes (git blob id, or size+mtime-ns for files)
  std::uint64_t size = 0;
};

struct SkippedEntry {
  std::string path;
  std::string reason;   // e.g. "symlink leads outside the source root", "unreadable: Permission denied"
};

struct Snapshot {
  std::string revision;               // git commit id; empty for directories
  std::vector<SourceEntry> entries;   // sorted by path
  std::vector<SkippedEntry> skipped;
};

// What changed between two revisions (git); renames are reported as such.
struct Change {
  enum class Kind { Added, Modified, Deleted, Renamed } kind;
  std::string path;       // the new path (or the deleted one)
  std::string old_path;   // for renames
};

// A relative path as a caller may pass it to read(): '/'-separated, no "." or ".." segments, no
// empty segments, no leading '/', no NUL.
inline bool is_valid_relative_path(std::string_view path) {
  if (path.empty() || path.front() == '/' || path.find('\0') != std::string_view::npos) return false;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view seg = path.substr(start, end - start);
    if (seg.empty() || seg == "." || seg == "..") return false;
    start = end + 1;
  }
  return true;
}

class Source {
 public:
  virtual ~Source() = default;
  virtual std::string name() const = 0;
  virtual std::string kind() const = 0;  // "directory" | "git"
  // Brings the source up to date (git: clone or fetch) and lists what it holds now; Unavailable
  // (with the reason) when it cannot.
  virtual core::Result<Snapshot> snapshot() = 0;
  // The raw bytes of `path` in the current snapshot, or why they cannot be read (the sync records
  // the message as the reason the file was skipped).
  virtual core::Result<std::string> read(const std::string& path) = 0;
  // Changes from `since_revision` to the current snapshot's revision. NotFound when the source does
  // not report changes or does not know that revision (then the caller compares full snapshots).
  virtual core::Result<std::vector<Change>> changes_since(const std::string& since_revision) {
    return core::Error::not_found("source '" + name() + "' does not report changes since " + since_revision);
  }
};

}  // namespace mcpd::packs::knowledge
