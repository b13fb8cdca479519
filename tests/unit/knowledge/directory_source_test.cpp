// Directory sources on a real filesystem: globs, include/exclude, symlinks that try to leave the
// root (files, directories, loops), unreadable and special files, versions, reads, bounds.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include "source_results.hpp"
#include "temp_dir.hpp"
#include "packs/knowledge/sources/directory_source.hpp"

using namespace mcpd::packs::knowledge;
namespace fs = std::filesystem;

using mcpd::test::failure_of;
using mcpd::test::read_ok;
using mcpd::test::snapshot_ok;
using mcpd::test::TempDir;
using mcpd::test::write_file;

namespace {

std::vector<std::string> paths(const Snapshot& s) {
  std::vector<std::string> out;
  for (auto& e : s.entries) out.push_back(e.path);
  return out;
}

const SkippedEntry* find_skipped(const Snapshot& s, const std::string& path) {
  for (auto& k : s.skipped)
    if (k.path == path) return &k;
  return nullptr;
}

const SourceEntry* find_entry(const Snapshot& s, const std::string& path) {
  for (auto& e : s.entries)
    if (e.path == path) return &e;
  return nullptr;
}

std::unique_ptr<Source> source_at(const fs::path& root, std::vector<std::string> include = {},
                                  std::vector<std::string> exclude = {}) {
  DirectorySourceOptions o;
  o.name = "docs";
  o.root = root.string();
  o.include = std::move(include);
  o.exclude = std::move(exclude);
  return make_directory_source(std::move(o));
}

}  // namespace

TEST(GlobMatch, SingleStarStaysInsideASegment) {
  EXPECT_TRUE(glob_match("*.md", "a.md"));
  EXPECT_TRUE(glob_match("*.md", ".md"));
  EXPECT_FALSE(glob_match("*.md", "x/a.md"));
  EXPECT_TRUE(glob_match("docs/*", "docs/a.md"));
  EXPECT_FALSE(glob_match("docs/*", "docs/x/a.md"));
  EXPECT_FALSE(glob_match("docs/*", "docs"));
  EXPECT_TRUE(glob_match("a*b*c", "aXXbYYc"));
  EXPECT_FALSE(glob_match("a*c", "ab/c"));
  EXPECT_TRUE(glob_match("README", "README"));
  EXPECT_FALSE(glob_match("README", "README.md"));
}

TEST(GlobMatch, DoubleStarSpansSegmentsIncludingNone) {
  EXPECT_TRUE(glob_match("**/*.md", "a.md"));
  EXPECT_TRUE(glob_match("**/*.md", "x/a.md"));
  EXPECT_TRUE(glob_match("**/*.md", "x/y/a.md"));
  EXPECT_FALSE(glob_match("**/*.md", "x/y/a.txt"));
  EXPECT_TRUE(glob_match("docs/**", "docs/a"));
  EXPECT_TRUE(glob_match("docs/**", "docs/x/y/z.txt"));
  EXPECT_FALSE(glob_match("docs/**", "docs"));
  EXPECT_FALSE(glob_match("docs/**", "docsx/a"));
  EXPECT_TRUE(glob_match("a/**/b", "a/b"));
  EXPECT_TRUE(glob_match("a/**/b", "a/x/b"));
  EXPECT_TRUE(glob_match("a/**/b", "a/x/y/b"));
  EXPECT_FALSE(glob_match("a/**/b", "a/xb"));
  EXPECT_TRUE(glob_match("**", "anything/at/all"));
  EXPECT_TRUE(glob_match(".git/**", ".git/objects/ab/cd"));
  EXPECT_FALSE(glob_match(".git/**", "x/.git/config"));
  EXPECT_TRUE(glob_match("**/node_modules/**", "node_modules/a/b.js"));
  EXPECT_TRUE(glob_match("**/node_modules/**", "web/node_modules/a.js"));
}

TEST(GlobMatch, QuestionMarkAndClasses) {
  EXPECT_TRUE(glob_match("?.md", "a.md"));
  EXPECT_FALSE(glob_match("?.md", "ab.md"));
  EXPECT_FALSE(glob_match("a?b", "a/b"));
  EXPECT_TRUE(glob_match("[abc].txt", "b.txt"));
  EXPECT_FALSE(glob_match("[abc].txt", "d.txt"));
  EXPECT_TRUE(glob_match("[a-c]x", "cx"));
  EXPECT_FALSE(glob_match("[a-c]x", "dx"));
  EXPECT_TRUE(glob_match("[!a-c]x", "dx"));
  EXPECT_FALSE(glob_match("[!a-c]x", "ax"));
  EXPECT_FALSE(glob_match("a[/]b", "a/b"));
  EXPECT_TRUE(glob_match("[]]", "]"));
  EXPECT_TRUE(glob_match("a[", "a["));  // unterminated class: a literal '['
  EXPECT_TRUE(glob_match("\\*", "*"));
  EXPECT_FALSE(glob_match("\\*", "x"));
}

TEST(GlobMatch, ManyStarsStayFast) {
  std::string path(200, 'a');
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(glob_match("*a*a*a*a*a*a*a*a*a*a*a*b", path));
  EXPECT_FALSE(glob_match("**/**/**/**/**/**/x", "a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(DirectorySource, ListsFilesRecursivelySortedWithRelativePaths) {
  TempDir t;
  write_file(t.path() / "b.md", "bb");
  write_file(t.path() / "a.md", "a");
  write_file(t.path() / "sub/deeper/c.txt", "ccc");
  write_file(t.path() / "sub-x.md", "x");  // '-' sorts before '/': checks global path order
  write_file(t.path() / ".git/config", "[core]");
  write_file(t.path() / "nested/.git/HEAD", "ref");
  fs::create_directories(t.path() / "empty");
  auto src = source_at(t.path());
  EXPECT_EQ(src->kind(), "directory");
  EXPECT_EQ(src->name(), "docs");
  auto snap = snapshot_ok(*src);
  EXPECT_EQ(snap.revision, "");
  EXPECT_EQ(paths(snap), (std::vector<std::string>{"a.md", "b.md", "sub-x.md", "sub/deeper/c.txt"}));
  EXPECT_EQ(find_entry(snap, "b.md")->size, 2u);
  EXPECT_EQ(find_entry(snap, "sub/deeper/c.txt")->size, 3u);
  EXPECT_TRUE(snap.skipped.empty());
}

TEST(DirectorySource, IncludeAndExcludeGlobs) {
  TempDir t;
  write_file(t.path() / "README.md", "r");
  write_file(t.path() / "docs/guide.md", "g");
  write_file(t.path() / "docs/img.png", "p");
  write_file(t.path() / "docs/drafts/wip.md", "w");
  write_file(t.path() / "src/main.cpp", "m");
  auto src = source_at(t.path(), {"**/*.md", "src/*"}, {"docs/drafts/**"});
  EXPECT_EQ(paths(snapshot_ok(*src)), (std::vector<std::string>{"README.md", "docs/guide.md", "src/main.cpp"}));

  EXPECT_NE(failure_of(src->read("docs/img.png")).find("excluded"), std::string::npos);  // not included
  EXPECT_FALSE(src->read("docs/drafts/wip.md"));                                          // excluded
  EXPECT_EQ(read_ok(*src, "docs/guide.md"), "g");
}

TEST(DirectorySource, SymlinksOutsideTheRootAreSkipped) {
  TempDir outside;
  write_file(outside.path() / "secret.txt", "secret");
  write_file(outside.path() / "dir/inner.md", "inner");
  TempDir t;
  write_file(t.path() / "real.md", "real");
  fs::create_symlink(outside.path() / "secret.txt", t.path() / "leak.txt");
  fs::create_symlink(outside.path() / "dir", t.path() / "leakdir");
  fs::create_symlink("../../../../../../../../../" + outside.path().string() + "/secret.txt", t.path() / "rel.txt");
  fs::create_symlink("real.md", t.path() / "alias.md");  // stays inside: listed
  fs::create_directories(t.path() / "sub");
  fs::create_symlink("..", t.path() / "sub/up");  // inside, to a directory: not followed
  auto src = source_at(t.path());
  auto snap = snapshot_ok(*src);
  EXPECT_EQ(paths(snap), (std::vector<std::string>{"alias.md", "real.md"}));
  for (const char* p : {"leak.txt", "leakdir", "rel.txt"}) {
    auto* s = find_skipped(snap, p);
    ASSERT_NE(s, nullptr) << p;
    EXPECT_EQ(s->reason, "symlink leads outside the source root") << p;
  }
  ASSERT_NE(find_skipped(snap, "sub/up"), nullptr);

  std::string err = failure_of(src->read("leak.txt"));
  EXPECT_NE(err.find("outside the source root"), std::string::npos) << err;
  EXPECT_FALSE(src->read("leakdir/inner.md"));
  EXPECT_FALSE(src->read("../" + outside.path().filename().string() + "/secret.txt"));
  EXPECT_FALSE(src->read("/etc/passwd"));
  EXPECT_EQ(read_ok(*src, "alias.md"), "real");
}

TEST(DirectorySource, SymlinkLoopsDoNotHang) {
  TempDir t;
  write_file(t.path() / "a.md", "a");
  fs::create_symlink(t.path() / "loop2", t.path() / "loop1");
  fs::create_symlink(t.path() / "loop1", t.path() / "loop2");
  fs::create_symlink(".", t.path() / "self");
  fs::create_directories(t.path() / "d");
  fs::create_symlink(t.path(), t.path() / "d/root");
  fs::create_symlink("missing", t.path() / "dangling.md");
  auto snap = snapshot_ok(*source_at(t.path()));
  EXPECT_EQ(paths(snap), std::vector<std::string>{"a.md"});
  for (const char* p : {"loop1", "loop2", "self", "d/root", "dangling.md"})
    EXPECT_NE(find_skipped(snap, p), nullptr) << p;
}

TEST(DirectorySource, FileReplacedBySymlinkAfterTheSnapshotIsNotRead) {
  TempDir outside;
  write_file(outside.path() / "secret.txt", "secret");
  TempDir t;
  write_file(t.path() / "doc.md", "doc");
  auto src = source_at(t.path());
  ASSERT_EQ(paths(snapshot_ok(*src)), std::vector<std::string>{"doc.md"});
  fs::remove(t.path() / "doc.md");
  fs::create_symlink(outside.path() / "secret.txt", t.path() / "doc.md");
  std::string err = failure_of(src->read("doc.md"));
  EXPECT_NE(err.find("outside the source root"), std::string::npos) << err;
  // The same for a directory on the way.
  write_file(t.path() / "sub/x.md", "x");
  ASSERT_TRUE(src->read("sub/x.md"));
  fs::remove_all(t.path() / "sub");
  fs::create_symlink(outside.path(), t.path() / "sub");
  write_file(outside.path() / "x.md", "outside");
  EXPECT_FALSE(src->read("sub/x.md"));
}

// What a source sees of a folder holding an unreadable file and an unreadable directory, as one
// line: the paths, the reasons given, and what reading the file says.
std::string unreadable_outcome(const fs::path& root) {
  auto src = source_at(root);
  auto snap = snapshot_ok(*src);
  std::string out;
  for (const auto& p : paths(snap)) out += p + ";";
  for (const char* name : {"locked.md", "closed"}) {
    auto* f = find_skipped(snap, name);
    out += std::string(name) + "=" + (f ? f->reason : "(not skipped)") + ";";
  }
  auto locked = src->read("locked.md");
  out += locked ? "read" : "not read: " + failure_of(locked);
  return out;
}

TEST(DirectorySource, UnreadableFilesAndDirectoriesAreSkipped) {
  TempDir t;
  write_file(t.path() / "ok.md", "ok");
  write_file(t.path() / "locked.md", "locked");
  write_file(t.path() / "closed/inner.md", "inner");
  fs::permissions(t.path() / "locked.md", fs::perms::none);
  fs::permissions(t.path() / "closed", fs::perms::none);
  std::string outcome;
  if (::geteuid() != 0) {
    outcome = unreadable_outcome(t.path());
  } else {
    // Root reads mode-000 files, so the source runs in a child that has become `nobody`.
    fs::permissions(t.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
    int out[2];
    ASSERT_EQ(::pipe(out), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(out[0]);
      if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(3);
      std::string r = unreadable_outcome(t.path());
      ssize_t n = ::write(out[1], r.data(), r.size());
      ::_exit(n == static_cast<ssize_t>(r.size()) ? 0 : 4);
    }
    ::close(out[1]);
    char buf[4096];
    ssize_t n;
    while ((n = ::read(out[0], buf, sizeof buf)) > 0) outcome.append(buf, static_cast<std::size_t>(n));
    ::close(out[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  }
  EXPECT_EQ(outcome,
            "ok.md;locked.md=unreadable: Permission denied;closed=unreadable: Permission denied;"
            "not read: unreadable: Permission denied");
}

TEST(DirectorySource, SpecialFilesAreSkipped) {
  TempDir t;
  write_file(t.path() / "a.md", "a");
  ASSERT_EQ(::mkfifo((t.path() / "pipe").c_str(), 0644), 0);
  auto src = source_at(t.path());
  auto snap = snapshot_ok(*src);  // must not block on the fifo
  EXPECT_EQ(paths(snap), std::vector<std::string>{"a.md"});
  auto* s = find_skipped(snap, "pipe");
  ASSERT_NE(s, nullptr);
  EXPECT_NE(s->reason.find("fifo"), std::string::npos);
  EXPECT_FALSE(src->read("pipe"));
}

TEST(DirectorySource, VersionChangesWithContent) {
  TempDir t;
  auto file = t.path() / "a.md";
  write_file(file, "hello");
  auto src = source_at(t.path());
  auto v1 = snapshot_ok(*src).entries.at(0).version;
  EXPECT_EQ(v1.substr(0, 2), "5:");
  EXPECT_EQ(snapshot_ok(*src).entries.at(0).version, v1);  // stable while nothing changes

  write_file(file, "hello world");
  auto v2 = snapshot_ok(*src).entries.at(0).version;
  EXPECT_NE(v2, v1);

  // Same size, new content: the mtime (in ns) tells them apart.
  auto before = fs::last_write_time(file);
  write_file(file, "HELLO WORLD");
  fs::last_write_time(file, before + std::chrono::milliseconds(1));
  auto v3 = snapshot_ok(*src).entries.at(0).version;
  EXPECT_NE(v3, v2);
  EXPECT_EQ(read_ok(*src, "a.md"), "HELLO WORLD");
}

TEST(DirectorySource, ReadRejectsBadPathsAndReportsMissingFiles) {
  TempDir t;
  write_file(t.path() / "a.md", std::string("bin\0ary", 7));
  auto src = source_at(t.path());
  EXPECT_EQ(read_ok(*src, "a.md"), std::string("bin\0ary", 7));
  for (const char* bad : {"", "/a.md", "../a.md", "x/../a.md", "./a.md", "a//b"}) {
    auto r = src->read(bad);
    EXPECT_FALSE(r) << bad;
    EXPECT_FALSE(failure_of(r).empty()) << bad;
  }
  EXPECT_FALSE(failure_of(src->read("missing.md")).empty());
}

TEST(DirectorySource, MissingOrNonDirectoryRootIsAnErrorNamingTheSource) {
  TempDir t;
  write_file(t.path() / "file", "x");
  auto missing = source_at(t.path() / "nope")->snapshot();
  ASSERT_TRUE(missing.failed());
  EXPECT_EQ(missing.error().kind, mcpd::core::ErrorKind::Unavailable);
  std::string m = missing.error().message;
  EXPECT_NE(m.find("does not exist"), std::string::npos) << m;
  EXPECT_NE(m.find("docs"), std::string::npos) << m;
  m = failure_of(source_at(t.path() / "file")->snapshot());
  EXPECT_NE(m.find("not a directory"), std::string::npos) << m;
  // Reading is refused the same way (the sync records the reason).
  EXPECT_NE(failure_of(source_at(t.path() / "nope")->read("a.md")).find("does not exist"), std::string::npos);
}

TEST(DirectorySource, MaxFilesBoundsTheListing) {
  TempDir t;
  for (const char* n : {"e.md", "a.md", "d/x.md", "b.md", "c.md"}) write_file(t.path() / n, "x");
  DirectorySourceOptions o;
  o.name = "bounded";
  o.root = t.path().string();
  o.max_files = 3;
  auto snap = snapshot_ok(*make_directory_source(o));
  EXPECT_EQ(paths(snap), (std::vector<std::string>{"a.md", "b.md", "c.md"}));
  ASSERT_EQ(snap.skipped.size(), 1u);
  EXPECT_EQ(snap.skipped[0].path, "d/x.md");
  EXPECT_NE(snap.skipped[0].reason.find("max_files"), std::string::npos);
}
