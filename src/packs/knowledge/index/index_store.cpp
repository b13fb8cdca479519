// IndexStore implementation.
#include "packs/knowledge/index/index_store.hpp"

#include <set>

#include "infra/text.hpp"
#include "infra/time.hpp"
#include "packs/knowledge/index/fts_rank.hpp"
#include "packs/knowledge/index/snippet.hpp"

namespace mcpd::packs::knowledge {

using infra::now_iso8601;
using infra::SqliteTransaction;

IndexStore::IndexStore(const std::string& path) : db_(path) {
  db_.exec(R"SQL(
CREATE TABLE IF NOT EXISTS sources(
  name TEXT PRIMARY KEY, kind TEXT NOT NULL, revision TEXT NOT NULL DEFAULT '',
  last_success_at TEXT NOT NULL DEFAULT '', last_failure_at TEXT NOT NULL DEFAULT '', last_error TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS documents(
  id INTEGER PRIMARY KEY, source TEXT NOT NULL, path TEXT NOT NULL, title TEXT NOT NULL, kind TEXT NOT NULL,
  version TEXT NOT NULL, revision TEXT NOT NULL, size INTEGER NOT NULL, text TEXT NOT NULL, indexed_at TEXT NOT NULL,
  UNIQUE(source, path));
CREATE TABLE IF NOT EXISTS chunks(
  id INTEGER PRIMARY KEY, document_id INTEGER NOT NULL, ord INTEGER NOT NULL, title TEXT NOT NULL,
  heading TEXT NOT NULL, line_start INTEGER NOT NULL, line_end INTEGER NOT NULL, text TEXT NOT NULL, hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_by_document ON chunks(document_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(title, heading, text, content='chunks', content_rowid='id',
  tokenize='porter unicode61');
-- chunks_fts is kept in step with chunks by put_documents/delete_documents, one statement per
-- batch (per-row triggers made FTS5 write a segment per chunk). Indexes made before that drop them.
DROP TRIGGER IF EXISTS chunks_ai;
DROP TRIGGER IF EXISTS chunks_ad;
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS embeddings(hash TEXT PRIMARY KEY, vector BLOB NOT NULL);
-- (chunks_by_hash was dropped: kept up to date at random positions it cost a quarter of a full index
-- build, and nothing needs it: chunks_without_embedding walks chunks by id.)
DROP INDEX IF EXISTS chunks_by_hash;
CREATE TABLE IF NOT EXISTS skipped(
  source TEXT NOT NULL, path TEXT NOT NULL, reason TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY(source, path));
)SQL");
  // Bulk writes (put_documents batches of up to tens of MB): checkpoint the WAL every 64 MB rather
  // than every 4 MB, so pages rewritten by successive batches are copied back once, and let FTS5
  // hold up to 64 MB of pending terms before it writes a segment (fewer, larger segments to merge).
  // On the man page corpus the two took the index build from 7.2 s to 5.9 s. Searches read the
  // index through a memory map (256 MB at most) instead of copying pages in with pread.
  db_.exec("PRAGMA wal_autocheckpoint = 16384; PRAGMA mmap_size = 268435456");
  {
    // A persistent FTS5 setting: written once, so that opening an index is no write (another
    // process may be syncing it).
    auto q = db_.prepare("SELECT v FROM chunks_fts_config WHERE k = 'hashsize'");
    if (!q.step() || q.int64(0) != 67108864) {
      q.reset();
      db_.exec("INSERT INTO chunks_fts(chunks_fts, rank) VALUES('hashsize', 67108864)");
    }
  }
  register_fts_rank(db_.handle());
  snippeter_ = std::make_unique<Snippeter>(db_.handle());
}

namespace {
// A JSON array of ids, for `IN (SELECT value FROM json_each(?))`.
std::string json_ids(const std::vector<std::int64_t>& ids) {
  std::string out = "[";
  for (auto id : ids) {
    if (out.size() > 1) out.push_back(',');
    out.append(std::to_string(id));
  }
  out.push_back(']');
  return out;
}
}  // namespace

void IndexStore::delete_documents(const std::vector<std::int64_t>& ids) {
  if (ids.empty()) return;
  std::string list = json_ids(ids);
  db_.cached("INSERT INTO chunks_fts(chunks_fts, rowid, title, heading, text) "
             "SELECT 'delete', id, title, heading, text FROM chunks WHERE document_id IN (SELECT value FROM json_each(?1))")
      ->bind(1, list).run();
  db_.cached("DELETE FROM chunks WHERE document_id IN (SELECT value FROM json_each(?1))")->bind(1, list).run();
  db_.cached("DELETE FROM documents WHERE id IN (SELECT value FROM json_each(?1))")->bind(1, list).run();
}

void IndexStore::put_documents(const std::string& source, const std::vector<PendingDocument>& documents) {
  if (documents.empty()) return;
  std::lock_guard lock(mutex_);
  SqliteTransaction txn(db_);
  std::vector<std::int64_t> old;
  {
    auto find = db_.cached("SELECT id FROM documents WHERE source = ?1 AND path = ?2");
    for (const auto& d : documents) {
      find->bind(1, source).bind(2, d.input.path);
      if (find->step()) old.push_back(find->int64(0));
      find->reset();
    }
  }
  delete_documents(old);
  const std::string now = now_iso8601();
  std::int64_t first_chunk = 0, last_chunk = 0;
  {
    auto doc_ins = db_.cached(
        "INSERT INTO documents(source, path, title, kind, version, revision, size, text, indexed_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    auto chunk_ins = db_.cached(
        "INSERT INTO chunks(document_id, ord, title, heading, line_start, line_end, text, hash) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    auto unskip = db_.cached("DELETE FROM skipped WHERE source = ?1 AND path = ?2");
    for (const auto& [doc, chunks] : documents) {
      doc_ins->bind(1, source).bind(2, doc.path).bind(3, doc.title).bind(4, doc.kind).bind(5, doc.version)
          .bind(6, doc.revision).bind(7, static_cast<std::int64_t>(doc.size)).bind(8, doc.text).bind(9, now);
      doc_ins->run();
      std::int64_t doc_id = db_.last_insert_rowid();
      int ord = 0;
      for (const auto& c : chunks) {
        chunk_ins->bind(1, doc_id).bind(2, ord++).bind(3, doc.title).bind(4, c.heading).bind(5, c.line_start)
            .bind(6, c.line_end).bind(7, c.text).bind(8, c.hash);
        chunk_ins->run();
        last_chunk = db_.last_insert_rowid();
        if (first_chunk == 0) first_chunk = last_chunk;
      }
      unskip->bind(1, source).bind(2, doc.path).run();
    }
  }
  // New chunk ids are ascending (each is the largest so far + 1), so [first, last] is this batch.
  if (first_chunk != 0)
    db_.cached("INSERT INTO chunks_fts(rowid, title, heading, text) "
               "SELECT id, title, heading, text FROM chunks WHERE id BETWEEN ?1 AND ?2")
        ->bind(1, first_chunk).bind(2, last_chunk).run();
  txn.commit();
  generation_.fetch_add(1);
}

void IndexStore::put_document(const std::string& source, const DocumentInput& doc, const std::vector<Chunk>& chunks) {
  put_documents(source, {PendingDocument{doc, chunks}});
}

void IndexStore::delete_document(const std::string& source, const std::string& path) {
  std::lock_guard lock(mutex_);
  SqliteTransaction txn(db_);
  std::vector<std::int64_t> old;
  {
    auto find = db_.cached("SELECT id FROM documents WHERE source = ?1 AND path = ?2");
    find->bind(1, source).bind(2, path);
    if (find->step()) old.push_back(find->int64(0));
  }
  delete_documents(old);
  db_.cached("DELETE FROM skipped WHERE source = ?1 AND path = ?2")->bind(1, source).bind(2, path).run();
  txn.commit();
  generation_.fetch_add(1);
}

std::map<std::string, std::string> IndexStore::versions(const std::string& source) {
  std::lock_guard lock(mutex_);
  std::map<std::string, std::string> out;
  auto q = db_.prepare("SELECT path, version FROM documents WHERE source = ?1");
  q.bind(1, source);
  while (q.step()) out[q.text(0)] = q.text(1);
  return out;
}

void IndexStore::record_skipped(const std::string& source, const std::string& path, const std::string& reason) {
  std::lock_guard lock(mutex_);
  db_.prepare("INSERT INTO skipped(source, path, reason, at) VALUES (?1, ?2, ?3, ?4) "
              "ON CONFLICT(source, path) DO UPDATE SET reason = excluded.reason, at = excluded.at")
      .bind(1, source).bind(2, path).bind(3, reason).bind(4, now_iso8601()).run();
}

void IndexStore::clear_skipped(const std::string& source, const std::string& path) {
  std::lock_guard lock(mutex_);
  db_.prepare("DELETE FROM skipped WHERE source = ?1 AND path = ?2").bind(1, source).bind(2, path).run();
}

std::vector<SkippedFile> IndexStore::skipped(const std::string& source, std::size_t limit) {
  std::lock_guard lock(mutex_);
  std::vector<SkippedFile> out;
  auto q = db_.prepare("SELECT source, path, reason, at FROM skipped WHERE ?1 = '' OR source = ?1 ORDER BY source, path LIMIT ?2");
  q.bind(1, source).bind(2, static_cast<std::int64_t>(limit));
  while (q.step()) out.push_back({q.text(0), q.text(1), q.text(2), q.text(3)});
  return out;
}

void IndexStore::ensure_source(const std::string& name, const std::string& kind) {
  std::lock_guard lock(mutex_);
  db_.prepare("INSERT INTO sources(name, kind) VALUES (?1, ?2) ON CONFLICT(name) DO UPDATE SET kind = excluded.kind")
      .bind(1, name).bind(2, kind).run();
}

void IndexStore::record_success(const std::string& source, const std::string& revision) {
  std::lock_guard lock(mutex_);
  db_.prepare("UPDATE sources SET revision = ?2, last_success_at = ?3, last_error = '' WHERE name = ?1")
      .bind(1, source).bind(2, revision).bind(3, now_iso8601()).run();
}

void IndexStore::record_failure(const std::string& source, const std::string& error) {
  std::lock_guard lock(mutex_);
  db_.prepare("UPDATE sources SET last_failure_at = ?2, last_error = ?3 WHERE name = ?1")
      .bind(1, source).bind(2, now_iso8601()).bind(3, error).run();
}

std::vector<SourceState> IndexStore::sources() {
  std::lock_guard lock(mutex_);
  std::vector<SourceState> out;
  auto q = db_.prepare(
      "SELECT s.name, s.kind, s.revision, s.last_success_at, s.last_failure_at, s.last_error, "
      "(SELECT count(*) FROM documents d WHERE d.source = s.name), "
      "(SELECT count(*) FROM chunks c JOIN documents d ON d.id = c.document_id WHERE d.source = s.name), "
      "(SELECT count(*) FROM skipped k WHERE k.source = s.name) FROM sources s ORDER BY s.name");
  while (q.step())
    out.push_back({q.text(0), q.text(1), q.text(2), q.text(3), q.text(4), q.text(5), q.int64(6), q.int64(7), q.int64(8)});
  return out;
}

namespace {
// Shared WHERE clause of search and list; parameters ?1..?4 are the filters.
constexpr const char* kFilterSql =
    "(?1 = '' OR d.source = ?1) AND (?2 = '' OR substr(d.path, 1, length(?2)) = ?2) "
    "AND (?3 = '' OR d.kind = ?3 OR d.path LIKE '%.' || ?3) AND (?4 = '' OR d.indexed_at >= ?4)";

void bind_filters(infra::SqliteStatement& q, const Filters& f) {
  q.bind(1, f.source).bind(2, f.path_prefix).bind(3, f.file_type).bind(4, f.updated_after);
}

// Columns 0-10 of a hit query: chunk id, document id, source, path, title, heading, line start and
// end, snippet, indexed_at, revision.
Hit read_hit(const infra::SqliteStatement& q) {
  Hit h;
  h.chunk_id = q.int64(0);
  h.document_id = q.int64(1);
  h.source = q.text(2);
  h.path = q.text(3);
  h.title = q.text(4);
  h.heading = q.text(5);
  h.line_start = static_cast<int>(q.int64(6));
  h.line_end = static_cast<int>(q.int64(7));
  h.snippet = q.text(8);
  h.indexed_at = q.text(9);
  h.revision = q.text(10);
  return h;
}
}  // namespace

// Ranking first (only ids and scores, LIMIT inside), the metadata joined to the few rows kept.
// With filters, the joins have to come before the LIMIT. Equal scores go by chunk id, so that a
// shorter LIMIT gives the start of a longer one's list (pages asked with different lengths agree).
const char* IndexStore::search_sql(bool filtered) {
  static const std::string unfiltered =
      "SELECT c.id, d.id, d.source, d.path, d.title, c.heading, c.line_start, c.line_end, '', d.indexed_at, "
      "d.revision, r.score FROM (SELECT rowid AS id, mcpd_bm25(chunks_fts, ?6, 4.0, 2.0, 1.0) AS score "
      "FROM chunks_fts WHERE chunks_fts MATCH ?5 ORDER BY score, rowid LIMIT ?7 OFFSET ?8) r "
      "JOIN chunks c ON c.id = r.id JOIN documents d ON d.id = c.document_id ORDER BY r.score, r.id";
  static const std::string with_filters = std::string(
      "SELECT c.id, d.id, d.source, d.path, d.title, c.heading, c.line_start, c.line_end, '', d.indexed_at, "
      "d.revision, mcpd_bm25(chunks_fts, ?6, 4.0, 2.0, 1.0) AS score "
      "FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid JOIN documents d ON d.id = c.document_id "
      "WHERE chunks_fts MATCH ?5 AND ") + kFilterSql + " ORDER BY score, c.id LIMIT ?7 OFFSET ?8";
  return filtered ? with_filters.c_str() : unfiltered.c_str();
}

const char* IndexStore::count_sql() { return "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?1"; }

void IndexStore::check_counts() {
  std::int64_t data_version = 0;
  {
    auto v = db_.cached("PRAGMA data_version");  // changes when another connection commits
    if (v->step()) data_version = v->int64(0);
  }
  if (counts_generation_ != generation_.load() || counts_data_version_ != data_version || counts_.size() > 100000) {
    counts_.clear();
    counts_generation_ = generation_.load();
    counts_data_version_ = data_version;
  }
}

std::int64_t IndexStore::chunk_count(const std::string& term) {
  std::string key = infra::ascii_lower(term);
  if (auto it = counts_.find(key); it != counts_.end()) return it->second;
  auto q = db_.cached(count_sql());
  std::string phrase = '"' + term;
  phrase.push_back('"');
  q->bind(1, phrase);
  std::int64_t n = q->step() ? q->int64(0) : 0;
  counts_.emplace(std::move(key), n);
  return n;
}

std::vector<std::int64_t> IndexStore::chunk_counts(const std::vector<std::string>& terms) {
  std::lock_guard lock(mutex_);
  check_counts();
  std::vector<std::int64_t> out;
  out.reserve(terms.size());
  for (const auto& t : terms) out.push_back(chunk_count(t));
  return out;
}

std::vector<Hit> IndexStore::search(const LexicalQuery& query, const Filters& filters, std::size_t limit, std::size_t offset) {
  std::lock_guard lock(mutex_);
  std::vector<Hit> out;
  if (query.empty()) return out;
  check_counts();
  std::vector<std::int64_t> counts;
  for (const auto& t : query.terms) counts.push_back(chunk_count(t));
  const bool filtered = !(filters.source + filters.path_prefix + filters.file_type + filters.updated_after).empty();
  auto q = db_.cached(search_sql(filtered));
  if (filtered) bind_filters(*q, filters);
  std::string frequencies = encode_frequencies(counts);
  q->bind(5, query.expression()).bind_blob(6, frequencies.data(), frequencies.size());
  q->bind(7, static_cast<std::int64_t>(limit)).bind(8, static_cast<std::int64_t>(offset));
  while (q->step()) {
    Hit h = read_hit(*q);
    h.score = -q->real(11);  // BM25 is smaller-is-better
    out.push_back(std::move(h));
  }
  return out;
}

IndexStore::~IndexStore() = default;

void IndexStore::add_snippets(const LexicalQuery& query, std::vector<Hit>& hits) {
  std::lock_guard lock(mutex_);
  auto q = db_.cached("SELECT text FROM chunks WHERE id = ?1");
  for (auto& h : hits) {
    q->bind(1, h.chunk_id);
    if (q->step()) {
      Snippet s = snippeter_->make(query.terms, q->text(0));
      if (s.marked || h.snippet.empty()) h.snippet = std::move(s.text);
    }
    q->reset();
  }
}

std::vector<DocumentInfo> IndexStore::list(const Filters& filters, std::size_t limit, std::size_t offset, std::int64_t& total) {
  std::lock_guard lock(mutex_);
  auto count = db_.prepare(std::string("SELECT count(*) FROM documents d WHERE ") + kFilterSql);
  bind_filters(count, filters);
  total = count.step() ? count.int64(0) : 0;
  std::vector<DocumentInfo> out;
  auto q = db_.prepare(std::string(
      "SELECT d.id, d.source, d.path, d.title, d.kind, d.version, d.revision, d.indexed_at, d.size, "
      "(SELECT count(*) FROM chunks c WHERE c.document_id = d.id) FROM documents d WHERE ") + kFilterSql +
      " ORDER BY d.source, d.path LIMIT ?5 OFFSET ?6");
  bind_filters(q, filters);
  q.bind(5, static_cast<std::int64_t>(limit)).bind(6, static_cast<std::int64_t>(offset));
  while (q.step())
    out.push_back({q.int64(0), q.text(1), q.text(2), q.text(3), q.text(4), q.text(5), q.text(6), q.text(7),
                   static_cast<std::uint64_t>(q.int64(8)), q.int64(9)});
  return out;
}

std::optional<DocumentInfo> IndexStore::find(const std::string& source, const std::string& path) {
  std::lock_guard lock(mutex_);
  auto q = db_.prepare(
      "SELECT d.id, d.source, d.path, d.title, d.kind, d.version, d.revision, d.indexed_at, d.size, "
      "(SELECT count(*) FROM chunks c WHERE c.document_id = d.id) FROM documents d WHERE d.source = ?1 AND d.path = ?2");
  q.bind(1, source).bind(2, path);
  if (!q.step()) return std::nullopt;
  return DocumentInfo{q.int64(0), q.text(1), q.text(2), q.text(3), q.text(4), q.text(5), q.text(6), q.text(7),
                      static_cast<std::uint64_t>(q.int64(8)), q.int64(9)};
}

std::optional<std::string> IndexStore::text(std::int64_t document_id) {
  std::lock_guard lock(mutex_);
  auto q = db_.prepare("SELECT text FROM documents WHERE id = ?1");
  q.bind(1, document_id);
  if (!q.step()) return std::nullopt;
  return q.text(0);
}

std::optional<std::pair<std::string, std::size_t>> IndexStore::embedding_model() {
  std::lock_guard lock(mutex_);
  auto q = db_.prepare("SELECT (SELECT value FROM meta WHERE key = 'embedding_model'), (SELECT value FROM meta WHERE key = 'embedding_dimension')");
  if (!q.step() || q.is_null(0)) return std::nullopt;
  return std::make_pair(q.text(0), static_cast<std::size_t>(std::stoull(q.is_null(1) ? "0" : q.text(1))));
}

void IndexStore::set_embedding_model(const std::string& model, std::size_t dimension) {
  std::lock_guard lock(mutex_);
  SqliteTransaction txn(db_);
  auto put = db_.prepare("INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  put.bind(1, "embedding_model").bind(2, model).run();
  put.bind(1, "embedding_dimension").bind(2, std::to_string(dimension)).run();
  txn.commit();
}

void IndexStore::clear_embeddings() {
  std::lock_guard lock(mutex_);
  SqliteTransaction txn(db_);
  db_.exec("DELETE FROM embeddings; DELETE FROM meta WHERE key IN ('embedding_model', 'embedding_dimension')");
  txn.commit();
  generation_.fetch_add(1);
}

std::vector<std::pair<std::string, std::string>> IndexStore::chunks_without_embedding(std::size_t limit, std::int64_t& after) {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<std::string, std::string>> out;
  std::set<std::string> hashes;
  auto q = db_.cached(
      "SELECT c.id, c.hash, c.title || char(10) || c.heading || char(10) || c.text FROM chunks c "
      "WHERE c.id > ?1 AND NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.hash = c.hash) ORDER BY c.id LIMIT ?2");
  q->bind(1, after).bind(2, static_cast<std::int64_t>(limit));
  while (q->step()) {
    after = q->int64(0);
    if (hashes.insert(q->text(1)).second) out.emplace_back(q->text(1), q->text(2));
  }
  return out;
}

void IndexStore::put_embeddings(const std::vector<std::pair<std::string, std::vector<float>>>& vectors) {
  std::lock_guard lock(mutex_);
  SqliteTransaction txn(db_);
  auto put = db_.prepare("INSERT OR REPLACE INTO embeddings(hash, vector) VALUES (?1, ?2)");
  for (const auto& [hash, v] : vectors) {
    put.bind(1, hash).bind_blob(2, v.data(), v.size() * sizeof(float));
    put.run();
  }
  txn.commit();
  generation_.fetch_add(1);
}

void IndexStore::for_each_vector(const std::function<void(std::int64_t, const float*, std::size_t)>& fn) {
  std::lock_guard lock(mutex_);
  auto q = db_.prepare("SELECT c.id, e.vector FROM chunks c JOIN embeddings e ON e.hash = c.hash");
  while (q.step()) {
    auto blob = q.blob(1);
    fn(q.int64(0), reinterpret_cast<const float*>(blob.data()), blob.size() / sizeof(float));
  }
}

std::vector<Hit> IndexStore::hits_for_chunks(const std::vector<std::int64_t>& chunk_ids, const Filters& filters) {
  std::lock_guard lock(mutex_);
  std::vector<Hit> out;
  auto q = db_.prepare(std::string(
      "SELECT c.id, d.id, d.source, d.path, d.title, c.heading, c.line_start, c.line_end, substr(c.text, 1, 300), "
      "d.indexed_at, d.revision FROM chunks c JOIN documents d ON d.id = c.document_id WHERE c.id = ?5 AND ") + kFilterSql);
  for (auto id : chunk_ids) {
    bind_filters(q, filters);
    q.bind(5, id);
    if (q.step()) out.push_back(read_hit(q));
    q.reset();
  }
  return out;
}

std::string IndexStore::check_integrity() {
  std::lock_guard lock(mutex_);
  std::string problems;
  auto q = db_.prepare("PRAGMA quick_check");
  while (q.step())
    if (q.text(0) != "ok") problems += q.text(0) + "; ";
  try {
    db_.exec("INSERT INTO chunks_fts(chunks_fts, rank) VALUES ('integrity-check', 1)");
  } catch (const infra::SqliteError& e) {
    problems += std::string("full-text index: ") + e.what() + "; ";
  }
  auto orphans = db_.prepare("SELECT count(*) FROM chunks c WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = c.document_id)");
  if (orphans.step() && orphans.int64(0) > 0) problems += std::to_string(orphans.int64(0)) + " chunks without a document; ";
  return problems;
}

}  // namespace mcpd::packs::knowledge
