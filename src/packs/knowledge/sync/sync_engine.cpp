// SyncEngine implementation.
#include "packs/knowledge/sync/sync_engine.hpp"

#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "core/fault.hpp"
#include "packs/knowledge/index/index_errors.hpp"

namespace mcpd::packs::knowledge {

namespace {

// The reader hands the writer a batch when it holds this many documents or this much text (or
// this many entries of any kind, so that progress moves on a resync with few changes).
constexpr std::size_t kBatchDocuments = 2048;
constexpr std::size_t kBatchBytes = 32u << 20;
constexpr std::size_t kBatchEntries = 4096;

// What the reader decided about one entry of the snapshot.
struct Step {
  enum class Kind { unchanged, skipped, document } kind = Kind::unchanged;
  std::string path;
  bool known = false;  // the index has a version of it
  std::string reason;  // skipped
  PendingDocument document;
};

// Reader -> writer hand-over: at most one batch waiting while the writer writes the previous one.
class StepQueue {
 public:
  // False when the writer has stopped listening.
  bool push(std::vector<Step> batch) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !full_ || stopped_; });
    if (stopped_) return false;
    waiting_ = std::move(batch);
    full_ = true;
    changed_.notify_all();
    return true;
  }
  // Nothing more will come; `error`: the reader stopped early because of it.
  void close(std::optional<core::Error> error = std::nullopt) {
    std::lock_guard lock(mutex_);
    closed_ = true;
    error_ = std::move(error);
    changed_.notify_all();
  }
  // The next batch, or nullopt once the reader is done (see failure()).
  std::optional<std::vector<Step>> pop() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return full_ || closed_; });
    if (full_) {
      full_ = false;
      changed_.notify_all();
      return std::move(waiting_);
    }
    return std::nullopt;
  }
  // Why the reader stopped early, once pop() has returned nullopt.
  std::optional<core::Error> failure() {
    std::lock_guard lock(mutex_);
    return error_;
  }
  void stop() {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Step> waiting_;
  bool full_ = false, closed_ = false, stopped_ = false;
  std::optional<core::Error> error_;
};

}  // namespace

SyncResult SyncEngine::sync(Source& source, const std::function<void(std::size_t, std::size_t)>& progress,
                            const std::atomic<bool>* cancel) {
  auto started = std::chrono::steady_clock::now();
  SyncResult result;
  result.source = source.name();
  const std::string where = "knowledge sync of source '" + source.name() + "'";
  core::Status outcome;
  try {
    outcome = run(source, progress, cancel, result);
  } catch (const infra::SqliteError& e) {
    outcome = index_error(where, e);
  } catch (const std::exception& e) {
    outcome = core::fault(where, e.what());
  }
  if (outcome.ok()) {
    result.ok = true;
  } else {
    result.cancelled = outcome.cancelled();
    result.error = result.cancelled ? "cancelled" : outcome.error().message;
    if (!result.cancelled) core::log_error_detail(where, outcome.error());
    try {
      store_.record_failure(source.name(), result.cancelled ? "sync cancelled" : result.error);
    } catch (const std::exception& e) {
      core::fault(where + " (recording its failure)", e.what());  // logged; the job's result still says why
    }
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

core::Status SyncEngine::run(Source& source, const std::function<void(std::size_t, std::size_t)>& progress,
                             const std::atomic<bool>* cancel, SyncResult& result) {
  store_.ensure_source(source.name(), source.kind());
  auto listed = source.snapshot();
  if (!listed) return std::move(listed).failure();
  const Snapshot& snapshot = *listed;
  result.revision = snapshot.revision;
  const auto stored = store_.versions(source.name());
  std::set<std::string> present;
  for (const auto& entry : snapshot.entries) present.insert(entry.path);

  // The reader (its own thread) reads, extracts and chunks; this thread writes, in batches of
  // documents, one transaction each (IndexStore::put_documents). The two overlap on two cores.
  StepQueue queue;
  std::thread reader([&] {
    try {
      std::vector<Step> batch;
      std::size_t documents = 0, bytes = 0;
      for (const auto& entry : snapshot.entries) {
        Step step;
        step.path = entry.path;
        auto it = stored.find(entry.path);
        step.known = it != stored.end();
        step.kind = Step::Kind::skipped;
        if (step.known && it->second == entry.version) {
          step.kind = Step::Kind::unchanged;
        } else if (!is_supported_path(entry.path)) {
          auto dot = entry.path.rfind('.');
          step.reason = "unsupported file type (" + (dot == std::string::npos ? entry.path : entry.path.substr(dot)) + ")";
        } else if (entry.size > extract_options_.max_bytes) {
          step.reason = "larger than " + std::to_string(extract_options_.max_bytes) + " bytes";
        } else if (auto content = source.read(entry.path); content) {
          auto extracted = extract(entry.path, *content, extract_options_);
          if (!extracted) {
            step.reason = extracted.error().message;
          } else {
            auto& doc = *extracted;
            step.kind = Step::Kind::document;
            step.document.input = {entry.path,    doc.title,         std::string(to_string(doc.kind)), entry.version,
                                   snapshot.revision, entry.size, doc.text};
            step.document.chunks = chunk(doc, chunk_options_);
            ++documents;
            bytes += doc.text.size();
          }
        } else {
          step.reason = content.error().message;
          step.known = false;  // unreadable: what is indexed stays until the file is readable again
        }
        batch.push_back(std::move(step));
        if (documents >= kBatchDocuments || bytes >= kBatchBytes || batch.size() >= kBatchEntries) {
          if (!queue.push(std::move(batch))) return;
          batch.clear();
          documents = bytes = 0;
        }
      }
      if (!batch.empty() && !queue.push(std::move(batch))) return;
      queue.close();
    } catch (const std::exception& e) {  // a thread must not end in an exception
      queue.close(core::fault("knowledge sync of source '" + source.name() + "' (reading)", e.what()));
    } catch (...) {
      queue.close(core::fault("knowledge sync of source '" + source.name() + "' (reading)", "a non-standard exception"));
    }
  });
  struct Join {
    StepQueue& queue;
    std::thread& thread;
    ~Join() {
      queue.stop();
      thread.join();
    }
  } join{queue, reader};

  std::size_t done = 0;
  const std::size_t total = snapshot.entries.size();
  while (auto batch = queue.pop()) {
    if (cancel && cancel->load()) return core::Cancelled{};
    std::vector<PendingDocument> documents;
    for (auto& step : *batch) {
      switch (step.kind) {
        case Step::Kind::unchanged:
          ++result.counts.unchanged;
          break;
        case Step::Kind::skipped:
          store_.record_skipped(source.name(), step.path, step.reason);
          if (step.known) store_.delete_document(source.name(), step.path);
          ++result.counts.skipped;
          break;
        case Step::Kind::document:
          ++(step.known ? result.counts.updated : result.counts.added);
          documents.push_back(std::move(step.document));
          break;
      }
    }
    store_.put_documents(source.name(), documents);
    done += batch->size();
    if (progress) progress(done, total);
  }
  if (auto failed = queue.failure()) return std::move(*failed);
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
    auto embedded = embed_missing(cancel, result.counts.embedded);
    if (embedded.failed()) {
      // The text is indexed (lexical search works); the missing vectors are retried next sync.
      core::Error e = std::move(embedded).error();
      e.message = "embedding failed: " + e.message;
      return e;
    }
    if (!embedded) return embedded;  // cancelled
  }
  store_.record_success(source.name(), snapshot.revision);
  return {};
}

core::Status SyncEngine::embed_missing(const std::atomic<bool>* cancel, std::size_t& embedded) {
  const std::string model = embedder_->provider() + ":" + embedder_->model();
  std::int64_t after = 0;  // chunks are visited once, in id order
  for (;;) {
    if (cancel && cancel->load()) return core::Cancelled{};
    auto batch = store_.chunks_without_embedding(256, after);
    if (batch.empty()) return {};
    std::vector<std::string> texts;
    texts.reserve(batch.size());
    for (auto& [hash, text] : batch) texts.push_back(text);
    auto vectors = embed_texts(*embedder_, texts);
    if (!vectors) return std::move(vectors).failure();
    if (vectors->size() != batch.size())
      return core::Error::unavailable(model + " returned " + std::to_string(vectors->size()) + " vectors for " +
                                      std::to_string(batch.size()) + " texts");
    std::size_t dimension = vectors->empty() ? 0 : vectors->front().size();
    auto recorded = store_.embedding_model();
    if (!recorded) {
      store_.set_embedding_model(model, dimension);
    } else if (recorded->first != model || recorded->second != dimension) {
      return core::Error::refused("the index holds vectors of " + recorded->first + " (" + std::to_string(recorded->second) +
                                  " dimensions) but " + model + " returned " + std::to_string(dimension) +
                                  "; set embeddings.reembed = true to start over");
    }
    std::vector<std::pair<std::string, std::vector<float>>> rows;
    rows.reserve(batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) rows.emplace_back(batch[i].first, std::move((*vectors)[i]));
    store_.put_embeddings(rows);
    embedded += rows.size();
  }
}

}  // namespace mcpd::packs::knowledge
