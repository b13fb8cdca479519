// search_documents / list_documents / get_document: argument checking, the query, the answer.
// Shared by the MCP tools and the REST endpoints so both behave the same.
#pragma once
#include <boost/json.hpp>

#include <string>
#include <variant>

#include "packs/knowledge/embedder.hpp"
#include "packs/knowledge/index_store.hpp"
#include "packs/knowledge/vector_index.hpp"

namespace mcpd::packs::knowledge {

// Either the answer or one sentence saying what was wrong with the arguments.
using SearchOutcome = std::variant<boost::json::object, std::string>;

struct HybridWeights {
  double lexical = 1.0;   // reciprocal-rank-fusion weights
  double semantic = 1.0;
  double k = 60.0;        // the RRF constant
};

class Searcher {
 public:
  // `embedder` may be null: then only lexical search is available, and the answer says so.
  Searcher(IndexStore& store, Embedder* embedder = nullptr, HybridWeights weights = {})
      : store_(store), embedder_(embedder), weights_(weights), vectors_(store) {}

  SearchOutcome search(const boost::json::object& args);
  SearchOutcome list(const boost::json::object& args);
  SearchOutcome get(const boost::json::object& args);

  static boost::json::object input_schema();
  static boost::json::object list_schema();
  // A readable rendering of a search answer for the text content of the tool result.
  static std::string render_text(const boost::json::object& answer);

 private:
  // The two lexical tiers (see lexical_query.hpp); `match` gets the words each tier asked for.
  std::vector<Hit> lexical_search(const LexicalQuery& words, const Filters& filters, std::size_t pool, std::size_t wanted,
                                  std::size_t per_doc, boost::json::object& match);

  IndexStore& store_;
  Embedder* embedder_;
  HybridWeights weights_;
  VectorIndex vectors_;
};

}  // namespace mcpd::packs::knowledge
