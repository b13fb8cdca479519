// Cosine search over the chunk vectors, held in memory and rebuilt from the store when its
// generation changes: one normalized float32 matrix (exact) and an int8-quantized copy (a quarter of
// the bytes to scan). Above `kQuantizedFrom` vectors a search scans the int8 copy for the best
// candidates (8 × k, at least 64) and ranks those exactly with the float rows; below, it scans the
// floats. Scores are always exact cosines.
#pragma once
#include <cstdint>
#include <atomic>
#include <filesystem>
#include <memory>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "packs/knowledge/index/hnsw_index.hpp"
#include "packs/knowledge/index/index_store.hpp"

namespace mcpd::packs::knowledge {

// Normalized vectors with their int8 copy; no store, no locking (VectorIndex adds those).
class VectorSet {
 public:
  // `v` need not be normalized; a zero vector or one of another dimension is ignored.
  void add(std::int64_t id, const float* v, std::size_t n);
  void clear();
  std::size_t size() const { return ids_.size(); }
  std::size_t dimension() const { return dimension_; }
  std::int64_t id(std::size_t row) const { return ids_[row]; }
  const float* row(std::size_t row) const { return matrix_.data() + row * dimension_; }
  // `query` normalized, or empty when it is zero or of another dimension.
  std::vector<float> normalized(const std::vector<float>& query) const;

  // The k best (id, cosine), best first: over every float row.
  std::vector<std::pair<std::int64_t, float>> exact(const std::vector<float>& query, std::size_t k) const;
  // The same through the int8 copy: candidates from the int8 scan, ranked with the float rows.
  std::vector<std::pair<std::int64_t, float>> quantized(const std::vector<float>& query, std::size_t k) const;
  // The cosine of `query` with each of `ids` that has a vector (hybrid search scores its lexical hits).
  std::vector<std::pair<std::int64_t, float>> similarities(const std::vector<float>& query, const std::vector<std::int64_t>& ids) const;

 private:
  std::vector<std::pair<std::int64_t, float>> rank(const std::vector<float>& q, const std::vector<std::size_t>& rows,
                                                   std::size_t k) const;

  std::size_t dimension_ = 0;
  std::vector<std::int64_t> ids_;
  std::unordered_map<std::int64_t, std::size_t> row_of_;
  std::vector<float> matrix_;        // rows of dimension_ floats, each of unit length
  std::vector<std::int8_t> quant_;   // the same rows, each scaled so its largest |value| is 127
  std::vector<float> quant_scale_;   // per row: float value = int8 value × scale
};

// The vectors of an IndexStore, refreshed when its generation changes. From `params.from` vectors
// up, searches go through an HNSW graph (hnswlib) that is persisted next to the index file
// (`<index>.hnsw`) and kept in step with the store: on a refresh, a small difference (new, changed
// or removed chunks) is applied to the graph in place; a large one, or no usable saved graph,
// starts a full build on a background thread, and until it is done searches scan the int8 copy.
// A search never waits for a build.
class VectorIndex {
 public:
  static constexpr std::size_t kQuantizedFrom = 4096;

  // `graph_file` empty: the graph is not persisted. `model` names the vectors' model in its header.
  VectorIndex(IndexStore& store, ApproximateParams params = {}, std::filesystem::path graph_file = {}, std::string model = {});
  ~VectorIndex();

  // The `k` chunks most similar to `query` (cosine, best first).
  std::vector<std::pair<std::int64_t, float>> search(const std::vector<float>& query, std::size_t k);
  // See VectorSet::similarities.
  std::vector<std::pair<std::int64_t, float>> similarities(const std::vector<float>& query, const std::vector<std::int64_t>& ids);
  std::size_t size();
  // How searches are answered now: "exact", "quantized" or "approximate".
  std::string method();
  // Blocks until no background build is running (tests, benchmarks, shutdown).
  void wait_for_build();

 private:
  std::vector<std::pair<std::int64_t, float>> search_locked(const std::vector<float>& query, std::size_t k) const;
  void refresh_locked();
  // Brings graph_ in step with vectors_; false when that needs a full build.
  bool reconcile_locked();
  void start_build_locked();
  void build_loop();
  void save_locked();

  IndexStore& store_;
  const ApproximateParams params_;
  const std::filesystem::path graph_file_;
  const std::string model_;
  std::shared_mutex mutex_;
  std::uint64_t generation_ = 0;
  std::shared_ptr<const VectorSet> vectors_ = std::make_shared<VectorSet>();
  std::unique_ptr<HnswIndex> graph_;
  bool tried_load_ = false;
  bool graph_dirty_ = false;  // changed in place since it was saved
  std::thread builder_;
  std::atomic<bool> building_{false};
  std::atomic<bool> stopping_{false};
};

}  // namespace mcpd::packs::knowledge
