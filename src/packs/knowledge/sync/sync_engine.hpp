// Brings the index in line with a source: new and changed files are read, extracted and chunked on
// a reader thread while the calling thread writes them in batches of documents, one transaction
// per batch (a crash loses at most the batch being written; the next sync redoes it); files gone from the source are deleted; refusals are recorded.
// Incremental: a file whose version (git blob id, or size+mtime) is unchanged is not read again.
#pragma once
#include <atomic>
#include <functional>
#include <string>

#include "core/result.hpp"
#include "packs/knowledge/embed/embedder.hpp"
#include "packs/knowledge/extract/chunker.hpp"
#include "packs/knowledge/extract/extract.hpp"
#include "packs/knowledge/index/index_store.hpp"
#include "packs/knowledge/sources/source.hpp"

namespace mcpd::packs::knowledge {

struct SyncCounts {
  std::size_t added = 0, updated = 0, deleted = 0, unchanged = 0, skipped = 0, embedded = 0;
};

// The record of one source's sync, as sync_status and the job answers show it.
struct SyncResult {
  std::string source;
  std::string revision;
  SyncCounts counts;
  bool ok = false;
  bool cancelled = false;
  std::string error;  // the failure's message (its detail went to the server log)
  double seconds = 0;
};

class SyncEngine {
 public:
  SyncEngine(IndexStore& store, ExtractOptions extract_options, ChunkOptions chunk_options, Embedder* embedder = nullptr)
      : store_(store), extract_options_(extract_options), chunk_options_(chunk_options), embedder_(embedder) {}

  // `progress(done, total)` after each batch; `cancel` is polled between batches. Never throws: a
  // failure (the source, the index, the embedder) is recorded as the source's last error and
  // returned in the result, since this runs on a job's own thread.
  SyncResult sync(Source& source, const std::function<void(std::size_t, std::size_t)>& progress = {},
                  const std::atomic<bool>* cancel = nullptr);

  // Embeds every chunk that has no vector yet (all sources), in batches, counting them in
  // `embedded` as they are stored. On failure (or Cancelled) what was embedded so far is kept.
  core::Status embed_missing(const std::atomic<bool>* cancel, std::size_t& embedded);

 private:
  // sync() without its edge: SQLite failures still throw here.
  core::Status run(Source& source, const std::function<void(std::size_t, std::size_t)>& progress,
                   const std::atomic<bool>* cancel, SyncResult& result);

  IndexStore& store_;
  ExtractOptions extract_options_;
  ChunkOptions chunk_options_;
  Embedder* embedder_;
};

}  // namespace mcpd::packs::knowledge
