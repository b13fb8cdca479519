// VectorSet and VectorIndex implementation.
#include "packs/knowledge/index/vector_index.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include <Eigen/Dense>

#include "infra/logging.hpp"

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
  row_of_[id] = ids_.size();
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
  row_of_.clear();
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
  // One matrix-vector product (Eigen's GEMV) for every score, then the k best.
  using Rows = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Eigen::Map<const Rows> m(matrix_.data(), static_cast<Eigen::Index>(ids_.size()), static_cast<Eigen::Index>(dimension_));
  Eigen::VectorXf scores = m * Eigen::Map<const Eigen::VectorXf>(q.data(), static_cast<Eigen::Index>(dimension_));
  std::vector<std::pair<std::int64_t, float>> out(ids_.size());
  for (std::size_t r = 0; r < ids_.size(); ++r) out[r] = {ids_[r], scores[static_cast<Eigen::Index>(r)]};
  const std::size_t keep = std::min(k, out.size());
  std::partial_sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(keep), out.end(),
                    [](const auto& a, const auto& b) { return a.second > b.second || (a.second == b.second && a.first < b.first); });
  out.resize(keep);
  return out;
}

std::vector<std::pair<std::int64_t, float>> VectorSet::similarities(const std::vector<float>& query,
                                                                    const std::vector<std::int64_t>& ids) const {
  auto q = normalized(query);
  std::vector<std::pair<std::int64_t, float>> out;
  if (q.empty()) return out;
  for (auto id : ids)
    if (auto it = row_of_.find(id); it != row_of_.end()) out.emplace_back(id, dot(row(it->second), q.data(), dimension_));
  return out;
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

VectorIndex::VectorIndex(IndexStore& store, ApproximateParams params, std::filesystem::path graph_file, std::string model)
    : store_(store), params_(params), graph_file_(std::move(graph_file)), model_(std::move(model)) {}

VectorIndex::~VectorIndex() {
  stopping_ = true;
  if (builder_.joinable()) builder_.join();
  std::unique_lock lock(mutex_);
  if (graph_dirty_) save_locked();
}

void VectorIndex::wait_for_build() {
  std::thread finished;
  {
    std::unique_lock lock(mutex_);
    finished = std::move(builder_);
  }
  if (finished.joinable()) finished.join();
}

void VectorIndex::refresh_locked() {
  const std::uint64_t generation = store_.generation();
  if (generation == generation_) return;
  auto fresh = std::make_shared<VectorSet>();
  store_.for_each_vector([&](std::int64_t id, const float* v, std::size_t n) { fresh->add(id, v, n); });
  // Only once read: when reading fails (the error reaches the search), the next search tries again.
  generation_ = generation;
  vectors_ = std::move(fresh);
  try {
    if (!reconcile_locked()) start_build_locked();
  } catch (const std::exception& e) {
    // e.g. out of memory while growing the graph: this search, and the next ones, scan the vectors.
    infra::log::warn("knowledge: updating the vector graph failed; searches scan the vectors", {{"error", e.what()}});
    graph_.reset();
  }
}

bool VectorIndex::reconcile_locked() {
  const VectorSet& set = *vectors_;
  if (set.size() == 0 || set.size() < params_.from) {
    graph_.reset();  // a small set is scanned; a saved graph stays on disk for when it grows again
    return true;
  }
  if (!graph_ && !tried_load_ && !graph_file_.empty()) {
    tried_load_ = true;
    auto loaded = HnswIndex::load(graph_file_, model_, set.dimension(), params_);
    if (loaded) graph_ = std::move(loaded).value();
    else if (loaded.error().kind != core::ErrorKind::NotFound)
      infra::log::info("knowledge: rebuilding the vector graph",
                       {{"file", graph_file_.string()}, {"reason", loaded.error().message}});
  }
  if (graph_ && graph_->dimension() != set.dimension()) graph_.reset();
  if (!graph_) return false;
  // The difference: rows the graph lacks or holds with another vector, and ids it has no more.
  std::vector<std::size_t> put;
  std::unordered_set<std::int64_t> live;
  live.reserve(set.size());
  for (std::size_t r = 0; r < set.size(); ++r) {
    live.insert(set.id(r));
    if (!graph_->holds(set.id(r), set.row(r))) put.push_back(r);
  }
  std::vector<std::int64_t> removed;
  for (auto id : graph_->ids())
    if (!live.count(id)) removed.push_back(id);
  if (put.empty() && removed.empty()) return true;
  // In place costs about a millisecond per vector under the lock; beyond that, a background build.
  if (put.size() + removed.size() > std::max<std::size_t>(1024, set.size() / 20)) {
    graph_.reset();
    return false;
  }
  for (auto id : removed) graph_->remove(id);
  for (auto r : put) graph_->put(set.id(r), set.row(r));
  graph_dirty_ = true;
  return true;
}

void VectorIndex::start_build_locked() {
  if (building_) return;  // the running build reconciles with the newest set when it ends
  if (builder_.joinable()) builder_.join();  // a finished build's thread
  building_ = true;
  builder_ = std::thread([this] { build_loop(); });
}

void VectorIndex::build_loop() {
  std::shared_ptr<const VectorSet> set;
  {
    std::shared_lock lock(mutex_);
    set = vectors_;
  }
  for (;;) {
    std::unique_ptr<HnswIndex> graph;
    try {
      graph = std::make_unique<HnswIndex>(set->dimension(), set->size() + set->size() / 8, params_);
      std::atomic<std::size_t> next{0};
      auto work = [&] {
        for (std::size_t r; !stopping_ && (r = next.fetch_add(1)) < set->size();) graph->insert_concurrently(set->id(r), set->row(r));
      };
      std::vector<std::thread> helpers;
      for (std::size_t t = 1; t < std::max<std::size_t>(1, params_.build_threads); ++t) helpers.emplace_back(work);
      work();
      for (auto& h : helpers) h.join();
      if (!stopping_ && !graph_file_.empty()) graph->save(graph_file_, model_);
    } catch (const std::exception& e) {
      infra::log::warn("knowledge: building the vector graph failed; searches scan the vectors", {{"error", e.what()}});
      graph.reset();
    }
    std::unique_lock lock(mutex_);
    if (stopping_ || !graph || vectors_->size() < params_.from || vectors_->dimension() != graph->dimension()) {
      building_ = false;
      return;
    }
    graph_ = std::move(graph);
    graph_dirty_ = false;
    bool in_step = false;
    try {
      in_step = reconcile_locked();  // the store may have changed during the build
    } catch (const std::exception& e) {
      // e.g. out of memory while growing the graph: searches fall back to the scan.
      infra::log::warn("knowledge: updating the vector graph failed; searches scan the vectors", {{"error", e.what()}});
      graph_.reset();
      building_ = false;
      return;
    }
    if (in_step) {
      building_ = false;
      return;
    }
    set = vectors_;  // changed too much: build again from the newest set
  }
}

void VectorIndex::save_locked() {
  if (!graph_ || graph_file_.empty()) return;
  try {
    graph_->save(graph_file_, model_);
    graph_dirty_ = false;
  } catch (const std::exception& e) {
    infra::log::warn("knowledge: could not save the vector graph", {{"file", graph_file_.string()}, {"error", e.what()}});
  }
}

std::size_t VectorIndex::size() {
  std::unique_lock lock(mutex_);
  refresh_locked();
  return vectors_->size();
}

std::string VectorIndex::method() {
  std::unique_lock lock(mutex_);
  refresh_locked();
  if (graph_) return "approximate";
  return vectors_->size() >= kQuantizedFrom ? "quantized" : "exact";
}

std::vector<std::pair<std::int64_t, float>> VectorIndex::search_locked(const std::vector<float>& query, std::size_t k) const {
  if (graph_) {
    auto q = vectors_->normalized(query);
    return q.empty() ? std::vector<std::pair<std::int64_t, float>>{} : graph_->search(q.data(), k);
  }
  return vectors_->size() >= kQuantizedFrom ? vectors_->quantized(query, k) : vectors_->exact(query, k);
}

std::vector<std::pair<std::int64_t, float>> VectorIndex::similarities(const std::vector<float>& query,
                                                                      const std::vector<std::int64_t>& ids) {
  {
    std::shared_lock lock(mutex_);
    if (store_.generation() == generation_) return vectors_->similarities(query, ids);
  }
  std::unique_lock lock(mutex_);
  refresh_locked();
  return vectors_->similarities(query, ids);
}

std::vector<std::pair<std::int64_t, float>> VectorIndex::search(const std::vector<float>& query, std::size_t k) {
  {
    std::shared_lock lock(mutex_);
    if (store_.generation() == generation_) return search_locked(query, k);
  }
  std::unique_lock lock(mutex_);
  refresh_locked();
  return search_locked(query, k);
}

}  // namespace mcpd::packs::knowledge
