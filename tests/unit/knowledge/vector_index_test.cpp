// The approximate vector index: HNSW recall against the exact scan, its file (saved, loaded,
// refused when it does not match), and VectorIndex keeping it in step with the store.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

#include "search_pages.hpp"
#include "temp_dir.hpp"
#include "packs/knowledge/index/hnsw_index.hpp"
#include "packs/knowledge/index/index_store.hpp"
#include "packs/knowledge/index/vector_index.hpp"
#include "packs/knowledge/search/search.hpp"

using namespace mcpd::packs::knowledge;
namespace fs = std::filesystem;
using mcpd::test::TempDir;
namespace json = boost::json;

namespace {

// Clustered unit vectors (embeddings come in families of near-duplicates).
class Vectors {
 public:
  Vectors(std::size_t dim, std::size_t clusters, unsigned seed) : dim_(dim), rng_(seed), centers_(clusters) {
    for (auto& c : centers_) {
      c.resize(dim);
      for (auto& x : c) x = noise_(rng_);
    }
  }
  std::vector<float> next(std::size_t i, float spread = 0.35f) {
    std::vector<float> v(dim_);
    double norm = 0;
    for (std::size_t d = 0; d < dim_; ++d) {
      v[d] = centers_[i % centers_.size()][d] + spread * noise_(rng_);
      norm += static_cast<double>(v[d]) * v[d];
    }
    for (auto& x : v) x = static_cast<float>(x / std::sqrt(norm));
    return v;
  }

 private:
  std::size_t dim_;
  std::mt19937 rng_;
  std::normal_distribution<float> noise_{0.0f, 1.0f};
  std::vector<std::vector<float>> centers_;
};

ApproximateParams small_params(std::size_t from) {
  ApproximateParams p;
  p.from = from;
  p.build_threads = 2;
  return p;
}

// An index with `n` one-chunk documents and a vector for each chunk; the vectors by chunk id.
std::map<std::int64_t, std::vector<float>> fill(IndexStore& store, Vectors& gen, std::size_t first, std::size_t n) {
  store.ensure_source("s", "directory");
  std::vector<PendingDocument> docs;
  for (std::size_t i = first; i < first + n; ++i) {
    std::string text = "document number " + std::to_string(i);
    docs.push_back({{"d" + std::to_string(i) + ".md", "D", "markdown", "v1", "", text.size(), text},
                    {Chunk{text, "", 1, 1, "hash-" + std::to_string(i)}}});
  }
  store.put_documents("s", docs);
  store.set_embedding_model("test:model", 64);
  std::vector<std::pair<std::string, std::vector<float>>> vectors;
  for (std::size_t i = first; i < first + n; ++i) vectors.emplace_back("hash-" + std::to_string(i), gen.next(i));
  store.put_embeddings(vectors);
  std::map<std::int64_t, std::vector<float>> by_id;
  store.for_each_vector([&](std::int64_t id, const float* v, std::size_t d) { by_id[id].assign(v, v + d); });
  return by_id;
}

}  // namespace

TEST(HnswIndex, FindsTheExactNeighboursAndSurvivesASaveAndLoad) {
  TempDir t;
  const std::size_t dim = 64, n = 5000;
  Vectors gen(dim, 100, 3);
  VectorSet exact;
  HnswIndex graph(dim, 1000, small_params(1));  // starts small: put() must grow it
  for (std::size_t i = 0; i < n; ++i) {
    auto v = gen.next(i);
    exact.add(static_cast<std::int64_t>(i) + 1, v.data(), dim);
    graph.put(static_cast<std::int64_t>(i) + 1, exact.row(i));
  }
  ASSERT_EQ(graph.size(), n);
  std::size_t found = 0, wanted = 0;
  std::vector<std::vector<float>> queries;
  for (std::size_t q = 0; q < 100; ++q) queries.push_back(gen.next(q * 7, 0.5f));
  for (const auto& q : queries) {
    auto want = exact.exact(q, 10);
    auto got = graph.search(q.data(), 10);
    ASSERT_EQ(got.size(), 10u);
    for (std::size_t i = 1; i < got.size(); ++i) EXPECT_GE(got[i - 1].second, got[i].second);
    for (const auto& w : want) {
      ++wanted;
      auto it = std::find_if(got.begin(), got.end(), [&](const auto& g) { return g.first == w.first; });
      if (it != got.end()) {
        ++found;
        EXPECT_NEAR(it->second, w.second, 1e-5);  // the graph's scores are cosines too
      }
    }
  }
  EXPECT_GE(static_cast<double>(found) / static_cast<double>(wanted), 0.95) << found << " of " << wanted;

  // Removed ids are never answered; a re-put one comes back with its new vector.
  graph.remove(1);
  auto top = graph.search(exact.row(0), 5);
  EXPECT_TRUE(std::none_of(top.begin(), top.end(), [](const auto& h) { return h.first == 1; }));
  EXPECT_EQ(graph.size(), n - 1);
  EXPECT_FALSE(graph.holds(1, exact.row(0)));
  graph.put(1, exact.row(1));
  EXPECT_TRUE(graph.holds(1, exact.row(1)));
  EXPECT_FALSE(graph.holds(1, exact.row(0)));

  // Saved and loaded: the same answers.
  const fs::path file = t.path() / "kb.db.hnsw";
  graph.save(file, "test:model");
  auto loaded = HnswIndex::load(file, "test:model", dim, small_params(1));
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ((*loaded)->size(), graph.size());
  for (const auto& q : queries) EXPECT_EQ((*loaded)->search(q.data(), 10), graph.search(q.data(), 10));
}

TEST(HnswIndex, RefusesAFileThatDoesNotMatch) {
  TempDir t;
  const std::size_t dim = 16;
  Vectors gen(dim, 4, 5);
  HnswIndex graph(dim, 100, small_params(1));
  for (std::int64_t i = 1; i <= 100; ++i) graph.put(i, gen.next(static_cast<std::size_t>(i)).data());
  const fs::path file = t.path() / "kb.db.hnsw";
  // Why a load failed: NotFound for no graph at all, else Unavailable with the reason.
  auto why = [&](const std::string& model, std::size_t dimension, mcpd::core::ErrorKind kind = mcpd::core::ErrorKind::Unavailable) {
    auto r = HnswIndex::load(file, model, dimension, {});
    if (!r.failed()) {
      ADD_FAILURE() << "loaded";
      return std::string();
    }
    EXPECT_EQ(r.error().kind, kind);
    return r.error().message;
  };
  EXPECT_EQ(why("m", dim, mcpd::core::ErrorKind::NotFound), "no saved graph");
  graph.save(file, "m");
  EXPECT_NE(why("other", dim).find("model 'm'"), std::string::npos);
  EXPECT_NE(why("m", dim * 2).find("dimension"), std::string::npos);
  // A changed byte and a truncated file: the checksum stops both before hnswlib reads them.
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(200);
    f.put('\x7f');
  }
  EXPECT_NE(why("m", dim).find("checksum"), std::string::npos);
  fs::resize_file(file, 64);
  EXPECT_NE(why("m", dim).find("checksum"), std::string::npos);
  { std::ofstream(fs::path(file.string() + ".json")) << "{not json"; }
  EXPECT_NE(why("m", dim).find("JSON"), std::string::npos);
}

TEST(VectorIndex, BuildsTheGraphInTheBackgroundPersistsItAndFollowsTheStore) {
  TempDir t;
  const fs::path db = t.path() / "kb.db", graph_file = t.path() / "kb.db.hnsw";
  Vectors gen(64, 20, 9);
  IndexStore store(db.string());
  auto vectors = fill(store, gen, 0, 600);
  ASSERT_EQ(vectors.size(), 600u);
  const auto& [first_id, first_vector] = *vectors.begin();
  {
    VectorIndex index(store, small_params(500), graph_file, "test:model");
    // The first search starts the build and does not wait for it.
    auto hits = index.search(first_vector, 3);
    ASSERT_FALSE(hits.empty());
    EXPECT_EQ(hits[0].first, first_id);
    index.wait_for_build();
    EXPECT_EQ(index.method(), "approximate");
    EXPECT_TRUE(fs::exists(graph_file));
    EXPECT_TRUE(fs::exists(graph_file.string() + ".json"));
    hits = index.search(first_vector, 3);
    ASSERT_FALSE(hits.empty());
    EXPECT_EQ(hits[0].first, first_id);
    EXPECT_NEAR(hits[0].second, 1.0f, 1e-5);
  }
  // More documents: a small difference is applied in place, and saved when the index closes.
  auto more = fill(store, gen, 600, 20);
  std::int64_t new_id = 0;
  std::vector<float> new_vector;
  for (const auto& [id, v] : more)
    if (!vectors.count(id)) new_id = id, new_vector = v;
  ASSERT_NE(new_id, 0);
  {
    VectorIndex index(store, small_params(500), graph_file, "test:model");
    EXPECT_EQ(index.method(), "approximate");  // loaded, reconciled, no build
    auto hits = index.search(new_vector, 1);
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].first, new_id);
    // A document deleted: its chunk is never answered again.
    store.delete_document("s", "d600.md");
    store.delete_document("s", "d601.md");
    for (const auto& [id, v] : more) {
      if (vectors.count(id)) continue;
      auto h = index.search(v, 1);
      ASSERT_EQ(h.size(), 1u);
      EXPECT_EQ(h[0].second > 0.9999f, h[0].first == id);  // found itself, or it was deleted
    }
    EXPECT_EQ(index.size(), 618u);
  }
  // A damaged file: rebuilt, never trusted.
  {
    std::fstream f(graph_file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x01');
    f.put('\x02');
  }
  {
    VectorIndex index(store, small_params(500), graph_file, "test:model");
    auto hits = index.search(first_vector, 1);  // answered by the scan while the graph rebuilds
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].first, first_id);
    index.wait_for_build();
    EXPECT_EQ(index.method(), "approximate");
    hits = index.search(first_vector, 1);
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].first, first_id);
  }
  // Below the threshold the vectors are scanned exactly.
  VectorIndex small(store, small_params(100000), graph_file, "test:model");
  EXPECT_EQ(small.method(), "exact");
}

namespace {

// Vectors chosen by the test: the query "alpha" points along x; "two" is close to it, "one" far,
// and "unrelated" (which shares no word with the query) closest of all.
class FixedEmbedder : public Embedder {
 public:
  std::string provider() const override { return "test"; }
  std::string model() const override { return "fixed"; }
  std::size_t dimension() const override { return 3; }
  std::vector<std::vector<float>> embed(const std::vector<std::string>& texts) override {
    std::vector<std::vector<float>> out;
    for (const auto& t : texts) {
      if (t.find("unrelated") != std::string::npos) out.push_back({1.0f, 0.0f, 0.0f});
      else if (t.find("two") != std::string::npos) out.push_back({0.8f, 0.6f, 0.0f});
      else if (t.find("one") != std::string::npos) out.push_back({0.2f, 0.98f, 0.0f});
      else out.push_back({1.0f, 0.0f, 0.0f});
    }
    return out;
  }
};

std::vector<std::string> paths(const mcpd::core::Result<json::object>& r) {
  std::vector<std::string> out;
  if (!r) {
    ADD_FAILURE() << (r.failed() ? r.error().message : "cancelled");
    return out;
  }
  for (const auto& hit : r->at("results").as_array()) out.emplace_back(hit.at("path").as_string());
  return out;
}

}  // namespace

TEST(HybridSearch, ConvexFusionWeighsBothScoresOfEveryCandidate) {
  TempDir t;
  IndexStore store((t.path() / "kb.db").string());
  FixedEmbedder embedder;
  store.ensure_source("s", "directory");
  std::vector<PendingDocument> docs;
  for (std::string name : {"one", "two", "unrelated"}) {
    std::string text = name == "unrelated" ? "unrelated words here" : "alpha report " + name;
    docs.push_back({{name + ".md", name, "markdown", "v1", "", text.size(), text}, {Chunk{text, "", 1, 1, "h-" + name}}});
  }
  store.put_documents("s", docs);
  store.set_embedding_model("test:fixed", 3);
  std::vector<std::pair<std::string, std::vector<float>>> vectors;
  for (std::string name : {"one", "two", "unrelated"}) vectors.emplace_back("h-" + name, embedder.embed({name}).at(0));
  store.put_embeddings(vectors);
  auto query = [](const char* mode) { return json::object{{"query", "alpha"}, {"mode", mode}}; };

  Searcher convex(store, &embedder);  // the defaults: convex, weights 1 and 0.5
  // Lexically "one" and "two" tie; semantically "unrelated" is nearest.
  EXPECT_EQ(paths(convex.search(query("lexical"))), (std::vector<std::string>{"one.md", "two.md"}));
  EXPECT_EQ(paths(convex.search(query("semantic"))), (std::vector<std::string>{"unrelated.md", "two.md", "one.md"}));
  // Hybrid: (1 + 0.5 · 0.8) / 1.5 for "two", (1 + 0.5 · 0.2) / 1.5 for "one", 0.5 / 1.5 for "unrelated".
  auto hybrid = convex.search(query("hybrid"));
  EXPECT_EQ(paths(hybrid), (std::vector<std::string>{"two.md", "one.md", "unrelated.md"}));
  const auto& results = hybrid->at("results").as_array();
  EXPECT_NEAR(results[0].at("score").as_double(), 1.4 / 1.5, 1e-4);
  EXPECT_NEAR(results[1].at("score").as_double(), 1.1 / 1.5, 1e-4);
  EXPECT_NEAR(results[2].at("score").as_double(), 0.5 / 1.5, 1e-4);

  // Reciprocal-rank fusion only sees ranks: the lexical tie's first stays first.
  HybridWeights rrf;
  rrf.fusion = HybridWeights::Fusion::rrf;
  Searcher by_rank(store, &embedder, rrf);
  EXPECT_EQ(paths(by_rank.search(query("hybrid"))), (std::vector<std::string>{"one.md", "two.md", "unrelated.md"}));
}

TEST(HybridSearch, SimilarityThresholdBoundsEveryCandidate) {
  TempDir t;
  IndexStore store((t.path() / "kb.db").string());
  FixedEmbedder embedder;
  store.ensure_source("s", "directory");
  std::vector<PendingDocument> docs;
  for (std::string name : {"one", "two", "unrelated"}) {
    std::string text = name == "unrelated" ? "unrelated words here" : "alpha report " + name;
    docs.push_back({{name + ".md", name, "markdown", "v1", "", text.size(), text}, {Chunk{text, "", 1, 1, "h-" + name}}});
  }
  // A lexical hit whose passage has no vector yet: its cosine is unknown, so no threshold is met.
  std::string pending = "alpha report pending";
  docs.push_back({{"pending.md", "pending", "markdown", "v1", "", pending.size(), pending}, {Chunk{pending, "", 1, 1, "h-pending"}}});
  store.put_documents("s", docs);
  store.set_embedding_model("test:fixed", 3);
  std::vector<std::pair<std::string, std::vector<float>>> vectors;
  for (std::string name : {"one", "two", "unrelated"}) vectors.emplace_back("h-" + name, embedder.embed({name}).at(0));
  store.put_embeddings(vectors);
  auto query = [](double threshold) {
    return json::object{{"query", "alpha"}, {"mode", "hybrid"}, {"similarity_threshold", threshold}};
  };
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  // Cosines with the query: unrelated 1, two 0.8, one 0.2; pending has none.
  HybridWeights rrf;
  rrf.fusion = HybridWeights::Fusion::rrf;
  for (auto weights : {HybridWeights{}, rrf}) {
    Searcher s(store, &embedder, weights);
    EXPECT_EQ(sorted(paths(s.search(json::object{{"query", "alpha"}, {"mode", "hybrid"}}))),
              (std::vector<std::string>{"one.md", "pending.md", "two.md", "unrelated.md"}));
    EXPECT_EQ(sorted(paths(s.search(query(0.5)))), (std::vector<std::string>{"two.md", "unrelated.md"}));
    EXPECT_EQ(paths(s.search(query(0.99))), (std::vector<std::string>{"unrelated.md"}));
    EXPECT_EQ(sorted(paths(s.search(query(0.0)))), (std::vector<std::string>{"one.md", "two.md", "unrelated.md"}));
  }
}

// Semantic and hybrid pages go on while a later offset finds more: when the nearest passages are all
// one document's (and the per-document cap keeps one) or are left out by a filter, the candidate
// lists grow until the page is full or every vector has been looked at.
TEST(HybridSearch, PagesAreNotCutShortByTheCapOrTheFilters) {
  TempDir t;
  IndexStore store((t.path() / "kb.db").string());
  FixedEmbedder embedder;
  store.ensure_source("s", "directory");
  // 60 passages of one document along the query's direction, then "two" (0.8) and "one" (0.2).
  std::vector<Chunk> crowd;
  std::vector<std::pair<std::string, std::vector<float>>> vectors;
  std::string crowd_text;
  for (int i = 1; i <= 60; ++i) {
    std::string text = "alpha crowd " + std::to_string(i);
    crowd.push_back(Chunk{text, "", i, i, "h-crowd-" + std::to_string(i)});
    crowd_text += text + "\n";
    vectors.emplace_back("h-crowd-" + std::to_string(i), std::vector<float>{1.0f, 0.0f, 0.0f});
  }
  std::vector<PendingDocument> docs{{{"crowd/all.md", "all", "markdown", "v1", "", crowd_text.size(), crowd_text}, crowd}};
  for (std::string name : {"one", "two"}) {
    std::string text = "alpha report " + name;
    docs.push_back({{"target/" + name + ".md", name, "markdown", "v1", "", text.size(), text}, {Chunk{text, "", 1, 1, "h-" + name}}});
    vectors.emplace_back("h-" + name, embedder.embed({name}).at(0));
  }
  store.put_documents("s", docs);
  store.set_embedding_model("test:fixed", 3);
  store.put_embeddings(vectors);
  using mcpd::test::expect_pages_cover_everything;

  HybridWeights rrf;
  rrf.fusion = HybridWeights::Fusion::rrf;
  for (auto weights : {HybridWeights{}, rrf}) {
    Searcher s(store, &embedder, weights);
    auto filtered = [](const char* mode) { return json::object{{"query", "alpha"}, {"mode", mode}, {"path_prefix", "target/"}}; };
    // The first page of one, and every page after it.
    EXPECT_EQ(paths(s.search(json::object{{"query", "alpha"}, {"mode", "semantic"}, {"path_prefix", "target/"}, {"limit", 1}})),
              (std::vector<std::string>{"target/two.md"}));
    EXPECT_EQ(expect_pages_cover_everything(s, filtered("semantic")), (std::vector<std::string>{"target/two.md:1", "target/one.md:1"}));
    EXPECT_EQ(expect_pages_cover_everything(s, filtered("hybrid")).size(), 2u);
    auto capped = expect_pages_cover_everything(s, json::object{{"query", "alpha"}, {"mode", "semantic"}, {"max_per_document", 1}});
    ASSERT_EQ(capped.size(), 3u);
    EXPECT_EQ(capped[1], "target/two.md:1");
    EXPECT_EQ(capped[2], "target/one.md:1");
    // A threshold ends the lists where the cosines fall below it.
    auto close = filtered("semantic");
    close["similarity_threshold"] = 0.5;
    EXPECT_EQ(expect_pages_cover_everything(s, close), (std::vector<std::string>{"target/two.md:1"}));
  }
}
