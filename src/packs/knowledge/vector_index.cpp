// VectorSet and VectorIndex implementation.
#include "packs/knowledge/vector_index.hpp"

#include <algorithm>
#include <cmath>

namespace mcpd::packs::knowledge {

namespace {
// A float dot product with eight independent sums, so the compiler can vectorize it (a single sum
// must be added in order, which it may not reorder).
float dot(const float* a, const float* b, std::size_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (std::size_t j = 0; j < 8; ++j) acc[j] += a[i + j] * b[i + j];
  float sum = 0;
  for (; i < n; ++i) sum += a[i] * b[i];
  for (float x : acc) sum += x;
  return sum;
}
}  // namespace

void VectorSet::add(std::int64_t id, const float* v, std::size_t n) {
  if (n == 0) return;
  if (dimension_ == 0) dimension_ = n;
  if (n != dimension_) return;  // a vector of another model: never mixed in
  double norm = 0;
  for (std::size_t i = 0; i < n; ++i) norm += static_cast<double>(v[i]) * v[i];
  if (norm <= 0) return;
  const float inv = static_cast<float>(1.0 / std::sqrt(norm));
  float largest = 0;
  for (std::size_t i = 0; i < n; ++i) largest = std::max(largest, std::fabs(v[i] * inv));
  const float scale = largest > 0 ? largest / 127.0f : 1.0f;
  ids_.push_back(id);
  for (std::size_t i = 0; i < n; ++i) {
    float x = v[i] * inv;
    matrix_.push_back(x);
    quant_.push_back(static_cast<std::int8_t>(std::lround(x / scale)));
  }
  quant_scale_.push_back(scale);
}

void VectorSet::clear() {
  dimension_ = 0;
  ids_.clear();
  matrix_.clear();
  quant_.clear();
  quant_scale_.clear();
}

std::vector<float> VectorSet::normalized(const std::vector<float>& query) const {
  if (query.size() != dimension_ || ids_.empty()) return {};
  double norm = 0;
  for (float x : query) norm += static_cast<double>(x) * x;
  if (norm <= 0) return {};
  std::vector<float> q(query);
  const float inv = static_cast<float>(1.0 / std::sqrt(norm));
  for (auto& x : q) x *= inv;
  return q;
}

std::vector<std::pair<std::int64_t, float>> VectorSet::rank(const std::vector<float>& q, const std::vector<std::size_t>& rows,
                                                            std::size_t k) const {
  std::vector<std::pair<std::int64_t, float>> out;
  out.reserve(rows.size());
  for (auto row : rows) {
    out.emplace_back(ids_[row], dot(matrix_.data() + row * dimension_, q.data(), dimension_));
  }
  const std::size_t keep = std::min(k, out.size());
  std::partial_sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(keep), out.end(),
                    [](const auto& a, const auto& b) { return a.second > b.second || (a.second == b.second && a.first < b.first); });
  out.resize(keep);
  return out;
}

std::vector<std::pair<std::int64_t, float>> VectorSet::exact(const std::vector<float>& query, std::size_t k) const {
  auto q = normalized(query);
  if (q.empty() || k == 0) return {};
  std::vector<std::size_t> rows(ids_.size());
  for (std::size_t r = 0; r < rows.size(); ++r) rows[r] = r;
  return rank(q, rows, k);
}

std::vector<std::pair<std::int64_t, float>> VectorSet::quantized(const std::vector<float>& query, std::size_t k) const {
  auto q = normalized(query);
  if (q.empty() || k == 0) return {};
  // The query quantized the same way; an int32 dot product per row (vectorizes to pmaddwd/VNNI).
  float largest = 0;
  for (float x : q) largest = std::max(largest, std::fabs(x));
  const float qscale = largest > 0 ? largest / 127.0f : 1.0f;
  std::vector<std::int8_t> qq(dimension_);
  for (std::size_t i = 0; i < dimension_; ++i) qq[i] = static_cast<std::int8_t>(std::lround(q[i] / qscale));
  const std::size_t candidates = std::min(ids_.size(), std::max<std::size_t>(64, 8 * k));
  std::vector<std::pair<float, std::size_t>> scored(ids_.size());
  for (std::size_t row = 0; row < ids_.size(); ++row) {
    const std::int8_t* v = quant_.data() + row * dimension_;
    std::int32_t dot = 0;
    for (std::size_t i = 0; i < dimension_; ++i) dot += static_cast<std::int32_t>(v[i]) * static_cast<std::int32_t>(qq[i]);
    scored[row] = {static_cast<float>(dot) * quant_scale_[row], row};
  }
  std::nth_element(scored.begin(), scored.begin() + static_cast<std::ptrdiff_t>(candidates - 1), scored.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<std::size_t> rows;
  rows.reserve(candidates);
  for (std::size_t i = 0; i < candidates; ++i) rows.push_back(scored[i].second);
  return rank(q, rows, k);
}

void VectorIndex::refresh_locked() {
  if (store_.generation() == generation_) return;
  generation_ = store_.generation();
  vectors_.clear();
  store_.for_each_vector([&](std::int64_t id, const float* v, std::size_t n) { vectors_.add(id, v, n); });
}

std::size_t VectorIndex::size() {
  std::lock_guard lock(mutex_);
  refresh_locked();
  return vectors_.size();
}

std::vector<std::pair<std::int64_t, float>> VectorIndex::search(const std::vector<float>& query, std::size_t k) {
  std::lock_guard lock(mutex_);
  refresh_locked();
  return vectors_.size() >= kQuantizedFrom ? vectors_.quantized(query, k) : vectors_.exact(query, k);
}

}  // namespace mcpd::packs::knowledge
