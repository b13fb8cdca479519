// The local-directory object store; see local_store.hpp for the rules it keeps. Every file-system
// call is relative to a directory descriptor opened with O_NOFOLLOW, so a path can never leave the
// root, whatever links or renames happen under it while the server runs.
#include "packs/storage/local_store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <utility>
#include <vector>

#include "infra/base64.hpp"
#include "infra/crypto.hpp"
#include "infra/time.hpp"
#include "packs/storage/object_key.hpp"
#include "packs/storage/sigv4.hpp"

namespace mcpd::packs::storage {

using core::Error;

namespace {

constexpr std::size_t kMaxSegmentBytes = 255;  // NAME_MAX
constexpr std::string_view kTempPrefix = ".mcpd-tmp-";
constexpr std::string_view kTokenVersion = "v1:";
constexpr const char* kContentTypeAttr = "user.mime_type";  // the freedesktop.org convention
constexpr int kMaxDepth = 512;               // a 1024-byte key has at most 512 segments

// An owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; });
}

std::vector<std::string> split(std::string_view s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto slash = s.find('/', start);
    out.emplace_back(s.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) return out;
    start = slash + 1;
  }
}

// What the local store adds to the shared key rules (object_key.hpp): limits of its file system.
std::string segment_problem(const std::string& segment, const char* what) {
  if (segment.size() > kMaxSegmentBytes)
    return std::string("the ") + what + " has a segment longer than 255 bytes, the file-name limit; shorten it";
  if (std::string_view(segment).starts_with(kTempPrefix))
    return std::string("the ") + what + " uses the reserved name prefix " + std::string(kTempPrefix) + "; rename it";
  return {};
}

// "bytes=FIRST-LAST", "bytes=FIRST-", "bytes=-COUNT" against an object of `size` bytes.
struct Span {
  std::uint64_t first = 0, last = 0;  // inclusive
};

std::optional<std::uint64_t> number(std::string_view s) {
  std::uint64_t v = 0;
  if (s.empty() || s.size() > 19) return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

Result<Span> parse_range(const std::string& range, std::uint64_t size, const std::string& where) {
  std::string_view spec(range);
  const Error bad =
      Error::invalid_argument("the range " + quoted(range) + " is invalid; use bytes=FIRST-LAST, bytes=FIRST- or bytes=-COUNT")
          .with_code("InvalidArgument");
  if (!spec.starts_with("bytes=")) return bad;
  spec.remove_prefix(6);
  const auto dash = spec.find('-');
  if (dash == std::string_view::npos) return bad;
  const auto first_text = spec.substr(0, dash), last_text = spec.substr(dash + 1);
  const Error unsatisfiable = Error::invalid_argument("the range " + quoted(range) + " is outside " + where + ", which is " +
                                                      std::to_string(size) + " bytes long; ask for bytes below " +
                                                      std::to_string(size))
                                  .with_code("InvalidRange");
  if (first_text.empty()) {  // a suffix: the last COUNT bytes
    auto count = number(last_text);
    if (!count) return bad;
    if (*count == 0 || size == 0) return unsatisfiable;
    return Span{size - std::min(*count, size), size - 1};
  }
  auto first = number(first_text);
  if (!first) return bad;
  std::uint64_t last = size == 0 ? 0 : size - 1;
  if (!last_text.empty()) {
    auto l = number(last_text);
    if (!l || *l < *first) return bad;
    last = std::min(*l, last);
  }
  if (*first >= size) return unsatisfiable;
  return Span{*first, last};
}

// Cheap and changing with every write (the rename gives a new inode); see local_store.hpp.
std::string etag_of(const struct stat& st) {
  const std::string id = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) +
                         ":" + std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
  return sigv4::sha256_hex(id).substr(0, 32);
}

std::string modified_of(const struct stat& st) { return infra::iso8601_utc(st.st_mtim.tv_sec, st.st_mtim.tv_nsec); }

std::string content_type_of(int fd, const std::string& key) {
  char buf[256];
  const ssize_t n = fgetxattr(fd, kContentTypeAttr, buf, sizeof buf);
  if (n > 0) {
    std::string value(buf, static_cast<std::size_t>(n));
    if (!has_control(value)) return value;
  }
  return guess_content_type(key);
}

// Opens `name` in `dir` as a directory without following a link. errno tells why it failed.
Fd open_dir_at(int dir, const std::string& name) {
  return Fd(::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

bool is_symlink_at(int dir, const std::string& name) {
  struct stat st;
  return ::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
}

std::string os_error(int err) { return std::strerror(err); }

std::string shown(const std::string& bucket, const std::string& key) { return quoted(bucket + "/" + key); }

Error link_refused(const std::string& bucket, const std::string& path) {
  return Error::refused(shown(bucket, path) + " is a symbolic link, which the local store never follows; use the real path")
      .with_code("AccessDenied");
}

// A file-system call that failed for a reason of the machine's (EIO, ENOSPC, EACCES): the store
// cannot serve this now, and the caller can do nothing but try again later.
Error os_failure(const std::string& what, int err) { return Error::unavailable(what + ": " + os_error(err)); }

// The folders of `key` (all segments but the last), opened in turn from the bucket: each opened
// folder, the bucket's child first. Missing folders give NotFound, or are created when `create` is set.
Result<std::vector<Fd>> walk(int bucket_fd, const std::string& bucket, const std::vector<std::string>& segments,
                             bool create) {
  std::vector<Fd> chain;
  std::string path;
  for (std::size_t i = 0; i + 1 < segments.size(); ++i) {
    const int parent = chain.empty() ? bucket_fd : chain.back().get();
    const std::string& seg = segments[i];
    path += (path.empty() ? "" : "/") + seg;
    if (create && ::mkdirat(parent, seg.c_str(), 0755) != 0 && errno != EEXIST)
      return os_failure("cannot create the folder " + shown(bucket, path), errno);
    Fd next = open_dir_at(parent, seg);
    if (!next) {
      const int err = errno;
      if (is_symlink_at(parent, seg)) return link_refused(bucket, path);
      if (err == ENOENT) return Error::not_found("no folder " + shown(bucket, path) + " exists").with_code("NoSuchKey");
      if (err == ENOTDIR) {
        std::string message = shown(bucket, path) + " is an object, so it cannot also be a folder of other keys";
        if (create) return Error::invalid_argument(std::move(message)).with_code("InvalidArgument");
        return Error::not_found(std::move(message)).with_code("NoSuchKey");
      }
      return os_failure("cannot open the folder " + shown(bucket, path), err);
    }
    chain.push_back(std::move(next));
  }
  return chain;
}

struct Entry {
  std::string name;  // the key, or the common prefix
  bool is_prefix = false;
  ObjectSummary object;
};

// Whether a folder holds at least one object somewhere below it (empty folders are no prefix).
bool holds_object(int dir, int depth) {
  if (depth > kMaxDepth) return false;
  int dup_fd = ::dup(dir);
  if (dup_fd < 0) return false;
  DIR* d = ::fdopendir(dup_fd);
  if (!d) {
    ::close(dup_fd);
    return false;
  }
  bool found = false;
  while (!found) {
    dirent* e = ::readdir(d);
    if (!e) break;
    std::string name = e->d_name;
    if (name == "." || name == ".." || std::string_view(name).starts_with(kTempPrefix)) continue;
    struct stat st;
    if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISREG(st.st_mode)) found = true;
    else if (S_ISDIR(st.st_mode))
      if (Fd sub = open_dir_at(dir, name)) found = holds_object(sub.get(), depth + 1);
  }
  ::closedir(d);
  return found;
}

struct ListWalk {
  const std::string& prefix;
  bool fold_folders;  // delimiter "/": a folder below the prefix is one common prefix, not walked
  std::vector<Entry>& out;

  void collect(int dir, const std::string& dir_key, int depth) {
    if (depth > kMaxDepth) return;
    int dup_fd = ::dup(dir);
    if (dup_fd < 0) return;
    DIR* d = ::fdopendir(dup_fd);
    if (!d) {
      ::close(dup_fd);
      return;
    }
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == ".." || std::string_view(name).starts_with(kTempPrefix)) continue;
      std::string key = dir_key + name;
      if (!list_prefix_problem(key).empty()) continue;  // no valid key names it: it could never be read
      struct stat st;
      if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      if (S_ISREG(st.st_mode)) {
        if (!key.starts_with(prefix)) continue;
        out.push_back(Entry{key, false, ObjectSummary{key, static_cast<std::uint64_t>(st.st_size), modified_of(st), etag_of(st)}});
      } else if (S_ISDIR(st.st_mode)) {
        std::string sub_key = key + "/";
        const bool below = sub_key.starts_with(prefix);
        if (!below && !prefix.starts_with(sub_key)) continue;  // nothing under it can match
        Fd sub = open_dir_at(dir, name);
        if (!sub) continue;
        if (below && fold_folders && sub_key.size() > prefix.size()) {
          if (holds_object(sub.get(), depth + 1)) out.push_back(Entry{sub_key, true, {}});
        } else {
          collect(sub.get(), sub_key, depth + 1);
        }
      }
    }
    ::closedir(d);
  }
};

}  // namespace

std::string guess_content_type(const std::string& key) {
  static const std::map<std::string, std::string> kTypes = {
      {"txt", "text/plain"},        {"text", "text/plain"},         {"log", "text/plain"},
      {"md", "text/markdown"},      {"markdown", "text/markdown"},  {"csv", "text/csv"},
      {"tsv", "text/tab-separated-values"}, {"html", "text/html"},  {"htm", "text/html"},
      {"css", "text/css"},          {"js", "text/javascript"},      {"mjs", "text/javascript"},
      {"json", "application/json"}, {"xml", "application/xml"},     {"yaml", "application/yaml"},
      {"yml", "application/yaml"},  {"toml", "application/toml"},   {"pdf", "application/pdf"},
      {"zip", "application/zip"},   {"gz", "application/gzip"},     {"tar", "application/x-tar"},
      {"png", "image/png"},         {"jpg", "image/jpeg"},          {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},         {"webp", "image/webp"},         {"svg", "image/svg+xml"},
      {"mp3", "audio/mpeg"},        {"wav", "audio/wav"},           {"mp4", "video/mp4"},
      {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
      {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
  };
  const auto slash = key.rfind('/');
  const auto dot = key.rfind('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "application/octet-stream";
  std::string ext = key.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto it = kTypes.find(ext);
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

std::string LocalStore::key_problem(const std::string& key) {
  if (auto p = object_key_problem(key); !p.empty()) return p;
  if (key.ends_with('/')) return "the key " + quoted(key) + " ends with '/', which names a folder, not an object";
  for (const auto& seg : split(key))
    if (auto p = segment_problem(seg, "key"); !p.empty()) return p;
  return {};
}

std::string LocalStore::bucket_problem(const std::string& bucket) { return bucket_name_problem(bucket); }

LocalStore::LocalStore(LocalStoreOptions options) : options_(std::move(options)) {
  if (options_.root.empty()) throw std::invalid_argument("'root' is empty; give the folder that holds the buckets");
  std::error_code ec;
  std::filesystem::create_directories(options_.root, ec);
  if (ec) throw std::invalid_argument("cannot create the root folder " + options_.root + ": " + ec.message());
  root_fd_ = ::open(options_.root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd_ < 0) throw std::invalid_argument("cannot open the root folder " + options_.root + ": " + os_error(errno));
}

LocalStore::~LocalStore() {
  if (root_fd_ >= 0) ::close(root_fd_);
}

void LocalStore::ensure_bucket(const std::string& bucket) {
  if (auto p = bucket_problem(bucket); !p.empty()) throw std::invalid_argument(p);
  if (::mkdirat(root_fd_, bucket.c_str(), 0755) != 0 && errno != EEXIST)
    throw std::invalid_argument("cannot create the bucket folder " + bucket + " in " + options_.root + ": " + os_error(errno));
}

namespace {

// The bucket's folder, or why it cannot be used.
Result<Fd> open_bucket(int root_fd, const std::string& root, const std::string& bucket) {
  if (auto p = LocalStore::bucket_problem(bucket); !p.empty())
    return Error::invalid_argument(p).with_code("InvalidBucketName");
  Fd folder = open_dir_at(root_fd, bucket);
  if (folder) return folder;
  const int err = errno;
  if (is_symlink_at(root_fd, bucket))
    return Error::refused("the bucket " + quoted(bucket) + " is a symbolic link, which the local store never follows")
        .with_code("AccessDenied");
  // The root is a path on the server: the log gets it, the caller does not.
  if (err == ENOENT || err == ENOTDIR)
    return Error::not_found("the bucket " + quoted(bucket) + " does not exist; check the bucket name",
                            "the buckets of this store are the folders of " + root)
        .with_code("NoSuchBucket");
  return os_failure("cannot open the bucket " + quoted(bucket), err);
}

}  // namespace

Result<ListPage> LocalStore::list(const ListRequest& request) {
  auto bucket = open_bucket(root_fd_, options_.root, request.bucket);
  if (!bucket) return std::move(bucket).failure();
  const int bucket_fd = bucket->get();
  const std::string& prefix = request.prefix;
  // The shared rules only: a prefix is matched against names, and only its complete segments are
  // ever opened as folders.
  if (auto p = list_prefix_problem(prefix); !p.empty()) return Error::invalid_argument(p).with_code("InvalidArgument");
  std::string marker;
  if (!request.continuation_token.empty()) {
    auto decoded = infra::base64url_decode(request.continuation_token);
    if (!decoded || !std::string_view(*decoded).starts_with(kTokenVersion))
      return Error::invalid_argument(
                 "the continuation_token is not one this store issued; pass the next_continuation_token of the "
                 "previous page unchanged")
          .with_code("InvalidArgument");
    marker = decoded->substr(kTokenVersion.size());
  }
  const int max_keys = std::clamp(request.max_keys, 1, 1000);

  // Walk from the deepest folder the prefix names in full: "a/b/c" starts in "a/b/".
  const auto last_slash = prefix.rfind('/');
  const std::string start_key = last_slash == std::string::npos ? "" : prefix.substr(0, last_slash + 1);
  const std::vector<std::string> segments = split(start_key);  // "a/b/" → a, b, "" (the last is dropped by walk)
  auto chain = walk(bucket_fd, request.bucket, segments, false);
  if (!chain) {
    const auto kind = chain.error().kind;
    if (kind != core::ErrorKind::NotFound && kind != core::ErrorKind::Refused) return std::move(chain).failure();
    return ListPage{};  // nothing exists under that prefix
  }
  const int start_fd = chain->empty() ? bucket_fd : chain->back().get();

  std::vector<Entry> entries;
  ListWalk walker{prefix, request.delimiter == "/", entries};
  walker.collect(start_fd, start_key, 0);

  if (!request.delimiter.empty()) {
    for (auto& e : entries) {
      if (e.is_prefix) continue;
      const auto pos = e.name.find(request.delimiter, prefix.size());
      if (pos == std::string::npos) continue;
      e.name.resize(pos + request.delimiter.size());
      e.is_prefix = true;
    }
  }
  // Byte order, as S3 lists (std::string compares as unsigned bytes).
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.name < b.name; });
  entries.erase(std::unique(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.name == b.name; }),
                entries.end());

  ListPage page;
  auto it = marker.empty() ? entries.begin()
                           : std::upper_bound(entries.begin(), entries.end(), marker,
                                              [](const std::string& m, const Entry& e) { return m < e.name; });
  std::string last;
  int taken = 0;
  for (; it != entries.end() && taken < max_keys; ++it, ++taken) {
    last = it->name;
    if (it->is_prefix) page.common_prefixes.push_back(it->name);
    else page.objects.push_back(std::move(it->object));
  }
  if (it != entries.end()) {
    page.is_truncated = true;
    page.next_continuation_token = infra::base64url_encode(std::string(kTokenVersion) + last);
  }
  return page;
}

namespace {

// The object's file, opened for reading, with its status; or why there is none.
struct OpenedObject {
  Fd fd;
  struct stat st {};
};

Error no_such_key(const std::string& bucket, const std::string& key) {
  return Error::not_found("no object " + shown(bucket, key) + " exists; list the bucket to see its keys").with_code("NoSuchKey");
}

Result<OpenedObject> open_object(int bucket_fd, const std::string& bucket, const std::string& key) {
  if (auto p = LocalStore::key_problem(key); !p.empty()) return Error::invalid_argument(p).with_code("InvalidArgument");
  const auto segments = split(key);
  auto chain = walk(bucket_fd, bucket, segments, false);
  if (!chain) {
    if (chain.error().kind == core::ErrorKind::NotFound) return no_such_key(bucket, key);
    return std::move(chain).failure();
  }
  const int dir = chain->empty() ? bucket_fd : chain->back().get();
  // O_NONBLOCK: opening a FIFO must not hang the worker; it is refused below anyway.
  OpenedObject out;
  out.fd = Fd(::openat(dir, segments.back().c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!out.fd) {
    const int err = errno;
    if (err == ELOOP || is_symlink_at(dir, segments.back())) return link_refused(bucket, key);
    if (err == ENOENT || err == ENOTDIR) return no_such_key(bucket, key);
    return os_failure("cannot open " + shown(bucket, key), err);
  }
  if (::fstat(out.fd.get(), &out.st) != 0) return os_failure("cannot read " + shown(bucket, key), errno);
  if (!S_ISREG(out.st.st_mode))
    return Error::not_found("no object " + shown(bucket, key) + " exists (" +
                            (S_ISDIR(out.st.st_mode) ? "it is a folder" : "it is not a regular file") +
                            "); list the bucket to see its keys")
        .with_code("NoSuchKey");
  return out;
}

ObjectMeta info_of(const std::string& key, int fd, const struct stat& st) {
  return ObjectMeta{key, static_cast<std::uint64_t>(st.st_size), content_type_of(fd, key), etag_of(st), modified_of(st)};
}

}  // namespace

Result<ObjectData> LocalStore::get(const std::string& bucket, const std::string& key, const std::string& range) {
  auto folder = open_bucket(root_fd_, options_.root, bucket);
  if (!folder) return std::move(folder).failure();
  auto object = open_object(folder->get(), bucket, key);
  if (!object) return std::move(object).failure();
  const std::uint64_t size = static_cast<std::uint64_t>(object->st.st_size);
  Span span{0, size == 0 ? 0 : size - 1};
  std::uint64_t length = size;
  ObjectData data;
  if (!range.empty()) {
    auto parsed = parse_range(range, size, shown(bucket, key));
    if (!parsed) return std::move(parsed).failure();
    span = *parsed;
    length = span.last - span.first + 1;
    data.content_range = "bytes " + std::to_string(span.first) + "-" + std::to_string(span.last) + "/" + std::to_string(size);
  }
  if (length > options_.max_object_bytes)
    return Error::invalid_argument(shown(bucket, key) + (range.empty() ? " is " : ": the range is ") + std::to_string(length) +
                                   " bytes, above the " + std::to_string(options_.max_object_bytes) +
                                   "-byte limit (max_object_bytes); read it in parts with a range such as \"bytes=0-" +
                                   std::to_string(options_.max_object_bytes - 1) + "\"")
        .with_code("ObjectTooLarge");
  data.info = info_of(key, object->fd.get(), object->st);
  data.bytes.resize(length);
  std::uint64_t done = 0;
  while (done < length) {
    const ssize_t n = ::pread(object->fd.get(), data.bytes.data() + done, length - done, static_cast<off_t>(span.first + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return os_failure("cannot read " + shown(bucket, key), errno);
    if (n == 0) break;  // the file shrank while we read it
    done += static_cast<std::uint64_t>(n);
  }
  data.bytes.resize(done);
  return data;
}

Result<ObjectMeta> LocalStore::head(const std::string& bucket, const std::string& key) {
  auto folder = open_bucket(root_fd_, options_.root, bucket);
  if (!folder) return std::move(folder).failure();
  auto object = open_object(folder->get(), bucket, key);
  if (!object) return std::move(object).failure();
  return info_of(key, object->fd.get(), object->st);
}

Result<PutOutcome> LocalStore::put(const std::string& bucket, const std::string& key, std::string_view bytes,
                                   const std::string& content_type) {
  auto folder = open_bucket(root_fd_, options_.root, bucket);
  if (!folder) return std::move(folder).failure();
  if (auto p = key_problem(key); !p.empty()) return Error::invalid_argument(p).with_code("InvalidArgument");
  const auto segments = split(key);
  auto chain = walk(folder->get(), bucket, segments, true);
  if (!chain) return std::move(chain).failure();
  const int dir = chain->empty() ? folder->get() : chain->back().get();
  const std::string& name = segments.back();

  // Written in full under a temporary name in the same folder, then renamed over the key: a reader
  // sees the old object or the new one, never half of one.
  const std::string temp = std::string(kTempPrefix) + infra::random_hex(8);
  Fd out(::openat(dir, temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!out) return os_failure("cannot write " + shown(bucket, key), errno);
  auto fail = [&](int err) -> Error {
    out.reset();
    ::unlinkat(dir, temp.c_str(), 0);
    return os_failure("cannot write " + shown(bucket, key), err);
  };
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(out.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(errno);
    done += static_cast<std::size_t>(n);
  }
  if (!content_type.empty() && !has_control(content_type))  // best effort: not every file system keeps it
    ::fsetxattr(out.get(), kContentTypeAttr, content_type.data(), content_type.size(), 0);
  if (::fsync(out.get()) != 0) return fail(errno);
  struct stat st;
  if (::fstat(out.get(), &st) != 0) return fail(errno);
  out.reset();
  if (::renameat(dir, temp.c_str(), dir, name.c_str()) != 0) {
    const int err = errno;
    ::unlinkat(dir, temp.c_str(), 0);
    if (err == EISDIR || err == ENOTEMPTY || err == EEXIST)
      return Error::invalid_argument(shown(bucket, key) +
                                     " is a folder of other keys, so it cannot also be an object; choose another key")
          .with_code("InvalidArgument");
    return os_failure("cannot write " + shown(bucket, key), err);
  }
  ::fsync(dir);  // the rename itself survives a crash
  return PutOutcome{etag_of(st), static_cast<std::uint64_t>(st.st_size)};
}

Status LocalStore::remove(const std::string& bucket, const std::string& key) {
  auto folder = open_bucket(root_fd_, options_.root, bucket);
  if (!folder) return std::move(folder).failure();
  if (auto p = key_problem(key); !p.empty()) return Error::invalid_argument(p).with_code("InvalidArgument");
  const auto segments = split(key);
  auto chain = walk(folder->get(), bucket, segments, false);
  if (!chain) {
    if (chain.error().kind == core::ErrorKind::NotFound) return {};  // nothing to delete, as on S3
    return std::move(chain).failure();
  }
  const int dir = chain->empty() ? folder->get() : chain->back().get();
  struct stat st;
  if (::fstatat(dir, segments.back().c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return {};
    return os_failure("cannot delete " + shown(bucket, key), errno);
  }
  if (S_ISLNK(st.st_mode)) return link_refused(bucket, key);
  if (!S_ISREG(st.st_mode)) return {};  // a folder or a device is no object: there is none to delete
  if (::unlinkat(dir, segments.back().c_str(), 0) != 0 && errno != ENOENT)
    return os_failure("cannot delete " + shown(bucket, key), errno);
  // Folders the delete left empty go too, deepest first, never the bucket itself.
  for (std::size_t i = chain->size(); i-- > 0;) {
    const int parent = i == 0 ? folder->get() : (*chain)[i - 1].get();
    if (::unlinkat(parent, segments[i].c_str(), AT_REMOVEDIR) != 0) break;  // not empty (or busy): stop
  }
  return {};
}

Result<std::string> LocalStore::presign_get(const std::string&, const std::string&, long) {
  return Error::refused(
             "presigned URLs exist only for S3 stores; this store is a local folder, so read the object with "
             "s3_get_object instead")
      .with_code("NotImplemented");
}

std::string LocalStore::health(const std::string& probe_bucket) {
  struct stat by_fd, by_path;
  if (::fstat(root_fd_, &by_fd) != 0 || by_fd.st_nlink == 0) return "root folder " + options_.root + " was removed";
  if (::stat(options_.root.c_str(), &by_path) != 0) return "root folder " + options_.root + " is missing";
  if (by_fd.st_ino != by_path.st_ino || by_fd.st_dev != by_path.st_dev)
    return "root folder " + options_.root + " was replaced; restart mcpd to use the new one";
  if (!probe_bucket.empty()) {
    Fd holder = open_dir_at(root_fd_, probe_bucket);
    if (!holder) return "bucket " + probe_bucket + " not found in " + options_.root;
  }
  return "ok";
}

}  // namespace mcpd::packs::storage
