// Cosine search over the chunk vectors, held in memory and rebuilt from the store when its
// generation changes: one normalized float32 matrix (exact) and an int8-quantized copy (a quarter of
// the bytes to scan). Above `kQuantizedFrom` vectors a search scans the int8 copy for the best
// candidates (8 × k, at least 64) and ranks those exactly with the float rows; below, it scans the
// floats. Scores are always exact cosines.
#pragma once
#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

#include "packs/knowledge/index_store.hpp"

namespace mcpd::packs::knowledge {

// Normalized vectors with their int8 copy; no store, no locking (VectorIndex adds those).
class VectorSet {
 public:
  // `v` need not be normalized; a zero vector or one of another dimension is ignored.
  void add(std::int64_t id, const float* v, std::size_t n);
  void clear();
  std::size_t size() const { return ids_.size(); }
  std::size_t dimension() const { return dimension_; }

  // The k best (id, cosine), best first: over every float row.
  std::vector<std::pair<std::int64_t, float>> exact(const std::vector<float>& query, std::size_t k) const;
  // The same through the int8 copy: candidates from the int8 scan, ranked with the float rows.
  std::vector<std::pair<std::int64_t, float>> quantized(const std::vector<float>& query, std::size_t k) const;

 private:
  std::vector<float> normalized(const std::vector<float>& query) const;
  std::vector<std::pair<std::int64_t, float>> rank(const std::vector<float>& q, const std::vector<std::size_t>& rows,
                                                   std::size_t k) const;

  std::size_t dimension_ = 0;
  std::vector<std::int64_t> ids_;
  std::vector<float> matrix_;        // rows of dimension_ floats, each of unit length
  std::vector<std::int8_t> quant_;   // the same rows, each scaled so its largest |value| is 127
  std::vector<float> quant_scale_;   // per row: float value = int8 value × scale
};

class VectorIndex {
 public:
  static constexpr std::size_t kQuantizedFrom = 4096;

  explicit VectorIndex(IndexStore& store) : store_(store) {}

  // The `k` chunks most similar to `query` (cosine, best first).
  std::vector<std::pair<std::int64_t, float>> search(const std::vector<float>& query, std::size_t k);
  std::size_t size();

 private:
  void refresh_locked();

  IndexStore& store_;
  std::mutex mutex_;
  std::uint64_t generation_ = 0;
  VectorSet vectors_;
};

}  // namespace mcpd::packs::knowledge
