// kb_ranking_quality: known-item ranking quality of search_documents. Each item is a man page and
// its NAME-line description; the page was indexed without its NAME section, so the description is
// not in the text. For each mode (lexical, semantic, hybrid) the description is the query, and the
// page is the one relevant document: MRR@10 (1/rank of the page's first hit, 0 past 10) and
// recall@10 (the page among the first 10 hits).
//
//   kb_ranking_quality --db INDEX.db --model DIR --items ITEMS.tsv [--max-items N]
//                      [--semantic-weight W ...]   (hybrid: one run per weight; lexical weight 1)
//
// ITEMS.tsv: "PATH<TAB>DESCRIPTION" lines (bench/knowledge/name_queries.pl --known-items). Prints
// one JSON object. Runs in-process through the same Searcher the MCP tool uses.
#include <boost/json.hpp>

#include <chrono>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "packs/knowledge/index_store.hpp"
#include "packs/knowledge/search.hpp"
#include "packs/knowledge/use_lite_embedder.hpp"

namespace json = boost::json;
using namespace mcpd::packs::knowledge;

int main(int argc, char** argv) {
  std::string db, model, items_path;
  std::size_t max_items = 1000;
  std::vector<double> semantic_weights;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--db") db = argv[i + 1];
    else if (a == "--model") model = argv[i + 1];
    else if (a == "--items") items_path = argv[i + 1];
    else if (a == "--max-items") max_items = std::stoul(argv[i + 1]);
    else if (a == "--semantic-weight") semantic_weights.push_back(std::stod(argv[i + 1]));
  }
  if (db.empty() || model.empty() || items_path.empty()) {
    std::cerr << "usage: kb_ranking_quality --db INDEX.db --model DIR --items ITEMS.tsv [--max-items N]\n";
    return 2;
  }
  try {
    std::vector<std::pair<std::string, std::string>> items;
    std::ifstream in(items_path);
    std::string line;
    while (std::getline(in, line) && items.size() < max_items) {
      auto tab = line.find('\t');
      if (tab != std::string::npos) items.emplace_back(line.substr(0, tab), line.substr(tab + 1));
    }
    if (items.empty()) throw std::runtime_error("no items in " + items_path);
    IndexStore store(db);
    auto embedder = make_use_lite_embedder({model, 0});
    if (semantic_weights.empty()) semantic_weights.push_back(HybridWeights{}.semantic);
    json::object out{{"items", items.size()}};
    std::vector<std::pair<std::string, double>> runs{{"lexical", 1.0}, {"semantic", 1.0}};
    for (double w : semantic_weights) runs.emplace_back("hybrid", w);
    for (const auto& [mode, weight] : runs) {
      HybridWeights weights;
      weights.semantic = weight;
      Searcher searcher(store, embedder.get(), weights);
      double reciprocal = 0;
      std::size_t found = 0, errors = 0;
      auto t0 = std::chrono::steady_clock::now();
      for (const auto& [path, query] : items) {
        auto r = searcher.search(json::object{{"query", query}, {"limit", 10}, {"mode", mode}, {"max_per_document", 1}});
        if (!std::holds_alternative<json::object>(r)) {
          ++errors;
          continue;
        }
        const auto& results = std::get<json::object>(r).at("results").as_array();
        for (std::size_t i = 0; i < results.size(); ++i) {
          if (results[i].at("path").as_string() == path) {
            reciprocal += 1.0 / static_cast<double>(i + 1);
            ++found;
            break;
          }
        }
      }
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      auto r4 = [](double v) { return std::round(v * 10000.0) / 10000.0; };
      std::string key = mode;
      if (mode == "hybrid" && semantic_weights.size() > 1) key += "@" + json::serialize(json::value(weight));
      out[key] = json::object{{"mrr_at_10", r4(reciprocal / static_cast<double>(items.size()))},
                              {"semantic_weight", weight},
                               {"recall_at_10", r4(static_cast<double>(found) / static_cast<double>(items.size()))},
                               {"errors", errors},
                               {"seconds", r4(seconds)}};
    }
    std::cout << json::serialize(out) << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "kb_ranking_quality: " << e.what() << "\n";
    return 2;
  }
}
