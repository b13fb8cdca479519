// IndexStore implementation.
#include "packs/knowledge/index_store.hpp"

#include <chrono>
#include <ctime>

namespace mcpd::packs::knowledge {

using infra::SqliteTransaction;

std::string now_iso8601() {
  auto now = std::chrono::system_clock::now();
  auto t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

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
CREATE TRIGGER IF NOT EXISTS chunks_ai AFTER INSERT ON chunks BEGIN
  INSERT INTO chunks_fts(rowid, title, heading, text) VALUES (new.id, new.title, new.heading, new.text);
END;
CREATE TRIGGER IF NOT EXISTS chunks_ad AFTER DELETE ON chunks BEGIN
  INSERT INTO chunks_fts(chunks_fts, rowid, title, heading, text) VALUES ('delete', old.id, old.title, old.heading, old.text);
END;
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS embeddings(hash TEXT PRIMARY KEY, vector BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_by_hash ON chunks(hash);
CREATE TABLE IF NOT EXISTS skipped(
  source TEXT NOT NULL, path TEXT NOT NULL, reason TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY(source, path));
)SQL");
}

void IndexStore::put_document(const std::string& source, const DocumentInput& doc, const std::vector<Chunk>& chunks) {
  std::lock_guard lock(mutex_);
  SqliteTransaction txn(db_);
  auto old = db_.prepare("SELECT id FROM documents WHERE source = ?1 AND path = ?2");
  old.bind(1, source).bind(2, doc.path);
  if (old.step()) {
    std::int64_t id = old.int64(0);
    old.reset();
    db_.prepare("DELETE FROM chunks WHERE document_id = ?1").bind(1, id).run();
    db_.prepare("DELETE FROM documents WHERE id = ?1").bind(1, id).run();
  }
  auto ins = db_.prepare(
      "INSERT INTO documents(source, path, title, kind, version, revision, size, text, indexed_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  ins.bind(1, source).bind(2, doc.path).bind(3, doc.title).bind(4, doc.kind).bind(5, doc.version).bind(6, doc.revision)
      .bind(7, static_cast<std::int64_t>(doc.size)).bind(8, doc.text).bind(9, now_iso8601());
  ins.run();
  std::int64_t doc_id = db_.last_insert_rowid();
  auto chunk_ins = db_.prepare(
      "INSERT INTO chunks(document_id, ord, title, heading, line_start, line_end, text, hash) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  int ord = 0;
  for (const auto& c : chunks) {
    chunk_ins.bind(1, doc_id).bind(2, ord++).bind(3, doc.title).bind(4, c.heading).bind(5, c.line_start)
        .bind(6, c.line_end).bind(7, c.text).bind(8, c.hash);
    chunk_ins.run();
  }
  db_.prepare("DELETE FROM skipped WHERE source = ?1 AND path = ?2").bind(1, source).bind(2, doc.path).run();
  txn.commit();
  generation_.fetch_add(1);
}

void IndexStore::delete_document(const std::string& source, const std::string& path) {
  std::lock_guard lock(mutex_);
  SqliteTransaction txn(db_);
  auto old = db_.prepare("SELECT id FROM documents WHERE source = ?1 AND path = ?2");
  old.bind(1, source).bind(2, path);
  if (old.step()) {
    std::int64_t id = old.int64(0);
    old.reset();
    db_.prepare("DELETE FROM chunks WHERE document_id = ?1").bind(1, id).run();
    db_.prepare("DELETE FROM documents WHERE id = ?1").bind(1, id).run();
  }
  db_.prepare("DELETE FROM skipped WHERE source = ?1 AND path = ?2").bind(1, source).bind(2, path).run();
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

std::vector<Hit> IndexStore::search(const std::string& fts_query, const Filters& filters, std::size_t limit,
                                    std::size_t offset) {
  std::lock_guard lock(mutex_);
  std::vector<Hit> out;
  if (fts_query.empty()) return out;
  auto q = db_.prepare(std::string(
      "SELECT c.id, d.id, d.source, d.path, d.title, c.heading, c.line_start, c.line_end, "
      "snippet(chunks_fts, 2, '**', '**', '…', 24), d.indexed_at, d.revision, bm25(chunks_fts, 4.0, 2.0, 1.0) "
      "FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid JOIN documents d ON d.id = c.document_id "
      "WHERE chunks_fts MATCH ?5 AND ") + kFilterSql + " ORDER BY bm25(chunks_fts, 4.0, 2.0, 1.0) LIMIT ?6 OFFSET ?7");
  bind_filters(q, filters);
  q.bind(5, fts_query).bind(6, static_cast<std::int64_t>(limit)).bind(7, static_cast<std::int64_t>(offset));
  while (q.step()) {
    Hit h = read_hit(q);
    h.score = -q.real(11);  // bm25() is smaller-is-better
    out.push_back(std::move(h));
  }
  return out;
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

std::vector<std::pair<std::string, std::string>> IndexStore::chunks_without_embedding(std::size_t limit) {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<std::string, std::string>> out;
  auto q = db_.prepare(
      "SELECT c.hash, min(c.title || char(10) || c.heading || char(10) || c.text) FROM chunks c "
      "WHERE NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.hash = c.hash) GROUP BY c.hash LIMIT ?1");
  q.bind(1, static_cast<std::int64_t>(limit));
  while (q.step()) out.emplace_back(q.text(0), q.text(1));
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

std::string IndexStore::fts_query(std::string_view user_text) {
  std::string out, word;
  auto flush = [&] {
    if (word.empty()) return;
    if (!out.empty()) out += " OR ";
    out += '"' + word + '"';
    word.clear();
  };
  for (unsigned char c : user_text) {
    // Letters, digits and any non-ASCII byte form words; everything else separates them.
    if (std::isalnum(c) || c >= 0x80 || c == '_') word.push_back(static_cast<char>(c));
    else flush();
  }
  flush();
  return out;
}

}  // namespace mcpd::packs::knowledge
