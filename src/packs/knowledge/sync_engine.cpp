// SyncEngine implementation.
#include "packs/knowledge/sync_engine.hpp"

#include <chrono>
#include <set>

namespace mcpd::packs::knowledge {

SyncResult SyncEngine::sync(Source& source, const std::function<void(std::size_t, std::size_t)>& progress,
                            const std::atomic<bool>* cancel) {
  auto started = std::chrono::steady_clock::now();
  SyncResult result;
  result.source = source.name();
  auto finish = [&] {
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return result;
  };
  store_.ensure_source(source.name(), source.kind());
  Snapshot snapshot;
  try {
    snapshot = source.snapshot();
  } catch (const std::exception& e) {
    result.error = e.what();
    store_.record_failure(source.name(), result.error);
    return finish();
  }
  result.revision = snapshot.revision;
  auto stored = store_.versions(source.name());
  std::set<std::string> present;
  std::size_t done = 0, total = snapshot.entries.size();

  for (const auto& entry : snapshot.entries) {
    if (cancel && cancel->load()) {
      result.cancelled = true;
      result.error = "cancelled";
      store_.record_failure(source.name(), "sync cancelled");
      return finish();
    }
    present.insert(entry.path);
    auto it = stored.find(entry.path);
    bool known = it != stored.end();
    if (known && it->second == entry.version) {
      ++result.counts.unchanged;
    } else if (!is_supported_path(entry.path)) {
      auto dot = entry.path.rfind('.');
      std::string ext = dot == std::string::npos ? entry.path : entry.path.substr(dot);
      store_.record_skipped(source.name(), entry.path, "unsupported file type (" + ext + ")");
      if (known) store_.delete_document(source.name(), entry.path);
      ++result.counts.skipped;
    } else if (entry.size > extract_options_.max_bytes) {
      store_.record_skipped(source.name(), entry.path,
                            "larger than " + std::to_string(extract_options_.max_bytes) + " bytes");
      if (known) store_.delete_document(source.name(), entry.path);
      ++result.counts.skipped;
    } else {
      std::string error;
      auto content = source.read(entry.path, error);
      if (!content) {
        store_.record_skipped(source.name(), entry.path, error);
        ++result.counts.skipped;
      } else {
        auto outcome = extract(entry.path, *content, extract_options_);
        if (auto* refused = std::get_if<ExtractRefused>(&outcome)) {
          store_.record_skipped(source.name(), entry.path, refused->reason);
          if (known) store_.delete_document(source.name(), entry.path);
          ++result.counts.skipped;
        } else {
          auto& doc = std::get<ExtractedText>(outcome);
          DocumentInput input{entry.path, doc.title, std::string(to_string(doc.kind)), entry.version,
                              snapshot.revision, entry.size, doc.text};
          store_.put_document(source.name(), input, chunk(doc, chunk_options_));
          ++(known ? result.counts.updated : result.counts.added);
        }
      }
    }
    if (progress) progress(++done, total);
  }
  for (const auto& [path, version] : stored) {
    if (present.count(path)) continue;
    store_.delete_document(source.name(), path);
    ++result.counts.deleted;
  }
  for (const auto& s : snapshot.skipped) {
    store_.record_skipped(source.name(), s.path, s.reason);
    ++result.counts.skipped;
  }
  if (embedder_) {
    std::string error;
    result.counts.embedded = embed_missing(cancel, error);
    if (!error.empty()) {
      // The text is indexed (lexical search works); the missing vectors are retried next sync.
      result.error = "embedding failed: " + error;
      store_.record_failure(source.name(), result.error);
      return finish();
    }
  }
  store_.record_success(source.name(), snapshot.revision);
  result.ok = true;
  return finish();
}

std::size_t SyncEngine::embed_missing(const std::atomic<bool>* cancel, std::string& error) {
  std::size_t done = 0;
  const std::string model = embedder_->provider() + ":" + embedder_->model();
  for (;;) {
    if (cancel && cancel->load()) {
      error = "cancelled";
      return done;
    }
    auto batch = store_.chunks_without_embedding(256);
    if (batch.empty()) return done;
    std::vector<std::string> texts;
    texts.reserve(batch.size());
    for (auto& [hash, text] : batch) texts.push_back(text);
    std::vector<std::vector<float>> vectors;
    try {
      vectors = embedder_->embed(texts);
    } catch (const std::exception& e) {
      error = e.what();
      return done;
    }
    std::size_t dimension = vectors.empty() ? 0 : vectors.front().size();
    auto recorded = store_.embedding_model();
    if (!recorded) {
      store_.set_embedding_model(model, dimension);
    } else if (recorded->first != model || recorded->second != dimension) {
      error = "the index holds vectors of " + recorded->first + " (" + std::to_string(recorded->second) +
              " dimensions) but " + model + " returned " + std::to_string(dimension) + "; set embeddings.reembed = true to start over";
      return done;
    }
    std::vector<std::pair<std::string, std::vector<float>>> rows;
    rows.reserve(batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) rows.emplace_back(batch[i].first, std::move(vectors[i]));
    store_.put_embeddings(rows);
    done += rows.size();
  }
}

}  // namespace mcpd::packs::knowledge
