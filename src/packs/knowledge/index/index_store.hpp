// The knowledge index in one SQLite file (WAL): documents, chunks, an FTS5 BM25 index, skipped
// files and per-source sync state. Each document is replaced in one transaction, so a crash
// mid-sync leaves every document either fully old or fully new.
#pragma once
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "infra/sqlite.hpp"
#include "packs/knowledge/extract/chunker.hpp"
#include "packs/knowledge/index/lexical_query.hpp"

namespace mcpd::packs::knowledge {

struct DocumentInput {
  std::string path;
  std::string title;
  std::string kind;      // "markdown", "text", "code", "html", "pdf"
  std::string version;   // the source's version of the file
  std::string revision;  // the source revision it was indexed at (git commit), may be empty
  std::uint64_t size = 0;
  std::string text;
};

struct PendingDocument {
  DocumentInput input;
  std::vector<Chunk> chunks;
};

struct DocumentInfo {
  std::int64_t id = 0;
  std::string source, path, title, kind, version, revision, indexed_at;
  std::uint64_t size = 0;
  std::int64_t chunks = 0;
};

struct Filters {
  std::string source;
  std::string path_prefix;
  std::string file_type;      // a kind ("markdown") or an extension ("md")
  std::string updated_after;  // ISO-8601; compared with indexed_at
};

struct Hit {
  std::int64_t chunk_id = 0;
  std::int64_t document_id = 0;
  std::string source, path, title, heading, snippet, indexed_at, revision;
  int line_start = 0, line_end = 0;
  double score = 0;  // larger is better
};

struct SourceState {
  std::string name, kind, revision, last_success_at, last_failure_at, last_error;
  std::int64_t documents = 0, chunks = 0, skipped = 0;
};

struct SkippedFile {
  std::string source, path, reason, at;
};

class Snippeter;

class IndexStore {
 public:
  explicit IndexStore(const std::string& path);
  ~IndexStore();

  // Replaces (or adds) documents and their chunks in one transaction: after a crash each document
  // is either fully old or fully new (and so is the whole batch). Batching matters for speed: the
  // full-text index is written with one statement per batch, and FTS5 writes a segment per statement.
  void put_documents(const std::string& source, const std::vector<PendingDocument>& documents);
  void put_document(const std::string& source, const DocumentInput& doc, const std::vector<Chunk>& chunks);
  void delete_document(const std::string& source, const std::string& path);
  // path -> version, for the incremental comparison.
  std::map<std::string, std::string> versions(const std::string& source);

  void record_skipped(const std::string& source, const std::string& path, const std::string& reason);
  void clear_skipped(const std::string& source, const std::string& path);
  std::vector<SkippedFile> skipped(const std::string& source, std::size_t limit);

  void ensure_source(const std::string& name, const std::string& kind);
  void record_success(const std::string& source, const std::string& revision);
  void record_failure(const std::string& source, const std::string& error);
  std::vector<SourceState> sources();

  // Chunks matching `query`, best first by BM25 (mcpd_bm25 with cached chunk counts). The hits
  // carry no snippet yet: add_snippets() makes them for the hits actually shown.
  std::vector<Hit> search(const LexicalQuery& query, const Filters& filters, std::size_t limit, std::size_t offset = 0);
  // Replaces the snippet of each hit that contains a word of `query` with its best passage, the
  // words marked **like this** (see snippet.hpp); other hits keep theirs, or get the chunk's start.
  void add_snippets(const LexicalQuery& query, std::vector<Hit>& hits);
  // How many chunks contain each term (each one an FTS5 phrase); counted once and cached until
  // the index changes (here or in another process).
  std::vector<std::int64_t> chunk_counts(const std::vector<std::string>& terms);
  // The SQL of search() (with or without the filter joins), for the benchmark's direct-SQLite
  // floor. Parameters: ?1-?4 filters, ?5 expression, ?6 encoded counts, ?7 limit, ?8 offset.
  static const char* search_sql(bool filtered);
  static const char* count_sql();  // ?1: a phrase; the number of chunks containing it
  std::vector<DocumentInfo> list(const Filters& filters, std::size_t limit, std::size_t offset, std::int64_t& total);
  std::optional<DocumentInfo> find(const std::string& source, const std::string& path);
  std::optional<std::string> text(std::int64_t document_id);

  // --- embeddings (keyed by chunk hash, so unchanged chunks keep theirs across resyncs) ---
  // The "provider:model" and dimension the stored vectors come from; nullopt when none recorded.
  std::optional<std::pair<std::string, std::size_t>> embedding_model();
  void set_embedding_model(const std::string& model, std::size_t dimension);
  void clear_embeddings();
  // Among the next `limit` chunks after chunk id `after`, those whose hash has no vector yet:
  // (hash, text to embed), one per hash. `after` moves to the last chunk looked at; start at 0.
  std::vector<std::pair<std::string, std::string>> chunks_without_embedding(std::size_t limit, std::int64_t& after);
  void put_embeddings(const std::vector<std::pair<std::string, std::vector<float>>>& vectors);
  // Calls `fn(chunk_id, vector)` for every chunk that has a vector.
  void for_each_vector(const std::function<void(std::int64_t, const float*, std::size_t)>& fn);
  // Metadata of the given chunks (as search hits, snippet = start of the chunk), filtered.
  std::vector<Hit> hits_for_chunks(const std::vector<std::int64_t>& chunk_ids, const Filters& filters);
  // SQLite's quick_check plus the FTS5 index check; empty when consistent, else what is wrong.
  std::string check_integrity();
  // Changes whenever documents or vectors change (the in-memory vector index rebuilds on it).
  std::uint64_t generation() const { return generation_.load(); }

 private:
  void delete_documents(const std::vector<std::int64_t>& ids);  // with their chunks; inside a transaction
  void check_counts();                                          // drops the cache if stale; mutex_ held
  std::int64_t chunk_count(const std::string& term);            // cached; mutex_ held, after check_counts()

  std::mutex mutex_;
  infra::SqliteDatabase db_;
  std::unique_ptr<Snippeter> snippeter_;  // uses db_'s tokenizer
  std::atomic<std::uint64_t> generation_{1};
  // chunk_counts() cache, valid for (generation_, PRAGMA data_version).
  std::unordered_map<std::string, std::int64_t> counts_;
  std::uint64_t counts_generation_ = 0;
  std::int64_t counts_data_version_ = -1;
};

}  // namespace mcpd::packs::knowledge
