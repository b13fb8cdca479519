// use_lite_parity: compares mcpd's use-lite tokenizer and encoder with the TensorFlow.js reference
// (use_reference.mjs output): the token ids must be identical and every vector must reach cosine
// >= 0.999 with the reference's.
//
//   use_lite_parity --model DIR --reference REFERENCE.json [--min-cosine 0.999]
//
// Prints one line per failing sentence and a summary; exits 0 only when every sentence passes.
#include <boost/json.hpp>

#include <cmath>
#include <fstream>
#include <iostream>
#include <sstream>
#include <iomanip>
#include <string>

#include "packs/knowledge/embed/use_lite/encoder.hpp"
#include "packs/knowledge/embed/use_lite/tfjs_weights.hpp"
#include "packs/knowledge/embed/use_lite/tokenizer.hpp"

namespace json = boost::json;
using namespace mcpd::packs::knowledge::use_lite;

int main(int argc, char** argv) {
  std::string model, reference;
  double min_cosine = 0.999;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--model") model = argv[i + 1];
    else if (a == "--reference") reference = argv[i + 1];
    else if (a == "--min-cosine") min_cosine = std::stod(argv[i + 1]);
  }
  if (model.empty() || reference.empty()) {
    std::cerr << "usage: use_lite_parity --model DIR --reference FILE [--min-cosine 0.999]\n";
    return 2;
  }
  try {
    auto weights = TfjsWeights::load(model);
    Encoder encoder(weights);
    auto tokenizer = Tokenizer::load(std::filesystem::path(model) / "vocab.json");
    std::ifstream in(reference);
    if (!in) throw std::runtime_error("cannot read " + reference);
    std::stringstream ss;
    ss << in.rdbuf();
    auto doc = json::parse(ss.str()).as_object();
    std::size_t n = 0, id_failures = 0, vector_failures = 0;
    double worst = 1.0;
    std::string worst_text;
    for (const auto& s : doc.at("sentences").as_array()) {
      const auto& o = s.as_object();
      std::string text(o.at("text").as_string());
      std::vector<std::int32_t> expected_ids;
      for (const auto& id : o.at("ids").as_array()) expected_ids.push_back(static_cast<std::int32_t>(id.to_number<std::int64_t>()));
      auto ids = tokenizer.encode(text);
      ++n;
      if (ids != expected_ids) {
        ++id_failures;
        std::cout << "ids differ for " << json::serialize(json::value(text)) << ": got";
        for (auto id : ids) std::cout << ' ' << id;
        std::cout << ", expected";
        for (auto id : expected_ids) std::cout << ' ' << id;
        std::cout << "\n";
      }
      auto v = encoder.encode(expected_ids);
      const auto& r = o.at("vector").as_array();
      if (r.size() != v.size()) throw std::runtime_error("reference vector of " + std::to_string(r.size()) + " dimensions");
      double dot = 0, a2 = 0, b2 = 0;
      for (std::size_t k = 0; k < v.size(); ++k) {
        double b = r[k].to_number<double>();
        dot += v[k] * b;
        a2 += static_cast<double>(v[k]) * v[k];
        b2 += b * b;
      }
      double cosine = dot / std::sqrt(a2 * b2);
      if (cosine < worst) {
        worst = cosine;
        worst_text = text;
      }
      if (!(cosine >= min_cosine)) {
        ++vector_failures;
        std::cout << "cosine " << cosine << " for " << json::serialize(json::value(text)) << "\n";
      }
    }
    std::cout << std::setprecision(9) << "use-lite parity: " << n << " sentences, " << id_failures << " with other ids, " << vector_failures
              << " under cosine " << min_cosine << "; lowest cosine " << worst << " (1 - cosine = " << (1.0 - worst) << ", " << json::serialize(json::value(worst_text))
              << ")\n";
    return n > 0 && id_failures == 0 && vector_failures == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "use_lite_parity: " << e.what() << "\n";
    return 2;
  }
}
