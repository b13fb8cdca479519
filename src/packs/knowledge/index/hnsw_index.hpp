// An approximate nearest-neighbour index over unit vectors (hnswlib's HNSW graph, inner product),
// keyed by chunk id, and its file next to the knowledge index.
//
// The file is hnswlib's own format (`<index>.hnsw`) plus a small JSON header (`<index>.hnsw.json`:
// format, model, dimension, count, and the sha256 of the graph file). The header is written last,
// both through a temporary file and a rename, and a graph is loaded only when the header matches
// the model, the dimension and the checksum: hnswlib trusts the sizes in its file, so a truncated
// or foreign file must never reach it. Any mismatch means "rebuild", never an error.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace hnswlib {
template <typename T> class HierarchicalNSW;
class InnerProductSpace;
}  // namespace hnswlib

namespace mcpd::packs::knowledge {

// The defaults reach a tie-aware recall@10 of 0.99 on real use-lite vectors of the man pages
// (M 16 with ef_search 128 gave 0.90 there: those vectors crowd into a narrow cone), see
// docs/benchmarks/vectors.md.
struct ApproximateParams {
  std::size_t from = 50000;          // vectors from which searches use the graph (below: a scan)
  std::size_t m = 24;                // links per node (hnswlib's M)
  std::size_t ef_construction = 200;
  std::size_t ef_search = 300;       // candidates kept during a search (at least k)
  std::size_t build_threads = 1;     // threads for a full build in the background
};

class HnswIndex {
 public:
  HnswIndex(std::size_t dimension, std::size_t capacity, const ApproximateParams& params);
  ~HnswIndex();
  HnswIndex(const HnswIndex&) = delete;
  HnswIndex& operator=(const HnswIndex&) = delete;

  std::size_t dimension() const { return dimension_; }
  std::size_t size() const;  // live vectors (removed ones not counted)

  // Adds `id`, or replaces its vector (`unit`: dimension() floats of unit length); grows the graph
  // when full. Not safe concurrently with search() or any other call.
  void put(std::int64_t id, const float* unit);
  // Adds a new `id` while the capacity suffices: several threads may insert at once (a build).
  void insert_concurrently(std::int64_t id, const float* unit);
  void remove(std::int64_t id);
  // Whether `id` is present with exactly this vector.
  bool holds(std::int64_t id, const float* unit) const;
  // Every live id.
  std::vector<std::int64_t> ids() const;

  // The k nearest (id, cosine), best first. Safe to call from several threads at once.
  std::vector<std::pair<std::int64_t, float>> search(const float* unit_query, std::size_t k) const;

  // Writes the graph and its header atomically (temporary files and renames).
  void save(const std::filesystem::path& graph, const std::string& model) const;
  // The saved graph, or why not: NotFound ("no saved graph") when there is none, Unavailable (the
  // reason) when it does not match or cannot be read. Either way the caller builds a new one.
  static core::Result<std::unique_ptr<HnswIndex>> load(const std::filesystem::path& graph, const std::string& model,
                                                       std::size_t dimension, const ApproximateParams& params);

 private:
  HnswIndex(std::size_t dimension, const ApproximateParams& params);

  std::size_t dimension_;
  ApproximateParams params_;
  std::unique_ptr<hnswlib::InnerProductSpace> space_;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> graph_;
};

}  // namespace mcpd::packs::knowledge
