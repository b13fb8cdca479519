// VectorIndex implementation.
#include "packs/knowledge/vector_index.hpp"

#include <algorithm>
#include <cmath>

namespace mcpd::packs::knowledge {

void VectorIndex::refresh_locked() {
  if (store_.generation() == generation_) return;
  generation_ = store_.generation();
  ids_.clear();
  matrix_.clear();
  dimension_ = 0;
  store_.for_each_vector([&](std::int64_t id, const float* v, std::size_t n) {
    if (dimension_ == 0) dimension_ = n;
    if (n != dimension_ || n == 0) return;  // a vector of another model: never mixed in
    double norm = 0;
    for (std::size_t i = 0; i < n; ++i) norm += static_cast<double>(v[i]) * v[i];
    float inv = norm > 0 ? static_cast<float>(1.0 / std::sqrt(norm)) : 0.f;
    ids_.push_back(id);
    for (std::size_t i = 0; i < n; ++i) matrix_.push_back(v[i] * inv);
  });
}

std::size_t VectorIndex::size() {
  std::lock_guard lock(mutex_);
  refresh_locked();
  return ids_.size();
}

std::vector<std::pair<std::int64_t, float>> VectorIndex::search(const std::vector<float>& query, std::size_t k) {
  std::lock_guard lock(mutex_);
  refresh_locked();
  std::vector<std::pair<std::int64_t, float>> out;
  if (query.size() != dimension_ || ids_.empty() || k == 0) return out;
  double norm = 0;
  for (float x : query) norm += static_cast<double>(x) * x;
  if (norm <= 0) return out;
  float inv = static_cast<float>(1.0 / std::sqrt(norm));
  out.reserve(ids_.size());
  for (std::size_t row = 0; row < ids_.size(); ++row) {
    const float* v = matrix_.data() + row * dimension_;
    float dot = 0;
    for (std::size_t i = 0; i < dimension_; ++i) dot += v[i] * query[i];
    out.emplace_back(ids_[row], dot * inv);
  }
  std::size_t keep = std::min(k, out.size());
  std::partial_sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(keep), out.end(),
                    [](const auto& a, const auto& b) { return a.second > b.second; });
  out.resize(keep);
  return out;
}

}  // namespace mcpd::packs::knowledge
