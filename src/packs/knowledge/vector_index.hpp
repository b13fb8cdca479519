// Exact cosine search over the chunk vectors, held in memory as one normalized float matrix and
// rebuilt from the store when its generation changes.
#pragma once
#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

#include "packs/knowledge/index_store.hpp"

namespace mcpd::packs::knowledge {

class VectorIndex {
 public:
  explicit VectorIndex(IndexStore& store) : store_(store) {}

  // The `k` chunks most similar to `query` (cosine, best first).
  std::vector<std::pair<std::int64_t, float>> search(const std::vector<float>& query, std::size_t k);
  std::size_t size();

 private:
  void refresh_locked();

  IndexStore& store_;
  std::mutex mutex_;
  std::uint64_t generation_ = 0;
  std::size_t dimension_ = 0;
  std::vector<std::int64_t> ids_;
  std::vector<float> matrix_;  // ids_.size() rows of dimension_ floats, each of unit length
};

}  // namespace mcpd::packs::knowledge
