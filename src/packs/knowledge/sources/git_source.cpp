// A git repository as a knowledge source, through libgit2: a bare mirror of the remote's branches
// under cache_dir, listed and read at the branch head, with rename-aware diffs between commits.
#include "packs/knowledge/sources/git_source.hpp"

#include <git2.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <utility>

#include "infra/text.hpp"
#include "packs/knowledge/sources/directory_source.hpp"  // glob_match

namespace mcpd::packs::knowledge {

namespace fs = std::filesystem;

namespace {

constexpr const char* kMirrorRefspec = "+refs/heads/*:refs/heads/*";
constexpr const char* kRemoteName = "origin";

void ensure_libgit2() {
  // Initialised once, thread-safely, and never shut down: other sources may still use it.
  static const int initialised = git_libgit2_init();
  (void)initialised;
}

template <class T, void (*Free)(T*)>
struct GitFree {
  void operator()(T* p) const {
    if (p) Free(p);
  }
};
using RepoPtr = std::unique_ptr<git_repository, GitFree<git_repository, git_repository_free>>;
using RemotePtr = std::unique_ptr<git_remote, GitFree<git_remote, git_remote_free>>;
using RefPtr = std::unique_ptr<git_reference, GitFree<git_reference, git_reference_free>>;
using ObjectPtr = std::unique_ptr<git_object, GitFree<git_object, git_object_free>>;
using CommitPtr = std::unique_ptr<git_commit, GitFree<git_commit, git_commit_free>>;
using TreePtr = std::unique_ptr<git_tree, GitFree<git_tree, git_tree_free>>;
using TreeEntryPtr = std::unique_ptr<git_tree_entry, GitFree<git_tree_entry, git_tree_entry_free>>;
using BlobPtr = std::unique_ptr<git_blob, GitFree<git_blob, git_blob_free>>;
using DiffPtr = std::unique_ptr<git_diff, GitFree<git_diff, git_diff_free>>;
using OdbPtr = std::unique_ptr<git_odb, GitFree<git_odb, git_odb_free>>;

struct Buf {
  git_buf b = GIT_BUF_INIT;
  Buf() = default;
  Buf(const Buf&) = delete;
  Buf& operator=(const Buf&) = delete;
  ~Buf() { git_buf_dispose(&b); }
};

std::string oid_hex(const git_oid& id) {
  char out[GIT_OID_HEXSZ + 1];
  git_oid_tostr(out, sizeof out, &id);
  return out;
}

std::string last_git_error() {
  const git_error* e = git_error_last();
  return e && e->message ? e->message : "unknown libgit2 error";
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && infra::ascii_lower(s.substr(0, prefix.size())) == infra::ascii_lower(prefix);
}

// "scheme://user:pass@host:port/path" -> lower-cased "host:port"; empty when not a URL.
std::string url_authority(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  auto rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (auto at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  return infra::ascii_lower(rest);
}

// The URL without any "user:password@" part, for messages.
std::string display_url(const std::string& url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return url;
  auto host_start = scheme_end + 3;
  auto path_start = url.find_first_of("/?#", host_start);
  auto at = url.rfind('@', path_start == std::string::npos ? url.size() : path_start);
  if (at == std::string::npos || at < host_start) return url;
  return url.substr(0, host_start) + "***@" + url.substr(at + 1);
}

// A local repository path rather than a URL ("/srv/repo", "./repo", "file:///srv/repo").
bool looks_local(const std::string& url) {
  if (starts_with_ci(url, "file://")) return true;
  if (url.find("://") != std::string::npos) return false;
  auto colon = url.find(':');
  auto slash = url.find('/');
  return colon == std::string::npos || (slash != std::string::npos && slash < colon);  // not "host:path"
}

std::string local_path(const std::string& url) { return starts_with_ci(url, "file://") ? url.substr(7) : url; }

bool is_file_mode(uint32_t mode) { return mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE; }

class GitSource final : public Source {
 public:
  explicit GitSource(GitSourceOptions options) : options_(std::move(options)) { ensure_libgit2(); }

  std::string name() const override { return options_.name; }
  std::string kind() const override { return "git"; }

  core::Result<Snapshot> snapshot() override {
    std::lock_guard lock(mutex_);
    if (auto updated = update_mirror(); !updated) return std::move(updated).failure();
    auto head = branch_head();
    if (!head) return std::move(head).failure();
    auto commit = lookup_commit(*head, "the branch head");
    if (!commit) return std::move(commit).failure();
    auto tree = commit_tree(commit->get());
    if (!tree) return std::move(tree).failure();

    Snapshot snap;
    snap.revision = oid_hex(*head);
    git_odb* raw = nullptr;
    if (git_repository_odb(&raw, repo_.get()) < 0) return error("cannot open the object database");
    OdbPtr odb(raw);
    WalkState state{this, &snap, odb.get(), {}};
    int rc = git_tree_walk(tree->get(), GIT_TREEWALK_PRE, &GitSource::walk_cb, &state);
    if (!state.error.empty()) return core::Error::unavailable(state.error);
    if (rc < 0) return error("cannot list the tree of " + snap.revision);
    std::sort(snap.entries.begin(), snap.entries.end(),
              [](const SourceEntry& a, const SourceEntry& b) { return a.path < b.path; });
    snapshot_commit_ = *head;
    has_snapshot_ = true;
    return snap;
  }

  core::Result<std::string> read(const std::string& path) override {
    using core::Error;
    std::lock_guard lock(mutex_);
    if (!has_snapshot_) return Error::unavailable("no snapshot of git source '" + options_.name + "' has been taken yet");
    if (!is_valid_relative_path(path)) return Error::invalid_argument("invalid path '" + path + "'");
    if (!wanted_file(path)) return Error::refused("'" + path + "' is excluded by the source's globs");
    git_commit* commit = nullptr;
    if (git_commit_lookup(&commit, repo_.get(), &snapshot_commit_) != 0) return error("cannot load the snapshot commit");
    CommitPtr commit_owner(commit);
    git_tree* tree = nullptr;
    if (git_commit_tree(&tree, commit) != 0) return error("cannot load the snapshot tree");
    TreePtr tree_owner(tree);
    git_tree_entry* entry = nullptr;
    if (git_tree_entry_bypath(&entry, tree, path.c_str()) != 0)
      return Error::not_found("'" + path + "' is not in revision " + oid_hex(snapshot_commit_));
    TreeEntryPtr entry_owner(entry);
    if (!is_file_mode(git_tree_entry_filemode(entry)))
      return Error::refused("'" + path + "' is not a regular file in revision " + oid_hex(snapshot_commit_));
    git_blob* blob = nullptr;
    if (git_blob_lookup(&blob, repo_.get(), git_tree_entry_id(entry)) != 0)
      return error("cannot load the blob of '" + path + "'");
    BlobPtr blob_owner(blob);
    return std::string(static_cast<const char*>(git_blob_rawcontent(blob)),
                       static_cast<std::size_t>(git_blob_rawsize(blob)));
  }

  core::Result<std::vector<Change>> changes_since(const std::string& since_revision) override {
    std::lock_guard lock(mutex_);
    auto unknown = [&] {
      return core::Error::not_found("git source '" + options_.name + "' does not know revision '" + since_revision + "'");
    };
    if (since_revision.size() != GIT_OID_HEXSZ || !has_snapshot_ || !repo_) return unknown();
    git_oid old_id;
    if (git_oid_fromstrn(&old_id, since_revision.data(), since_revision.size()) != 0) return unknown();
    git_commit* old_raw = nullptr;
    if (git_commit_lookup(&old_raw, repo_.get(), &old_id) != 0) return unknown();
    CommitPtr old_commit(old_raw);
    std::vector<Change> changes;
    if (git_oid_equal(&old_id, &snapshot_commit_)) return changes;

    auto new_commit = lookup_commit(snapshot_commit_, "the snapshot commit");
    if (!new_commit) return std::move(new_commit).failure();
    auto old_tree = commit_tree(old_commit.get());
    if (!old_tree) return std::move(old_tree).failure();
    auto new_tree = commit_tree(new_commit->get());
    if (!new_tree) return std::move(new_tree).failure();

    git_diff_options diff_opts = GIT_DIFF_OPTIONS_INIT;
    git_diff* diff_raw = nullptr;
    if (git_diff_tree_to_tree(&diff_raw, repo_.get(), old_tree->get(), new_tree->get(), &diff_opts) < 0)
      return error("cannot diff " + since_revision + " against " + oid_hex(snapshot_commit_));
    DiffPtr diff(diff_raw);
    git_diff_find_options find_opts = GIT_DIFF_FIND_OPTIONS_INIT;
    find_opts.flags = GIT_DIFF_FIND_RENAMES;
    if (git_diff_find_similar(diff.get(), &find_opts) < 0) return error("cannot detect renames");

    auto counts = [this](const git_diff_file& f) {
      return (f.flags & GIT_DIFF_FLAG_EXISTS) != 0 && is_file_mode(f.mode) && f.path && wanted_file(f.path);
    };
    std::size_t n = git_diff_num_deltas(diff.get());
    for (std::size_t i = 0; i < n; ++i) {
      const git_diff_delta* d = git_diff_get_delta(diff.get(), i);
      bool was = counts(d->old_file);
      bool is = counts(d->new_file);
      std::string old_path = d->old_file.path ? d->old_file.path : "";
      std::string new_path = d->new_file.path ? d->new_file.path : "";
      switch (d->status) {
        case GIT_DELTA_ADDED:
        case GIT_DELTA_DELETED:
        case GIT_DELTA_MODIFIED:
        case GIT_DELTA_TYPECHANGE:
        case GIT_DELTA_RENAMED:
          break;
        default:
          continue;  // unmodified, copied (not requested), ignored, untracked, unreadable, conflicted
      }
      if (was && is) {
        if (d->status == GIT_DELTA_RENAMED && old_path != new_path)
          changes.push_back({Change::Kind::Renamed, new_path, old_path});
        else if (!git_oid_equal(&d->old_file.id, &d->new_file.id))
          changes.push_back({Change::Kind::Modified, new_path, {}});
      } else if (is) {
        changes.push_back({Change::Kind::Added, new_path, {}});
      } else if (was) {
        changes.push_back({Change::Kind::Deleted, old_path, {}});
      }
    }
    std::sort(changes.begin(), changes.end(), [](const Change& a, const Change& b) { return a.path < b.path; });
    return changes;
  }

 private:
  struct WalkState {
    GitSource* self;
    Snapshot* snap;
    git_odb* odb;
    std::string error;
  };

  static int walk_cb(const char* root, const git_tree_entry* entry, void* payload) {
    auto* st = static_cast<WalkState*>(payload);
    std::string rel = std::string(root) + git_tree_entry_name(entry);
    auto mode = git_tree_entry_filemode(entry);
    switch (mode) {
      case GIT_FILEMODE_TREE:
        return st->self->pruned_dir(rel) ? 1 : 0;
      case GIT_FILEMODE_COMMIT:
        if (!st->self->pruned_dir(rel)) st->snap->skipped.push_back({rel, "submodule (not followed)"});
        return 0;
      case GIT_FILEMODE_LINK:
        if (st->self->wanted_file(rel)) st->snap->skipped.push_back({rel, "symlink (not followed in git sources)"});
        return 0;
      case GIT_FILEMODE_BLOB:
      case GIT_FILEMODE_BLOB_EXECUTABLE: {
        if (!st->self->wanted_file(rel)) return 0;
        std::size_t size = 0;
        git_object_t type = GIT_OBJECT_INVALID;
        if (git_odb_read_header(&size, &type, st->odb, git_tree_entry_id(entry)) != 0) {
          st->error = st->self->message("cannot read the object of '" + rel + "'");
          return -1;
        }
        st->snap->entries.push_back({rel, oid_hex(*git_tree_entry_id(entry)), static_cast<std::uint64_t>(size)});
        return 0;
      }
      default:
        st->snap->skipped.push_back({rel, "unsupported tree entry mode " + std::to_string(mode)});
        return 0;
    }
  }

  // ---- globs (as for directories) ----

  bool wanted_file(const std::string& rel) const {
    for (auto& g : options_.exclude)
      if (glob_match(g, rel)) return false;
    if (options_.include.empty()) return true;
    for (auto& g : options_.include)
      if (glob_match(g, rel)) return true;
    return false;
  }

  bool pruned_dir(const std::string& rel) const {
    for (auto& g : options_.exclude) {
      std::string_view v(g);
      if (v.size() >= 3 && v.substr(v.size() - 3) == "/**" && glob_match(v.substr(0, v.size() - 3), rel))
        return true;
    }
    return false;
  }

  // ---- errors: Unavailable, naming the source and its URL (without credentials, token scrubbed) ----

  std::string scrub(std::string text) const {
    if (!options_.token.empty()) {
      for (auto pos = text.find(options_.token); pos != std::string::npos; pos = text.find(options_.token, pos))
        text.replace(pos, options_.token.size(), "***");
    }
    return text;
  }

  std::string message(const std::string& what) const {
    return scrub("git source '" + options_.name + "' (" + display_url(options_.url) + "): " + what + ": " +
                 last_git_error());
  }

  // `what` failed in libgit2 (its last error is appended); call right after the failing call.
  core::Error error(const std::string& what) const { return core::Error::unavailable(message(what)); }

  core::Error failure(const std::string& what) const {
    return core::Error::unavailable(scrub("git source '" + options_.name + "' (" + display_url(options_.url) + "): " + what));
  }

  // ---- the mirror ----

  core::Status update_mirror() {
    if (options_.url.empty()) return failure("no URL given");
    if (options_.cache_dir.empty()) return failure("no cache directory given");
    bool created = false;
    if (!repo_) {
      git_repository* raw = nullptr;
      if (git_repository_open_bare(&raw, options_.cache_dir.c_str()) == 0) {
        repo_.reset(raw);
      } else {
        std::error_code ec;
        if (fs::exists(options_.cache_dir, ec) && !fs::is_empty(options_.cache_dir, ec))
          return failure("cache directory '" + options_.cache_dir + "' exists but is not a bare git repository");
        fs::create_directories(options_.cache_dir, ec);
        if (ec) return failure("cannot create cache directory '" + options_.cache_dir + "': " + ec.message());
        git_repository_init_options init = GIT_REPOSITORY_INIT_OPTIONS_INIT;
        init.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH;
        if (git_repository_init_ext(&raw, options_.cache_dir.c_str(), &init) < 0)
          return error("cannot create the mirror in '" + options_.cache_dir + "'");
        repo_.reset(raw);
        created = true;
      }
    }
    auto fetched = fetch();
    if (!fetched && created) {  // leave no half-made mirror behind: the next attempt starts afresh
      repo_.reset();
      std::error_code ec;
      fs::remove_all(options_.cache_dir, ec);
    }
    return fetched;
  }

  // The remote to fetch from. The mirror's config records it as "origin" (for people looking at the
  // mirror with git), but the fetch itself uses an in-memory remote created without url.insteadOf
  // rewriting: libgit2 1.5.x built with PCRE2 leaks a regex match block (~20 KB) for every config
  // entry it scans while applying insteadOf, on every git_remote_lookup / git_remote_create*
  // (fixed upstream in libgit2 PR #6382, 1.6), which a long-running server refreshing sources
  // periodically cannot afford.
  core::Result<RemotePtr> origin() {
    git_config* cfg_raw = nullptr;
    if (git_repository_config(&cfg_raw, repo_.get()) < 0) return error("cannot open the mirror's config");
    std::unique_ptr<git_config, GitFree<git_config, git_config_free>> cfg(cfg_raw);
    const std::string url_key = std::string("remote.") + kRemoteName + ".url";
    Buf current;
    int rc = git_config_get_string_buf(&current.b, cfg.get(), url_key.c_str());
    if (rc == GIT_ENOTFOUND || (rc == 0 && options_.url != current.b.ptr)) {
      if (git_config_set_string(cfg.get(), url_key.c_str(), options_.url.c_str()) < 0)
        return error("cannot record the remote URL");
      if (git_config_set_string(cfg.get(), (std::string("remote.") + kRemoteName + ".fetch").c_str(), kMirrorRefspec) < 0)
        return error("cannot record the remote refspec");
    } else if (rc < 0) {
      return error("cannot read the remote URL");
    }
    git_error_clear();

    git_remote_create_options opts = GIT_REMOTE_CREATE_OPTIONS_INIT;
    opts.repository = repo_.get();
    opts.name = nullptr;  // in-memory
    opts.fetchspec = kMirrorRefspec;
    opts.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
    git_remote* raw = nullptr;
    if (git_remote_create_with_opts(&raw, options_.url.c_str(), &opts) < 0) return error("invalid remote URL");
    return RemotePtr(raw);
  }

  static int credentials_cb(git_credential** out, const char* url, const char* /*username_from_url*/,
                            unsigned int allowed_types, void* payload) {
    auto* self = static_cast<GitSource*>(payload);
    if (!(allowed_types & GIT_CREDENTIAL_USERPASS_PLAINTEXT)) return GIT_PASSTHROUGH;
    // The token only ever goes to the host it was configured for, and only once per operation
    // (libgit2 asks again after a rejection; answering again would loop).
    if (!url || !starts_with_ci(url, "https://") || url_authority(url) != url_authority(self->options_.url))
      return GIT_PASSTHROUGH;
    if (self->auth_attempts_++ > 0) {
      git_error_set_str(GIT_ERROR_NET, "authentication with the configured token was rejected");
      return GIT_EAUTH;
    }
    return git_credential_userpass_plaintext_new(out, "x-access-token", self->options_.token.c_str());
  }

  core::Status fetch() {
    auto remote = origin();
    if (!remote) return std::move(remote).failure();
    git_fetch_options opts = GIT_FETCH_OPTIONS_INIT;
    opts.prune = GIT_FETCH_PRUNE;
    opts.update_fetchhead = 0;
    opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
    opts.proxy_opts.type = GIT_PROXY_AUTO;
    if (!options_.token.empty() && starts_with_ci(options_.url, "https://")) {
      opts.callbacks.credentials = &GitSource::credentials_cb;
      opts.callbacks.payload = this;
    }
    auth_attempts_ = 0;
    char refspec[] = "+refs/heads/*:refs/heads/*";
    char* specs[] = {refspec};
    git_strarray refspecs{specs, 1};
    if (git_remote_fetch(remote->get(), &refspecs, &opts, "mcpd knowledge: fetch") < 0) {
      std::string msg = message("fetch failed");
      // libgit2's own messages are terse in two common local cases; say what is going on.
      if (last_git_error().find("safe.directory") != std::string::npos) {
        msg += " (the repository is owned by another user; libgit2 refuses it unless its path is listed in "
               "safe.directory in the git config of the user running mcpd)";
      } else if (looks_local(options_.url)) {
        std::error_code ec;
        if (!fs::exists(local_path(options_.url), ec)) msg += " (no such local path: " + local_path(options_.url) + ")";
      }
      return core::Error::unavailable(msg);
    }

    if (options_.branch.empty()) {
      // The remote's HEAD names its default branch; keep the mirror's HEAD pointing at it.
      Buf head;
      if (git_remote_default_branch(&head.b, remote->get()) == 0 && head.b.ptr)
        git_repository_set_head(repo_.get(), head.b.ptr);  // best effort: checked in branch_head()
      git_error_clear();
    }
    return {};
  }

  core::Result<git_oid> branch_head() {
    std::string ref_name;
    if (!options_.branch.empty()) {
      ref_name = options_.branch.rfind("refs/", 0) == 0 ? options_.branch : "refs/heads/" + options_.branch;
    } else {
      git_reference* head = nullptr;
      if (git_reference_lookup(&head, repo_.get(), "HEAD") < 0) return error("cannot read the mirror's HEAD");
      RefPtr head_owner(head);
      if (git_reference_type(head) != GIT_REFERENCE_SYMBOLIC) return failure("the remote's HEAD names no branch");
      ref_name = git_reference_symbolic_target(head);
    }
    git_reference* ref = nullptr;
    int rc = git_reference_lookup(&ref, repo_.get(), ref_name.c_str());
    if (rc == GIT_ENOTFOUND) {
      return failure(options_.branch.empty() ? "the remote has no default branch (empty repository?), HEAD is " + ref_name
                                             : "branch '" + options_.branch + "' not found");
    }
    if (rc < 0) return error("cannot read " + ref_name);
    RefPtr ref_owner(ref);
    git_object* obj = nullptr;
    if (git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT) < 0) return error(ref_name + " is not a commit");
    ObjectPtr obj_owner(obj);
    return *git_object_id(obj);
  }

  core::Result<CommitPtr> lookup_commit(const git_oid& id, const std::string& what) {
    git_commit* raw = nullptr;
    if (git_commit_lookup(&raw, repo_.get(), &id) < 0) return error("cannot load " + what + " " + oid_hex(id));
    return CommitPtr(raw);
  }

  core::Result<TreePtr> commit_tree(git_commit* commit) {
    git_tree* raw = nullptr;
    if (git_commit_tree(&raw, commit) < 0) return error("cannot load the tree of " + oid_hex(*git_commit_id(commit)));
    return TreePtr(raw);
  }

  GitSourceOptions options_;
  std::mutex mutex_;
  RepoPtr repo_;
  git_oid snapshot_commit_{};
  bool has_snapshot_ = false;
  int auth_attempts_ = 0;
};

bool valid_github_part(std::string_view s) {
  if (s.empty() || s == "." || s == "..") return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

}  // namespace

std::unique_ptr<Source> make_git_source(GitSourceOptions options) {
  return std::make_unique<GitSource>(std::move(options));
}

std::vector<std::string> expand_github_repos(std::string_view list) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t end = list.find(',', start);
    if (end == std::string_view::npos) end = list.size();
    std::string_view item = list.substr(start, end - start);
    start = end + 1;
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front()))) item.remove_prefix(1);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) item.remove_suffix(1);
    if (item.empty()) continue;
    std::string_view repo = item;
    if (repo.size() > 4 && repo.substr(repo.size() - 4) == ".git") repo.remove_suffix(4);
    auto slash = repo.find('/');
    if (slash == std::string_view::npos || !valid_github_part(repo.substr(0, slash)) ||
        !valid_github_part(repo.substr(slash + 1))) {
      throw std::invalid_argument("not a GitHub repository of the form owner/name: '" + std::string(item) + "'");
    }
    out.push_back("https://github.com/" + std::string(repo) + ".git");
  }
  return out;
}

}  // namespace mcpd::packs::knowledge
