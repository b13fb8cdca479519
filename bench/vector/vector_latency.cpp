// vector_latency: search latency and recall@10 of the knowledge pack's three vector search methods,
// side by side on the same vectors and queries: the exact float32 scan (the floor for recall), the
// int8 scan with exact re-ranking, and the HNSW graph (hnswlib), at several sizes.
//
//   vector_latency [--sizes 10000,100000,1000000] [--dim 512] [--queries 1000] [--k 10]
//                  [--clusters 2000] [--m 24] [--ef-construction 200] [--ef-search 300]
//                  [--build-threads 2] [--max-seconds 60] [--db INDEX.db]
//
// Synthetic vectors: clustered (centers plus noise, then normalized), like embeddings that come in
// families of near-duplicates; a query is a fresh draw around a random center. With --db, the
// vectors stored in a knowledge index are used instead (one size: all of them), and the queries are
// `--queries` of those vectors, taken out of the set first. Each method answers every query once
// (bounded by --max-seconds per method and size). recall@10 is tie-aware: an answer counts when its
// cosine reaches the exact 10th neighbour's (identical chunks have identical vectors). Prints one
// JSON object.
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "packs/knowledge/index/hnsw_index.hpp"
#include "packs/knowledge/index/index_store.hpp"
#include "packs/knowledge/index/vector_index.hpp"

namespace json = boost::json;
using namespace mcpd::packs::knowledge;
using Clock = std::chrono::steady_clock;
using Result = std::vector<std::pair<std::int64_t, float>>;

namespace {

struct Options {
  std::vector<std::size_t> sizes{10000, 100000, 1000000};
  std::size_t dim = 512, queries = 1000, k = 10, clusters = 2000;
  double max_seconds = 60;
  std::string db;
  ApproximateParams graph;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

double round3(double v) { return std::round(v * 1000.0) / 1000.0; }

// Runs `search` on each query (until the time bound): latency percentiles and recall against `truth`.
template <typename Search>
json::object measure(const std::vector<std::vector<float>>& queries, const std::vector<Result>* truth, double max_seconds,
                     std::vector<Result>* answers, Search search) {
  std::vector<double> ms;
  std::size_t found = 0, wanted = 0;
  const auto deadline = Clock::now() + std::chrono::duration<double>(max_seconds);
  for (std::size_t i = 0; i < queries.size() && Clock::now() < deadline; ++i) {
    auto t0 = Clock::now();
    Result r = search(queries[i]);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (truth && !(*truth)[i].empty()) {
      // Tie-aware: an answer counts when it is as similar as the exact k-th neighbour (real
      // corpora hold identical chunks, whose vectors tie and may come back under other ids).
      const auto& want = (*truth)[i];
      const float kth = want.back().second - 1e-5f;
      wanted += want.size();
      found += std::min<std::size_t>(want.size(), static_cast<std::size_t>(std::count_if(
                                                     r.begin(), r.end(), [&](const auto& x) { return x.second >= kth; })));
    }
    if (answers) answers->push_back(std::move(r));
  }
  json::object out{{"queries", ms.size()}, {"p50_ms", round3(percentile(ms, 0.50))}, {"p99_ms", round3(percentile(ms, 0.99))}};
  if (truth) out["recall_at_10"] = wanted ? round3(static_cast<double>(found) / static_cast<double>(wanted)) : 0.0;
  return out;
}

json::object run(const VectorSet& set, const std::vector<std::vector<float>>& queries, const Options& o) {
  json::object out{{"vectors", set.size()}, {"dimension", set.dimension()}};
  std::vector<Result> truth;
  out["exact"] = measure(queries, nullptr, o.max_seconds, &truth, [&](const auto& q) { return set.exact(q, o.k); });
  // Only the queries the exact scan answered have a truth to compare with.
  std::vector<std::vector<float>> asked(queries.begin(), queries.begin() + static_cast<std::ptrdiff_t>(truth.size()));
  out["quantized"] = measure(asked, &truth, o.max_seconds, nullptr, [&](const auto& q) { return set.quantized(q, o.k); });
  auto t0 = Clock::now();
  HnswIndex graph(set.dimension(), set.size(), o.graph);
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t r; (r = next.fetch_add(1)) < set.size();) graph.insert_concurrently(set.id(r), set.row(r));
  };
  std::vector<std::thread> threads;
  for (std::size_t t = 1; t < o.graph.build_threads; ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  const double build_s = std::chrono::duration<double>(Clock::now() - t0).count();
  auto approximate = measure(asked, &truth, o.max_seconds, nullptr, [&](const auto& q) {
    auto unit = set.normalized(q);
    return graph.search(unit.data(), o.k);
  });
  approximate["build_seconds"] = round3(build_s);
  approximate["build_threads"] = o.graph.build_threads;
  out["approximate"] = std::move(approximate);
  const double floor = out["exact"].as_object()["p50_ms"].as_double();
  for (const char* m : {"quantized", "approximate"}) {
    double p50 = out[m].as_object()["p50_ms"].as_double();
    out[m].as_object()["speedup_p50_vs_exact"] = p50 > 0 ? round3(floor / p50) : 0.0;
  }
  return out;
}

std::vector<std::size_t> parse_sizes(const std::string& s) {
  std::vector<std::size_t> out;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, ',');) out.push_back(std::stoul(part));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  o.graph.build_threads = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--sizes") o.sizes = parse_sizes(v);
    else if (a == "--dim") o.dim = std::stoul(v);
    else if (a == "--queries") o.queries = std::stoul(v);
    else if (a == "--k") o.k = std::stoul(v);
    else if (a == "--clusters") o.clusters = std::stoul(v);
    else if (a == "--m") o.graph.m = std::stoul(v);
    else if (a == "--ef-construction") o.graph.ef_construction = std::stoul(v);
    else if (a == "--ef-search") o.graph.ef_search = std::stoul(v);
    else if (a == "--build-threads") o.graph.build_threads = std::max<std::size_t>(1, std::stoul(v));
    else if (a == "--max-seconds") o.max_seconds = std::stod(v);
    else if (a == "--db") o.db = v;
    else {
      std::cerr << "vector_latency: unknown option " << a << "\n";
      return 2;
    }
  }
  try {
    json::object out{{"k", o.k},
                     {"m", o.graph.m},
                     {"ef_construction", o.graph.ef_construction},
                     {"ef_search", o.graph.ef_search},
                     {"cpu_threads", std::thread::hardware_concurrency()}};
    json::array runs;
    std::mt19937 rng(42);
    std::normal_distribution<float> noise(0.0f, 1.0f);
    if (!o.db.empty()) {
      // Real embeddings: the index's vectors, with `queries` of them held out as the queries.
      std::vector<std::pair<std::int64_t, std::vector<float>>> all;
      IndexStore store(o.db);
      store.for_each_vector([&](std::int64_t id, const float* v, std::size_t n) { all.emplace_back(id, std::vector<float>(v, v + n)); });
      if (all.size() <= o.queries) throw std::runtime_error("the index has too few vectors");
      std::shuffle(all.begin(), all.end(), rng);
      std::vector<std::vector<float>> queries;
      VectorSet set;
      for (std::size_t i = 0; i < all.size(); ++i) {
        if (i < o.queries) queries.push_back(all[i].second);
        else set.add(all[i].first, all[i].second.data(), all[i].second.size());
      }
      auto r = run(set, queries, o);
      r["vectors_from"] = o.db;
      runs.push_back(std::move(r));
    } else {
      for (std::size_t n : o.sizes) {
        std::vector<std::vector<float>> centers(o.clusters, std::vector<float>(o.dim));
        for (auto& c : centers)
          for (auto& x : c) x = noise(rng);
        std::uniform_int_distribution<std::size_t> pick(0, o.clusters - 1);
        VectorSet set;
        std::vector<float> v(o.dim);
        for (std::size_t i = 0; i < n; ++i) {
          const auto& c = centers[pick(rng)];
          for (std::size_t d = 0; d < o.dim; ++d) v[d] = c[d] + 0.35f * noise(rng);
          set.add(static_cast<std::int64_t>(i) + 1, v.data(), o.dim);
        }
        std::vector<std::vector<float>> queries;
        for (std::size_t q = 0; q < o.queries; ++q) {
          const auto& c = centers[pick(rng)];
          for (std::size_t d = 0; d < o.dim; ++d) v[d] = c[d] + 0.5f * noise(rng);
          queries.push_back(v);
        }
        std::cerr << "vector_latency: " << n << " vectors\n";
        runs.push_back(run(set, queries, o));
      }
    }
    out["runs"] = std::move(runs);
    std::cout << json::serialize(out) << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "vector_latency: " << e.what() << "\n";
    return 2;
  }
}
