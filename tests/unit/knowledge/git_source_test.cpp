// Git sources against real repositories made with the git CLI in a temp dir (no network): the
// bare mirror (clone, then fetch), snapshots with blob ids, reads, rename-aware changes, errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "source_results.hpp"
#include "temp_dir.hpp"
#include "packs/knowledge/sources/git_source.hpp"

using namespace mcpd::packs::knowledge;
namespace fs = std::filesystem;

using mcpd::test::failure_of;
using mcpd::test::read_ok;
using mcpd::test::snapshot_ok;
using mcpd::test::TempDir;
using mcpd::test::write_file;

namespace {

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out.append("'\\''");
    else out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

// Runs a shell command; returns its stdout (trimmed) and fails the test on a non-zero exit.
std::string sh(const std::string& cmd) {
  std::string full = cmd + " 2>&1";
  FILE* p = ::popen(full.c_str(), "r");
  if (!p) throw std::runtime_error("popen failed");
  std::string out;
  std::array<char, 4096> buf{};
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  int status = ::pclose(p);
  if (status != 0) throw std::runtime_error("command failed: " + cmd + "\n" + out);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

// A working repository pushing to a bare "origin" repository, both under a temp dir.
class Repos {
 public:
  Repos() {
    sh("git init -q --template= --bare -b main " + quote(origin().string()));
    sh("git init -q --template= -b main " + quote(work().string()));
    git("remote add origin " + quote(origin().string()));
  }
  fs::path origin() const { return dir_.path() / "origin.git"; }
  fs::path work() const { return dir_.path() / "work"; }
  fs::path cache() const { return dir_.path() / "cache" / "mirror.git"; }
  std::string git(const std::string& args) {
    return sh("git -C " + quote(work().string()) +
              " -c user.name=t -c user.email=t@t -c commit.gpgsign=false -c gc.auto=0 -c maintenance.auto=false " +
              args);
  }
  void write(const std::string& rel, const std::string& content) { write_file(work() / rel, content); }
  std::string commit_all(const std::string& message) {
    git("add -A");
    git("commit -q -m " + quote(message));
    return git("rev-parse HEAD");
  }
  void push(const std::string& branch = "main") { git("push -q origin " + branch); }
  std::string blob(const std::string& rev_path) { return git("rev-parse " + quote(rev_path)); }

  std::unique_ptr<Source> source(std::string url = {}, std::string branch = {},
                                 std::vector<std::string> include = {}, std::vector<std::string> exclude = {}) {
    GitSourceOptions o;
    o.name = "kb-repo";
    o.url = url.empty() ? origin().string() : url;
    o.branch = std::move(branch);
    o.cache_dir = cache().string();
    o.include = std::move(include);
    o.exclude = std::move(exclude);
    return make_git_source(std::move(o));
  }

 private:
  TempDir dir_;
};

class ScopedUnsetEnv {
 public:
  explicit ScopedUnsetEnv(std::vector<std::string> names) {
    for (auto& n : names) {
      if (const char* v = std::getenv(n.c_str())) saved_.emplace_back(n, v);
      ::unsetenv(n.c_str());
    }
  }
  ~ScopedUnsetEnv() {
    for (auto& [n, v] : saved_) ::setenv(n.c_str(), v.c_str(), 1);
  }

 private:
  std::vector<std::pair<std::string, std::string>> saved_;
};

std::vector<std::string> paths(const Snapshot& s) {
  std::vector<std::string> out;
  for (auto& e : s.entries) out.push_back(e.path);
  return out;
}

const SourceEntry* find_entry(const Snapshot& s, const std::string& path) {
  for (auto& e : s.entries)
    if (e.path == path) return &e;
  return nullptr;
}

const SkippedEntry* find_skipped(const Snapshot& s, const std::string& path) {
  for (auto& k : s.skipped)
    if (k.path == path) return &k;
  return nullptr;
}

}  // namespace

TEST(GitSource, ClonesListsBlobsAndReads) {
  Repos r;
  r.write("README.md", "# Hello\n");
  r.write("docs/guide.md", "guide\n");
  r.write("docs/deep/more.txt", "more text\n");
  auto c1 = r.commit_all("first");
  r.push();

  auto src = r.source();
  EXPECT_EQ(src->kind(), "git");
  EXPECT_EQ(src->name(), "kb-repo");
  auto snap = snapshot_ok(*src);
  EXPECT_TRUE(fs::exists(r.cache() / "HEAD"));  // a bare mirror
  EXPECT_EQ(snap.revision, c1);
  EXPECT_EQ(paths(snap), (std::vector<std::string>{"README.md", "docs/deep/more.txt", "docs/guide.md"}));
  for (auto& e : snap.entries) EXPECT_EQ(e.version, r.blob("HEAD:" + e.path)) << e.path;
  EXPECT_EQ(find_entry(snap, "docs/deep/more.txt")->size, 10u);
  EXPECT_TRUE(snap.skipped.empty());

  EXPECT_EQ(read_ok(*src, "README.md"), "# Hello\n");
  EXPECT_EQ(read_ok(*src, "docs/deep/more.txt"), "more text\n");
  EXPECT_FALSE(failure_of(src->read("missing.md")).empty());
  EXPECT_FALSE(src->read("docs"));  // a tree, not a file
  EXPECT_FALSE(src->read("../x"));
}

TEST(GitSource, ReportsModifiedDeletedAndRenamedSinceARevision) {
  Repos r;
  r.write("a.md", "alpha\n");
  r.write("b.md", "bravo\n");
  r.write("docs/c.md", "charlie has a long enough body for rename detection\n");
  r.write("keep.md", "unchanged\n");
  auto c1 = r.commit_all("first");
  r.push();
  auto src = r.source();
  ASSERT_EQ(snapshot_ok(*src).revision, c1);

  r.write("a.md", "alpha, modified\n");
  r.git("rm -q b.md");
  r.git("mv docs/c.md docs/renamed.md");
  auto c2 = r.commit_all("second");
  r.push();

  EXPECT_EQ(read_ok(*src, "a.md"), "alpha\n");  // still the first snapshot
  auto snap = snapshot_ok(*src);                   // fetches the new push
  EXPECT_EQ(snap.revision, c2);
  EXPECT_EQ(paths(snap), (std::vector<std::string>{"a.md", "docs/renamed.md", "keep.md"}));
  EXPECT_EQ(read_ok(*src, "a.md"), "alpha, modified\n");

  auto changes = src->changes_since(c1);
  ASSERT_TRUE(changes);
  ASSERT_EQ(changes->size(), 3u);
  EXPECT_EQ((*changes)[0].kind, Change::Kind::Modified);
  EXPECT_EQ((*changes)[0].path, "a.md");
  EXPECT_EQ((*changes)[1].kind, Change::Kind::Deleted);
  EXPECT_EQ((*changes)[1].path, "b.md");
  EXPECT_EQ((*changes)[2].kind, Change::Kind::Renamed);
  EXPECT_EQ((*changes)[2].path, "docs/renamed.md");
  EXPECT_EQ((*changes)[2].old_path, "docs/c.md");

  auto none = src->changes_since(c2);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST(GitSource, FetchPicksUpNewPushesAndAddedFiles) {
  Repos r;
  r.write("a.md", "a\n");
  auto c1 = r.commit_all("first");
  r.push();
  auto src = r.source();
  EXPECT_EQ(snapshot_ok(*src).revision, c1);
  EXPECT_EQ(snapshot_ok(*src).revision, c1);  // a fetch with nothing new

  r.write("new/b.md", "b\n");
  auto c2 = r.commit_all("second");
  r.push();
  // A fresh source object over the existing mirror fetches rather than clones.
  auto again = r.source();
  auto snap = snapshot_ok(*again);
  EXPECT_EQ(snap.revision, c2);
  EXPECT_EQ(paths(snap), (std::vector<std::string>{"a.md", "new/b.md"}));
  auto changes = again->changes_since(c1);
  ASSERT_TRUE(changes);
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_EQ((*changes)[0].kind, Change::Kind::Added);
  EXPECT_EQ((*changes)[0].path, "new/b.md");

  // The mirror follows the remote's branches, deletions included (prune).
  auto mirror_branches = [&] {
    return sh("git --git-dir=" + quote(r.cache().string()) + " for-each-ref --format='%(refname)' refs/heads");
  };
  r.git("push -q origin main:refs/heads/topic");
  snapshot_ok(*again);
  EXPECT_EQ(mirror_branches(), "refs/heads/main\nrefs/heads/topic");
  r.git("push -q origin --delete topic");
  snapshot_ok(*again);
  EXPECT_EQ(mirror_branches(), "refs/heads/main");
  EXPECT_EQ(sh("git --git-dir=" + quote(r.cache().string()) + " config remote.origin.url"), r.origin().string());

  // A changed URL for the same mirror is followed (and recorded).
  auto moved = r.source("file://" + r.origin().string());
  EXPECT_EQ(snapshot_ok(*moved).revision, c2);
  EXPECT_EQ(sh("git --git-dir=" + quote(r.cache().string()) + " config remote.origin.url"),
            "file://" + r.origin().string());
}

TEST(GitSource, UnknownOldRevisionIsNotFound) {
  Repos r;
  r.write("a.md", "a\n");
  r.commit_all("first");
  r.push();
  auto src = r.source();
  auto before = src->changes_since("0123456789abcdef0123456789abcdef01234567");
  ASSERT_TRUE(before.failed()) << "before any snapshot";
  EXPECT_EQ(before.error().kind, mcpd::core::ErrorKind::NotFound);
  snapshot_ok(*src);
  EXPECT_FALSE(src->changes_since(""));
  EXPECT_FALSE(src->changes_since("0123456789abcdef0123456789abcdef01234567"));
  EXPECT_FALSE(src->changes_since("not a revision"));
  EXPECT_FALSE(src->changes_since(r.blob("HEAD:a.md")));  // an object, but not a commit
}

TEST(GitSource, GlobsFilterEntriesAndChanges) {
  Repos r;
  r.write("README.md", "r\n");
  r.write("docs/a.md", "a\n");
  r.write("docs/img.png", "png\n");
  r.write("vendor/lib/x.md", "x\n");
  auto c1 = r.commit_all("first");
  r.push();
  auto src = r.source({}, {}, {"**/*.md"}, {"vendor/**"});
  EXPECT_EQ(paths(snapshot_ok(*src)), (std::vector<std::string>{"README.md", "docs/a.md"}));
  EXPECT_FALSE(src->read("docs/img.png"));
  EXPECT_FALSE(src->read("vendor/lib/x.md"));

  r.write("docs/img.png", "png2\n");
  r.write("vendor/lib/x.md", "x2\n");
  r.write("docs/a.md", "a2\n");
  r.commit_all("second");
  r.push();
  snapshot_ok(*src);
  auto changes = src->changes_since(c1);
  ASSERT_TRUE(changes);
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_EQ((*changes)[0].path, "docs/a.md");
  EXPECT_EQ((*changes)[0].kind, Change::Kind::Modified);
}

TEST(GitSource, SymlinksAndSubmodulesAreSkippedWithReasons) {
  Repos r;
  r.write("a.md", "a\n");
  auto c1 = r.commit_all("first");
  fs::create_symlink("a.md", r.work() / "link.md");
  r.git("add link.md");
  r.git("update-index --add --cacheinfo 160000," + c1 + ",sub");  // a gitlink, as a submodule makes
  r.git("commit -q -m links");
  r.push();
  auto snap = snapshot_ok(*r.source());
  EXPECT_EQ(paths(snap), std::vector<std::string>{"a.md"});
  auto* l = find_skipped(snap, "link.md");
  ASSERT_NE(l, nullptr);
  EXPECT_NE(l->reason.find("symlink"), std::string::npos);
  auto* s = find_skipped(snap, "sub");
  ASSERT_NE(s, nullptr);
  EXPECT_NE(s->reason.find("submodule"), std::string::npos);
}

TEST(GitSource, BranchesDefaultToTheRemoteHead) {
  Repos r;
  r.write("a.md", "on main\n");
  auto main_head = r.commit_all("main");
  r.push();
  // "master" at the same commit would win libgit2's guess if the remote's HEAD were not used.
  r.git("branch master");
  r.push("master");
  {
    auto src = r.source();
    EXPECT_EQ(snapshot_ok(*src).revision, main_head);
    EXPECT_EQ(sh("git --git-dir=" + quote(r.cache().string()) + " symbolic-ref HEAD"), "refs/heads/main");
    fs::remove_all(r.cache());
  }
  r.git("checkout -q -b feature");
  r.write("a.md", "on feature\n");
  auto feature_head = r.commit_all("feature");
  r.push("feature");

  auto def = r.source("file://" + r.origin().string());
  EXPECT_EQ(snapshot_ok(*def).revision, main_head);
  EXPECT_EQ(read_ok(*def, "a.md"), "on main\n");

  TempDir other;  // a separate mirror for the branch-specific source
  GitSourceOptions o;
  o.name = "feature-src";
  o.url = r.origin().string();
  o.branch = "feature";
  o.cache_dir = (other.path() / "m").string();
  auto feat = make_git_source(o);
  EXPECT_EQ(snapshot_ok(*feat).revision, feature_head);
  EXPECT_EQ(read_ok(*feat, "a.md"), "on feature\n");

  o.name = "missing-branch";
  o.branch = "nope";
  o.cache_dir = (other.path() / "m2").string();
  std::string m = failure_of(make_git_source(o)->snapshot());
  EXPECT_NE(m.find("missing-branch"), std::string::npos) << m;
  EXPECT_NE(m.find("nope"), std::string::npos) << m;
}

TEST(GitSource, BadUrlIsAnErrorNamingTheSource) {
  TempDir t;
  GitSourceOptions o;
  o.name = "broken-source";
  o.url = (t.path() / "no-such-repo").string();
  o.cache_dir = (t.path() / "cache").string();
  auto bad = make_git_source(o)->snapshot();
  ASSERT_TRUE(bad.failed());
  EXPECT_EQ(bad.error().kind, mcpd::core::ErrorKind::Unavailable);
  std::string m = bad.error().message;
  EXPECT_NE(m.find("broken-source"), std::string::npos) << m;
  EXPECT_NE(m.find("no such local path"), std::string::npos) << m;
  EXPECT_FALSE(fs::exists(t.path() / "cache")) << "a failed first clone leaves no mirror behind";

  // A proxy from the environment would turn the loopback connection below into a network one.
  ScopedUnsetEnv no_proxy_vars({"https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"});

  // An HTTPS remote that refuses the connection (loopback, so no network): the token never appears.
  o.url = "https://127.0.0.1:1/org/repo.git";
  o.token = "ghp_SECRETTOKEN";
  m = failure_of(make_git_source(o)->snapshot());
  EXPECT_NE(m.find("broken-source"), std::string::npos) << m;
  EXPECT_EQ(m.find("SECRETTOKEN"), std::string::npos) << m;
  o.url = "https://user:ghp_SECRETTOKEN@127.0.0.1:1/org/repo.git";
  m = failure_of(make_git_source(o)->snapshot());
  EXPECT_FALSE(m.empty());
  EXPECT_EQ(m.find("SECRETTOKEN"), std::string::npos) << m;
}

TEST(GitSource, ReadBeforeSnapshotFails) {
  Repos r;
  EXPECT_NE(failure_of(r.source()->read("a.md")).find("snapshot"), std::string::npos);
}

TEST(ExpandGithubRepos, ExpandsTrimsAndValidates) {
  EXPECT_EQ(expand_github_repos("org/a, org/b"),
            (std::vector<std::string>{"https://github.com/org/a.git", "https://github.com/org/b.git"}));
  EXPECT_EQ(expand_github_repos(" my-org/repo.name ,, \torg/x.git ,"),
            (std::vector<std::string>{"https://github.com/my-org/repo.name.git", "https://github.com/org/x.git"}));
  EXPECT_TRUE(expand_github_repos("").empty());
  EXPECT_TRUE(expand_github_repos(" , ").empty());
  for (const char* bad : {"org", "org/", "/repo", "org/a/b", "https://github.com/org/a", "org/a b", "../x"}) {
    try {
      expand_github_repos(std::string("ok/fine,") + bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}
