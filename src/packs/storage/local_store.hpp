// The embedded object store: a directory on this machine. Buckets are its sub-folders, keys are
// paths of files under them. No key, bucket or symbolic link ever reaches outside the root: every
// path is walked one component at a time from the root's file descriptor, and links are refused.
//
// S3 semantics it emulates: listing in byte order with prefix, delimiter (common prefixes),
// max_keys and an opaque continuation token; byte ranges; deleting a missing key succeeds; writes
// are atomic (a temporary file renamed over the key). Decisions of its own:
//   - Keys follow the rules every store shares (object_key.hpp: no dot segments, empty segments,
//     backslashes, control characters or URL escapes), and besides do not end with '/' (that names
//     a folder), have no segment above 255 bytes, and do not use the temporary files' prefix. Files
//     whose names no valid key can name are left out of listings.
//   - Symbolic links, devices and FIFOs under the root are not objects: listings skip them, reads
//     and writes through them are refused.
//   - ETags are derived from the file's inode, size and modification time (cheap to list, change
//     with every write); they are not the MD5 of the content as on S3.
//   - The content type given to put is kept in the file's "user.mime_type" extended attribute where
//     the file system supports it; otherwise it is guessed from the key's extension.
//   - Folders left empty by a delete are removed (a prefix disappears with its last object, as on S3).
#pragma once
#include <cstdint>
#include <string>

#include "packs/storage/object_store.hpp"

namespace mcpd::packs::storage {

struct LocalStoreOptions {
  std::string root;                                // created when missing
  std::uint64_t max_object_bytes = 10ull << 20;    // get refuses larger objects and ranges
};

class LocalStore final : public ObjectStore {
 public:
  // Throws std::invalid_argument when the root cannot be created or opened as a directory (start-up:
  // the calls below answer with Results and never throw).
  explicit LocalStore(LocalStoreOptions options);
  ~LocalStore() override;
  LocalStore(const LocalStore&) = delete;
  LocalStore& operator=(const LocalStore&) = delete;

  std::string_view type() const override { return "local"; }
  std::string location() const override { return options_.root; }

  Result<ListPage> list(const ListRequest& request) override;
  Result<ObjectData> get(const std::string& bucket, const std::string& key, const std::string& range) override;
  Result<ObjectMeta> head(const std::string& bucket, const std::string& key) override;
  Result<PutOutcome> put(const std::string& bucket, const std::string& key, std::string_view bytes,
                         const std::string& content_type) override;
  Status remove(const std::string& bucket, const std::string& key) override;
  Result<std::string> presign_get(const std::string& bucket, const std::string& key, long expires_seconds) override;
  std::string health(const std::string& probe_bucket) override;

  // Creates the bucket's folder when it does not exist (for the zero-configuration default). At
  // start-up only: throws std::invalid_argument when it cannot.
  void ensure_bucket(const std::string& bucket);

  // Why `key` is not a valid key (empty when it is); exposed for the tools' own checks and tests.
  static std::string key_problem(const std::string& key);
  static std::string bucket_problem(const std::string& bucket);

 private:
  LocalStoreOptions options_;
  int root_fd_ = -1;
};

// The MIME type for a key's extension ("report.pdf" → "application/pdf"); octet-stream otherwise.
std::string guess_content_type(const std::string& key);

}  // namespace mcpd::packs::storage
