// HnswIndex implementation over hnswlib (Debian's libhnswlib-dev, header-only).
#include "packs/knowledge/index/hnsw_index.hpp"

#include <openssl/evp.h>

#include <boost/json.hpp>

#include <unistd.h>

#include <cstring>
#include <fstream>
#include <mutex>
#include <stdexcept>

// hnswlib's SIMD search prefetches the word after each link list, one past its allocation: harmless
// for a prefetch, but AddressSanitizer reports the read, so sanitizer builds use the plain loops.
#if defined(__SANITIZE_ADDRESS__) && !defined(NO_MANUAL_VECTORIZATION)
#define NO_MANUAL_VECTORIZATION
#endif
#include <hnswlib/hnswlib.h>

#include "infra/crypto.hpp"

namespace mcpd::packs::knowledge {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr int kFormat = 1;

fs::path header_of(const fs::path& graph) { return fs::path(graph.string() + ".json"); }

// sha256 of a file, read in 1 MiB pieces (graphs are hundreds of megabytes).
std::string file_sha256(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    if (in.gcount() > 0) EVP_DigestUpdate(ctx.get(), buffer.data(), static_cast<std::size_t>(in.gcount()));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &length);
  return infra::hex_encode(std::string_view(reinterpret_cast<const char*>(digest), length));
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace

HnswIndex::HnswIndex(std::size_t dimension, const ApproximateParams& params)
    : dimension_(dimension), params_(params), space_(std::make_unique<hnswlib::InnerProductSpace>(dimension)) {}

HnswIndex::HnswIndex(std::size_t dimension, std::size_t capacity, const ApproximateParams& params)
    : HnswIndex(dimension, params) {
  graph_ = std::make_unique<hnswlib::HierarchicalNSW<float>>(space_.get(), std::max<std::size_t>(capacity, 16), params.m,
                                                             params.ef_construction);
  graph_->setEf(params.ef_search);
}

HnswIndex::~HnswIndex() = default;

std::size_t HnswIndex::size() const { return graph_->cur_element_count - graph_->num_deleted_; }

void HnswIndex::put(std::int64_t id, const float* unit) {
  if (graph_->cur_element_count >= graph_->max_elements_ &&
      graph_->label_lookup_.find(static_cast<hnswlib::labeltype>(id)) == graph_->label_lookup_.end())
    graph_->resizeIndex(graph_->max_elements_ * 2);
  graph_->addPoint(unit, static_cast<hnswlib::labeltype>(id));
}

void HnswIndex::insert_concurrently(std::int64_t id, const float* unit) {
  graph_->addPoint(unit, static_cast<hnswlib::labeltype>(id));
}

void HnswIndex::remove(std::int64_t id) {
  auto it = graph_->label_lookup_.find(static_cast<hnswlib::labeltype>(id));
  if (it != graph_->label_lookup_.end() && !graph_->isMarkedDeleted(it->second))
    graph_->markDelete(static_cast<hnswlib::labeltype>(id));
}

bool HnswIndex::holds(std::int64_t id, const float* unit) const {
  auto it = graph_->label_lookup_.find(static_cast<hnswlib::labeltype>(id));
  if (it == graph_->label_lookup_.end() || graph_->isMarkedDeleted(it->second)) return false;
  return std::memcmp(graph_->getDataByInternalId(it->second), unit, dimension_ * sizeof(float)) == 0;
}

std::vector<std::int64_t> HnswIndex::ids() const {
  std::vector<std::int64_t> out;
  out.reserve(graph_->label_lookup_.size());
  for (const auto& [label, internal] : graph_->label_lookup_)
    if (!graph_->isMarkedDeleted(internal)) out.push_back(static_cast<std::int64_t>(label));
  return out;
}

std::vector<std::pair<std::int64_t, float>> HnswIndex::search(const float* unit_query, std::size_t k) const {
  std::vector<std::pair<std::int64_t, float>> out;
  if (k == 0 || size() == 0) return out;
  auto queue = graph_->searchKnn(unit_query, k);  // farthest on top; distance = 1 - cosine
  out.resize(queue.size());
  for (std::size_t i = out.size(); i-- > 0; queue.pop())
    out[i] = {static_cast<std::int64_t>(queue.top().second), 1.0f - queue.top().first};
  return out;
}

void HnswIndex::save(const fs::path& graph, const std::string& model) const {
  // Temporary names of this writer's own: a server and `mcpd kb` saving at once never share a file.
  const std::string unique = "." + std::to_string(::getpid()) + "." + infra::random_hex(4) + ".tmp";
  const fs::path graph_tmp = graph.string() + unique, header_tmp = header_of(graph).string() + unique;
  try {
    graph_->saveIndex(graph_tmp.string());
    const std::string digest = file_sha256(graph_tmp);
    fs::rename(graph_tmp, graph);
    write_file(header_tmp, json::serialize(json::object{{"format", kFormat},
                                                        {"model", model},
                                                        {"dimension", dimension_},
                                                        {"count", size()},
                                                        {"sha256", digest}}));
    fs::rename(header_tmp, header_of(graph));
  } catch (...) {
    std::error_code ec;  // leave no temporary file behind (a full disk, say)
    fs::remove(graph_tmp, ec);
    fs::remove(header_tmp, ec);
    throw;
  }
}

core::Result<std::unique_ptr<HnswIndex>> HnswIndex::load(const fs::path& graph, const std::string& model,
                                                         std::size_t dimension, const ApproximateParams& params) {
  using core::Error;
  std::error_code ec;
  if (!fs::exists(header_of(graph), ec) || !fs::exists(graph, ec)) return Error::not_found("no saved graph");
  // hnswlib reports a short or unreadable file by throwing; a graph that cannot be loaded is rebuilt.
  try {
    std::ifstream in(header_of(graph), std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    json::error_code jec;
    auto header = json::parse(text, jec);
    if (jec || !header.is_object()) return Error::unavailable("its header is not JSON");
    const auto& h = header.as_object();
    auto number = [&](const char* key) -> std::int64_t {
      auto v = h.if_contains(key);
      return v && v->is_int64() ? v->get_int64() : v && v->is_uint64() ? static_cast<std::int64_t>(v->get_uint64()) : -1;
    };
    auto string = [&](const char* key) -> std::string {
      auto v = h.if_contains(key);
      return v && v->is_string() ? std::string(v->get_string()) : std::string();
    };
    if (number("format") != kFormat) return Error::unavailable("it has another format");
    if (string("model") != model)
      return Error::unavailable("it was built from vectors of model '" + string("model") + "'");
    if (number("dimension") != static_cast<std::int64_t>(dimension)) return Error::unavailable("its dimension differs");
    if (string("sha256") != file_sha256(graph))
      return Error::unavailable("its checksum does not match (an interrupted write?)");
    std::unique_ptr<HnswIndex> index(new HnswIndex(dimension, params));
    index->graph_ = std::make_unique<hnswlib::HierarchicalNSW<float>>(index->space_.get(), graph.string());
    // hnswlib 0.6.2's loadIndex adds the deleted elements to a count it never zeroes: count again.
    auto& g = *index->graph_;
    g.num_deleted_ = 0;
    for (std::size_t i = 0; i < g.cur_element_count; ++i) g.num_deleted_ += g.isMarkedDeleted(static_cast<hnswlib::tableint>(i)) ? 1 : 0;
    index->graph_->setEf(params.ef_search);
    return index;
  } catch (const std::exception& e) {
    return Error::unavailable(std::string("it could not be read: ") + e.what());
  }
}

}  // namespace mcpd::packs::knowledge
