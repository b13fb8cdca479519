// search_documents / list_documents / get_document: argument checking, the query, the answer.
// Shared by the MCP tools and the REST endpoints so both behave the same.
#pragma once
#include <boost/json.hpp>

#include <string>

#include "core/result.hpp"
#include "packs/knowledge/embed/embedder.hpp"
#include "packs/knowledge/index/index_store.hpp"
#include "packs/knowledge/index/vector_index.hpp"

namespace mcpd::packs::knowledge {

// How hybrid search merges the lexical and the semantic candidates.
//  - convex (the default): every candidate gets both scores (a lexical hit's cosine is computed
//    even when it is not among the nearest vectors; a semantic-only hit's lexical score is 0), each
//    divided by the best among the candidates (negative cosines count as 0), then
//    (lexical · L + semantic · S) / (lexical + semantic). The default weights (1 and 0.5) were
//    chosen on half of the man-page known items and checked on the other half
//    (docs/benchmarks/ranking.md).
//  - rrf: reciprocal-rank fusion, weight / (k + rank) summed over the two rankings.
struct HybridWeights {
  enum class Fusion { convex, rrf };
  Fusion fusion = Fusion::convex;
  double lexical = 1.0;
  double semantic = 0.5;
  double k = 60.0;  // the RRF constant
};

class Searcher {
 public:
  // `embedder` may be null: then only lexical search is available, and the answer says so.
  // `graph_file`: where the vector graph is kept (see VectorIndex); empty: not persisted.
  Searcher(IndexStore& store, Embedder* embedder = nullptr, HybridWeights weights = {}, ApproximateParams approximate = {},
           std::filesystem::path graph_file = {})
      : store_(store),
        embedder_(embedder),
        weights_(weights),
        vectors_(store, approximate, std::move(graph_file), embedder ? embedder->provider() + ":" + embedder->model() : "") {}

  // The answer, or an Error: InvalidArgument naming the argument that was wrong, NotFound for
  // get()'s missing document, Unavailable when the query cannot be embedded or the index is busy.
  core::Result<boost::json::object> search(const boost::json::object& args);
  core::Result<boost::json::object> list(const boost::json::object& args);
  core::Result<boost::json::object> get(const boost::json::object& args);

  static boost::json::object input_schema();
  static boost::json::object list_schema();
  // A readable rendering of a search answer for the text content of the tool result.
  static std::string render_text(const boost::json::object& answer);
  VectorIndex& vectors() { return vectors_; }

 private:
  core::Result<boost::json::object> run_search(const boost::json::object& args);
  core::Result<boost::json::object> run_list(const boost::json::object& args);
  core::Result<boost::json::object> run_get(const boost::json::object& args);
  // Hybrid ranking of the two candidate lists (see HybridWeights); `query_vector` is the query's embedding.
  std::vector<Hit> fuse(std::vector<Hit> lexical, std::vector<Hit> semantic, const std::vector<float>& query_vector);
  // The two lexical tiers (see lexical_query.hpp), at most `pool` hits; tier 2 only when tier 1 has
  // fewer than `needed` after the per-document cap. `match` gets the words each tier asked for;
  // `complete` is false when more passages may match than the hits returned.
  std::vector<Hit> lexical_search(const LexicalQuery& words, const Filters& filters, std::size_t pool, std::size_t needed,
                                  std::size_t per_doc, boost::json::object& match, bool& complete);

  IndexStore& store_;
  Embedder* embedder_;
  HybridWeights weights_;
  VectorIndex vectors_;
};

}  // namespace mcpd::packs::knowledge
