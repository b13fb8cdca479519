// kb_ranking_quality: known-item ranking quality of search_documents. Each item is a man page and
// its NAME-line description; the page was indexed without its NAME section, so the description is
// not in the text. For each mode (lexical, semantic, hybrid) the description is the query, and the
// page is the one relevant document: MRR@10 (1/rank of the page's first hit, 0 past 10) and
// recall@10 (the page among the first 10 hits).
//
//   kb_ranking_quality --db INDEX.db --model DIR --items ITEMS.tsv [--max-items N] [--first-item I]
//                      [--semantic-weight W ...]   (hybrid: one run per weight; lexical weight 1)
//                      [--fusion convex|rrf ...]   (hybrid: one run per fusion and weight)
//
// ITEMS.tsv: "PATH<TAB>DESCRIPTION" lines (bench/knowledge/name_queries.pl --known-items). Prints
// one JSON object. Runs in-process through the same Searcher the MCP tool uses.
#include <boost/json.hpp>

#include <chrono>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "packs/knowledge/embed/use_lite_embedder.hpp"
#include "packs/knowledge/index/index_store.hpp"
#include "packs/knowledge/search/search.hpp"

namespace json = boost::json;
using namespace mcpd::packs::knowledge;

int main(int argc, char** argv) {
  std::string db, model, items_path;
  std::size_t max_items = 1000, first_item = 0;
  std::vector<double> semantic_weights;
  std::vector<std::string> fusions;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--db") db = argv[i + 1];
    else if (a == "--model") model = argv[i + 1];
    else if (a == "--items") items_path = argv[i + 1];
    else if (a == "--max-items") max_items = std::stoul(argv[i + 1]);
    else if (a == "--first-item") first_item = std::stoul(argv[i + 1]);
    else if (a == "--semantic-weight") semantic_weights.push_back(std::stod(argv[i + 1]));
    else if (a == "--fusion") fusions.push_back(argv[i + 1]);
  }
  if (db.empty() || model.empty() || items_path.empty()) {
    std::cerr << "usage: kb_ranking_quality --db INDEX.db --model DIR --items ITEMS.tsv [--max-items N]\n";
    return 2;
  }
  try {
    std::vector<std::pair<std::string, std::string>> items;
    std::ifstream in(items_path);
    std::string line;
    for (std::size_t n = 0; std::getline(in, line) && items.size() < max_items; ++n) {
      if (n < first_item) continue;
      auto tab = line.find('\t');
      if (tab != std::string::npos) items.emplace_back(line.substr(0, tab), line.substr(tab + 1));
    }
    if (items.empty()) throw std::runtime_error("no items in " + items_path);
    IndexStore store(db);
    auto embedder = make_use_lite_embedder({model, 0});
    if (semantic_weights.empty()) semantic_weights.push_back(HybridWeights{}.semantic);
    if (fusions.empty()) fusions.push_back(HybridWeights{}.fusion == HybridWeights::Fusion::rrf ? "rrf" : "convex");
    json::object out{{"items", items.size()}, {"first_item", first_item}};
    struct Run {
      std::string mode, fusion;
      double weight;
    };
    std::vector<Run> runs{{"lexical", "", 1.0}, {"semantic", "", 1.0}};
    for (const auto& f : fusions) {
      if (f != "rrf" && f != "convex") throw std::runtime_error("--fusion must be convex or rrf");
      for (double w : semantic_weights) runs.push_back({"hybrid", f, w});
    }
    for (const auto& [mode, fusion, weight] : runs) {
      HybridWeights weights;
      weights.semantic = weight;
      weights.fusion = fusion == "rrf" ? HybridWeights::Fusion::rrf : HybridWeights::Fusion::convex;
      Searcher searcher(store, embedder.get(), weights);
      // Per item: 1/rank of the page (0 when not in the first 10).
      std::vector<double> reciprocal;
      std::size_t errors = 0;
      auto t0 = std::chrono::steady_clock::now();
      for (const auto& [path, query] : items) {
        auto r = searcher.search(json::object{{"query", query}, {"limit", 10}, {"mode", mode}, {"max_per_document", 1}});
        reciprocal.push_back(0);
        if (!r) {
          ++errors;
          continue;
        }
        const auto& results = r->at("results").as_array();
        for (std::size_t i = 0; i < results.size(); ++i) {
          if (results[i].at("path").as_string() == path) {
            reciprocal.back() = 1.0 / static_cast<double>(i + 1);
            break;
          }
        }
      }
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      auto r4 = [](double v) { return std::round(v * 10000.0) / 10000.0; };
      // MRR@10 and recall@10 over items [from, to).
      auto metrics = [&](std::size_t from, std::size_t to) {
        double sum = 0;
        std::size_t found = 0;
        for (std::size_t i = from; i < to; ++i) sum += reciprocal[i], found += reciprocal[i] > 0;
        const double n = static_cast<double>(std::max<std::size_t>(1, to - from));
        return json::object{{"mrr_at_10", r4(sum / n)}, {"recall_at_10", r4(static_cast<double>(found) / n)}};
      };
      std::string key = mode;
      if (mode == "hybrid" && (semantic_weights.size() > 1 || fusions.size() > 1))
        key.append("/").append(fusion).append("@").append(json::serialize(json::value(weight)));
      json::object run = metrics(0, items.size());
      run["semantic_weight"] = weight;
      run["fusion"] = fusion;
      run["errors"] = errors;
      run["seconds"] = r4(seconds);
      // The halves: the defaults were chosen on the first and checked on the second.
      run["first_half"] = metrics(0, items.size() / 2);
      run["second_half"] = metrics(items.size() / 2, items.size());
      out[key] = std::move(run);
    }
    std::cout << json::serialize(out) << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "kb_ranking_quality: " << e.what() << "\n";
    return 2;
  }
}
