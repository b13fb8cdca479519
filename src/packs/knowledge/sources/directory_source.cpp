// A local folder as a knowledge source: a sorted, bounded walk that never leaves the root.
#include "packs/knowledge/sources/directory_source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

namespace mcpd::packs::knowledge {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Globs
// ---------------------------------------------------------------------------------------------

namespace {

// Matches a bracket class starting at pattern[p] == '['. Returns the index just past ']' and sets
// `matched`; returns npos when the class is unterminated (then '[' is an ordinary character).
std::size_t match_class(std::string_view pattern, std::size_t p, char c, bool& matched) {
  std::size_t i = p + 1;
  bool negate = false;
  if (i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^')) {
    negate = true;
    ++i;
  }
  bool any = false;
  bool first = true;
  while (i < pattern.size() && (first || pattern[i] != ']')) {
    first = false;
    char lo = pattern[i];
    if (lo == '\\' && i + 1 < pattern.size()) lo = pattern[++i];
    char hi = lo;
    if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
      hi = pattern[i + 2];
      if (hi == '\\' && i + 3 < pattern.size()) {
        hi = pattern[i + 3];
        ++i;
      }
      i += 2;
    }
    auto uc = static_cast<unsigned char>(c);
    if (static_cast<unsigned char>(lo) <= uc && uc <= static_cast<unsigned char>(hi)) any = true;
    ++i;
  }
  if (i >= pattern.size()) return std::string_view::npos;  // no closing ']'
  matched = (c != '/') && (any != negate);
  return i + 1;
}

class GlobMatcher {
 public:
  GlobMatcher(std::string_view pattern, std::string_view path)
      : pat_(pattern), path_(path), memo_((pattern.size() + 1) * (path.size() + 1), 0) {}

  bool run() { return match(0, 0); }

 private:
  bool at_segment_start(std::size_t p) const { return p == 0 || pat_[p - 1] == '/'; }

  bool match(std::size_t p, std::size_t i) {
    char& m = memo_[p * (path_.size() + 1) + i];
    if (m != 0) return m == 1;
    bool r = compute(p, i);
    m = r ? 1 : 2;
    return r;
  }

  bool compute(std::size_t p, std::size_t i) {
    if (p == pat_.size()) return i == path_.size();
    char c = pat_[p];
    if (c == '*') {
      bool doublestar = p + 1 < pat_.size() && pat_[p + 1] == '*';
      if (doublestar && at_segment_start(p)) {
        std::size_t after = p + 2;
        while (after < pat_.size() && pat_[after] == '*') ++after;  // "***" is "**"
        if (after == pat_.size()) return true;                       // "**" at the end: anything
        if (pat_[after] == '/') {
          // "**/": zero or more whole segments, then the rest of the pattern.
          std::size_t rest = after + 1;
          if (match(rest, i)) return true;
          for (std::size_t j = i; j < path_.size(); ++j)
            if (path_[j] == '/' && match(rest, j + 1)) return true;
          return false;
        }
        // "**x" inside a segment: behaves like '*'.
        return star(after, i);
      }
      std::size_t after = p + 1;
      while (after < pat_.size() && pat_[after] == '*') ++after;
      return star(after, i);
    }
    if (i == path_.size()) return false;
    char s = path_[i];
    if (c == '?') return s != '/' && match(p + 1, i + 1);
    if (c == '[') {
      bool matched = false;
      std::size_t next = match_class(pat_, p, s, matched);
      if (next != std::string_view::npos) return matched && match(next, i + 1);
      return s == '[' && match(p + 1, i + 1);
    }
    if (c == '\\' && p + 1 < pat_.size()) return s == pat_[p + 1] && match(p + 2, i + 1);
    return s == c && match(p + 1, i + 1);
  }

  // '*': zero or more characters other than '/', then pattern from `p`.
  bool star(std::size_t p, std::size_t i) {
    for (std::size_t j = i;; ++j) {
      if (match(p, j)) return true;
      if (j == path_.size() || path_[j] == '/') return false;
    }
  }

  std::string_view pat_;
  std::string_view path_;
  std::vector<char> memo_;  // 0 unknown, 1 match, 2 no match
};

}  // namespace

bool glob_match(std::string_view pattern, std::string_view path) {
  return GlobMatcher(pattern, path).run();
}

// ---------------------------------------------------------------------------------------------
// The directory source
// ---------------------------------------------------------------------------------------------

namespace {

constexpr const char* kOutsideRoot = "symlink leads outside the source root";

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

// True when `p` (canonical) is `root` (canonical) or lies below it.
bool is_within(const fs::path& root, const fs::path& p) {
  auto r = root.begin(), re = root.end();
  auto i = p.begin(), ie = p.end();
  for (; r != re; ++r, ++i) {
    if (r->empty()) continue;  // a trailing separator yields an empty last element
    if (i == ie || *i != *r) return false;
  }
  return true;
}

const char* special_kind(mode_t mode) {
  if (S_ISFIFO(mode)) return "fifo";
  if (S_ISSOCK(mode)) return "socket";
  if (S_ISCHR(mode)) return "character device";
  if (S_ISBLK(mode)) return "block device";
  return "unknown file type";
}

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

class DirectorySource final : public Source {
 public:
  explicit DirectorySource(DirectorySourceOptions options) : options_(std::move(options)) {
    excludes_ = options_.exclude;
    excludes_.emplace_back(".git/**");
    excludes_.emplace_back("**/.git/**");  // nested repositories' metadata too
  }

  std::string name() const override { return options_.name; }
  std::string kind() const override { return "directory"; }

  core::Result<Snapshot> snapshot() override {
    auto root = canonical_root();
    if (!root) return std::move(root).failure();
    Snapshot snap;
    Walk walk{*root, snap, false};
    walk_dir(walk, *root, "");
    std::sort(snap.entries.begin(), snap.entries.end(),
              [](const SourceEntry& a, const SourceEntry& b) { return a.path < b.path; });
    return snap;
  }

  core::Result<std::string> read(const std::string& path) override {
    using core::Error;
    if (!is_valid_relative_path(path)) return Error::invalid_argument("invalid path '" + path + "'");
    if (!wanted_file(path)) return Error::refused("'" + path + "' is excluded by the source's globs");
    auto root = canonical_root();
    if (!root) return std::move(root).failure();
    std::error_code ec;
    fs::path target = fs::canonical(*root / path, ec);
    if (ec) return Error::not_found("cannot resolve '" + path + "': " + ec.message());
    if (!is_within(*root, target)) return Error::refused("'" + path + "': " + kOutsideRoot);
    // Open the resolved path without following a final symlink (a swap after canonical() fails
    // with ELOOP), then confirm where the descriptor really points.
    Fd f(::open(target.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (f.fd < 0) return Error::unavailable("unreadable: " + errno_text(errno));
    if (!opened_within(*root, f.fd)) return Error::refused("'" + path + "': " + kOutsideRoot);
    struct stat st {};
    if (::fstat(f.fd, &st) != 0) return Error::unavailable("unreadable: " + errno_text(errno));
    if (!S_ISREG(st.st_mode)) return Error::refused("'" + path + "' is not a regular file");
    std::string data;
    data.reserve(static_cast<std::size_t>(st.st_size));
    char buf[65536];
    for (;;) {
      ssize_t n = ::read(f.fd, buf, sizeof buf);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Error::unavailable("unreadable: " + errno_text(errno));
      }
      if (n == 0) break;
      data.append(buf, static_cast<std::size_t>(n));
    }
    return data;
  }

 private:
  struct Walk {
    const fs::path& root;
    Snapshot& snap;
    bool limit_hit;
  };

  // The root, resolved; Unavailable when it is missing or not a folder (it may come back).
  core::Result<fs::path> canonical_root() const {
    using core::Error;
    const std::string prefix = "directory source '" + options_.name + "': root '" + options_.root + "' ";
    if (options_.root.empty()) return Error::unavailable("directory source '" + options_.name + "': no root given");
    std::error_code ec;
    auto st = fs::status(options_.root, ec);
    if (!fs::exists(st)) {
      if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory)
        return Error::unavailable(prefix + "cannot be accessed: " + ec.message());
      return Error::unavailable(prefix + "does not exist");
    }
    if (!fs::is_directory(st)) return Error::unavailable(prefix + "is not a directory");
    fs::path root = fs::canonical(options_.root, ec);
    if (ec) return Error::unavailable(prefix + "cannot be resolved: " + ec.message());
    return root;
  }

  bool excluded(const std::string& rel) const {
    for (auto& g : excludes_)
      if (glob_match(g, rel)) return true;
    return false;
  }

  bool wanted_file(const std::string& rel) const {
    if (excluded(rel)) return false;
    if (options_.include.empty()) return true;
    for (auto& g : options_.include)
      if (glob_match(g, rel)) return true;
    return false;
  }

  // A directory is pruned when an exclude glob "X/**" matches everything below it.
  bool pruned_dir(const std::string& rel) const {
    for (auto& g : excludes_) {
      std::string_view v(g);
      if (v.size() >= 3 && v.substr(v.size() - 3) == "/**" && glob_match(v.substr(0, v.size() - 3), rel))
        return true;
    }
    return false;
  }

  static bool opened_within(const fs::path& root, int fd) {
    std::error_code ec;
    fs::path real = fs::read_symlink("/proc/self/fd/" + std::to_string(fd), ec);
    if (ec) return true;  // no /proc: the canonical check and O_NOFOLLOW already applied
    return is_within(root, real);
  }

  void skip(Walk& w, std::string rel, std::string reason) {
    w.snap.skipped.push_back({std::move(rel), std::move(reason)});
  }

  void add_file(Walk& w, const std::string& rel, const fs::path& full) {
    if (w.snap.entries.size() >= options_.max_files) {
      if (!w.limit_hit) {
        w.limit_hit = true;
        skip(w, rel,
             "file limit reached (max_files = " + std::to_string(options_.max_files) +
                 "): this and every later file (in path order) are not listed");
      }
      return;
    }
    // Opening proves the file is readable; fstat on the descriptor describes what was opened.
    // `full` is a regular file or a symlink's canonical target: a final symlink here means it was
    // swapped since, and is not followed.
    Fd f(::open(full.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    if (f.fd < 0) return skip(w, rel, "unreadable: " + errno_text(errno));
    struct stat st {};
    if (::fstat(f.fd, &st) != 0) return skip(w, rel, "unreadable: " + errno_text(errno));
    if (!S_ISREG(st.st_mode)) return skip(w, rel, std::string("special file (") + special_kind(st.st_mode) + ")");
    std::uint64_t ns = static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1'000'000'000ULL +
                       static_cast<std::uint64_t>(st.st_mtim.tv_nsec);
    auto size = static_cast<std::uint64_t>(st.st_size);
    w.snap.entries.push_back({rel, std::to_string(size) + ":" + std::to_string(ns), size});
  }

  struct Child {
    std::string name;
    std::string key;  // name, plus '/' for directories: a depth-first walk in key order is path order
    struct stat lst;  // lstat of the entry
  };

  void walk_dir(Walk& w, const fs::path& dir, const std::string& prefix) {
    std::error_code ec;
    fs::directory_iterator it(dir, fs::directory_options::none, ec);
    if (ec) {
      skip(w, prefix.empty() ? "." : prefix.substr(0, prefix.size() - 1), "unreadable: " + ec.message());
      return;
    }
    std::vector<Child> children;
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      if (ec) break;
      Child c;
      c.name = it->path().filename().string();
      if (::lstat(it->path().c_str(), &c.lst) != 0) {
        skip(w, prefix + c.name, "unreadable: " + errno_text(errno));
        continue;
      }
      c.key = S_ISDIR(c.lst.st_mode) ? c.name + "/" : c.name;
      children.push_back(std::move(c));
    }
    if (ec) skip(w, prefix.empty() ? "." : prefix.substr(0, prefix.size() - 1), "unreadable: " + ec.message());
    std::sort(children.begin(), children.end(), [](const Child& a, const Child& b) { return a.key < b.key; });

    for (auto& c : children) {
      if (w.limit_hit) return;
      std::string rel = prefix + c.name;
      fs::path full = dir / c.name;
      mode_t mode = c.lst.st_mode;
      if (S_ISDIR(mode)) {
        if (!pruned_dir(rel)) walk_dir(w, full, rel + "/");
      } else if (S_ISREG(mode)) {
        if (wanted_file(rel)) add_file(w, rel, full);
      } else if (S_ISLNK(mode)) {
        visit_symlink(w, rel, full);
      } else {
        if (wanted_file(rel)) skip(w, rel, std::string("special file (") + special_kind(mode) + ")");
      }
    }
  }

  void visit_symlink(Walk& w, const std::string& rel, const fs::path& full) {
    struct stat st {};
    bool target_is_dir = ::stat(full.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    if (target_is_dir ? pruned_dir(rel) : !wanted_file(rel)) return;
    std::error_code ec;
    fs::path target = fs::canonical(full, ec);  // ELOOP for loops, ENOENT for dangling links
    if (ec) return skip(w, rel, "broken symlink: " + ec.message());
    if (!is_within(w.root, target)) return skip(w, rel, kOutsideRoot);
    if (target_is_dir) {
      // Its target lies inside the root, so the walk lists those files under their real paths;
      // following it would only duplicate them (or loop).
      return skip(w, rel, "symlink to a directory inside the root (not followed)");
    }
    add_file(w, rel, target);
  }

  DirectorySourceOptions options_;
  std::vector<std::string> excludes_;
};

}  // namespace

std::unique_ptr<Source> make_directory_source(DirectorySourceOptions options) {
  return std::make_unique<DirectorySource>(std::move(options));
}

}  // namespace mcpd::packs::knowledge
