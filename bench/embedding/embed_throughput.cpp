// embed_throughput: embedding throughput of mcpd's built-in "use-lite" model (Universal Sentence
// Encoder lite run in C++), through the same Embedder mcpd's sync uses (bench/embedding/run.sh,
// docs/benchmarks/embedding.md).
//
//   embed_throughput sample --db INDEX.db --count N --out FILE
//       An evenly spaced sample of N chunks (in id order) of a knowledge index, written one JSON
//       string per line: title + "\n" + heading + "\n" + text, which is what mcpd embeds. Bytes
//       that are not valid UTF-8 become U+FFFD, so every reader sees the same text. Prints JSON.
//
//   embed_throughput run --model DIR --sentences FILE [--threads T] [--call-size 256]
//                        [--warmup 256] [--passes 3] [--max-seconds 120]
//                        [--vectors-out FILE] [--vectors-count 50]
//       Loads the model with make_use_lite_embedder({DIR, T}) and embeds the sentences (one JSON
//       string per line) in calls of --call-size texts, as the sync does (it asks for 256 chunks at
//       a time; the embedder cuts them into batches of 32 and shares those out among T threads).
//       An untimed warm-up call first, then up to --passes timed passes over every sentence,
//       stopped after --max-seconds (checked between calls; at least one call runs). Also times
//       the tokenizer alone, counts tokens (all of them, and the ones the model reads: at most 128
//       per sentence) and, with --vectors-out, writes the first --vectors-count sentences' ids and
//       vectors as JSON. Prints one JSON object.
#include "packs/knowledge/embed/use_lite/tokenizer.hpp"
#include "packs/knowledge/embed/use_lite_embedder.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace json = boost::json;
namespace kn = mcpd::packs::knowledge;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kModelMaxTokens = 128;  // the graph's ClipToMaxLength

[[noreturn]] void die(const std::string& msg) {
  std::cerr << "embed_throughput: " << msg << "\n";
  std::exit(2);
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double round3(double x) { return static_cast<double>(static_cast<long long>(x * 1000.0 + (x >= 0 ? 0.5 : -0.5))) / 1000.0; }

// --name value pairs; every name must be in `allowed`.
std::map<std::string, std::string> parse_args(int argc, char** argv, int first, const std::vector<std::string>& allowed) {
  std::map<std::string, std::string> out;
  for (int i = first; i < argc; ++i) {
    std::string a = argv[i];
    std::string v;
    if (auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
      v = a.substr(eq + 1);
      a = a.substr(0, eq);
    } else {
      if (i + 1 >= argc) die("missing value for " + a);
      v = argv[++i];
    }
    if (std::find(allowed.begin(), allowed.end(), a) == allowed.end()) die("unknown argument: " + a);
    out[a.substr(2)] = v;
  }
  return out;
}

std::size_t number(const std::map<std::string, std::string>& args, const std::string& name, std::size_t fallback,
                   std::size_t lo, std::size_t hi) {
  auto it = args.find(name);
  if (it == args.end()) return fallback;
  char* end = nullptr;
  unsigned long long v = std::strtoull(it->second.c_str(), &end, 10);
  if (it->second.empty() || *end || v < lo || v > hi)
    die("--" + name + " must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi));
  return static_cast<std::size_t>(v);
}

std::string required(const std::map<std::string, std::string>& args, const std::string& name) {
  auto it = args.find(name);
  if (it == args.end() || it->second.empty()) die("--" + name + " is required");
  return it->second;
}

// Valid UTF-8 (no overlong forms, no surrogates, <= U+10FFFF); every other byte becomes U+FFFD.
std::string sanitize_utf8(std::string_view s, bool& changed) {
  std::string out;
  out.reserve(s.size());
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  for (std::size_t i = 0; i < n;) {
    unsigned char c = p[i];
    std::size_t len = 0;
    unsigned lo = 0x80, hi = 0xBF;  // bounds of the second byte
    if (c < 0x80) len = 1;
    else if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
    bool ok = len > 0 && i + len <= n;
    for (std::size_t k = 1; ok && k < len; ++k) {
      unsigned b = p[i + k];
      ok = k == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
    }
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      changed = true;
      ++i;
    }
  }
  return out;
}

int cmd_sample(int argc, char** argv) {
  auto args = parse_args(argc, argv, 2, {"--db", "--count", "--out"});
  const std::string db_path = required(args, "db");
  const std::string out_path = required(args, "out");
  const std::size_t count = number(args, "count", 2000, 1, 1000000);

  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
    die("cannot open " + db_path + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
  auto prepare = [&](const char* sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) die(std::string("SQL: ") + sqlite3_errmsg(db));
    return st;
  };
  std::vector<sqlite3_int64> ids;
  sqlite3_stmt* all = prepare("SELECT id FROM chunks ORDER BY id");
  while (sqlite3_step(all) == SQLITE_ROW) ids.push_back(sqlite3_column_int64(all, 0));
  sqlite3_finalize(all);
  if (ids.empty()) die(db_path + " has no chunks");
  const std::size_t n = std::min(count, ids.size());

  std::ofstream out(out_path, std::ios::binary);
  if (!out) die("cannot write " + out_path);
  sqlite3_stmt* get = prepare("SELECT title || char(10) || heading || char(10) || text FROM chunks WHERE id = ?1");
  std::size_t sanitized = 0, bytes = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sqlite3_int64 id = ids[i * ids.size() / n];  // evenly spaced over the chunks in id order
    sqlite3_bind_int64(get, 1, id);
    if (sqlite3_step(get) != SQLITE_ROW) die("chunk " + std::to_string(id) + " vanished");
    std::string_view text(reinterpret_cast<const char*>(sqlite3_column_text(get, 0)),
                          static_cast<std::size_t>(sqlite3_column_bytes(get, 0)));
    bool changed = false;
    std::string clean = sanitize_utf8(text, changed);
    sanitized += changed;
    bytes += clean.size();
    out << json::serialize(json::string(clean)) << '\n';
    sqlite3_reset(get);
  }
  sqlite3_finalize(get);
  sqlite3_close_v2(db);
  out.close();
  if (!out) die("cannot write " + out_path);
  json::object r{{"chunks_total", ids.size()}, {"sampled", n}, {"bytes", bytes}, {"sanitized_utf8", sanitized}};
  std::cout << json::serialize(r) << "\n";
  return 0;
}

std::vector<std::string> read_sentences(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) die("cannot read " + path);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    if (ec || !v.is_string()) die(path + ": line " + std::to_string(out.size() + 1) + " is not a JSON string");
    out.emplace_back(v.as_string().c_str(), v.as_string().size());
  }
  if (out.empty()) die(path + " holds no sentences");
  return out;
}

long vm_kb(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string key = std::string(field) + ":";
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0) return std::atol(line.c_str() + key.size());
  return 0;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

int cmd_run(int argc, char** argv) {
  auto args = parse_args(argc, argv, 2,
                         {"--model", "--sentences", "--threads", "--call-size", "--warmup", "--passes", "--max-seconds",
                          "--vectors-out", "--vectors-count"});
  const std::filesystem::path model_dir = required(args, "model");
  const auto sentences = read_sentences(required(args, "sentences"));
  const unsigned threads = static_cast<unsigned>(number(args, "threads", 1, 1, 1024));
  const std::size_t call_size = number(args, "call-size", 256, 1, 100000);
  const std::size_t warmup = number(args, "warmup", 256, 0, 100000);
  const std::size_t passes = number(args, "passes", 3, 1, 100);
  const double max_seconds = static_cast<double>(number(args, "max-seconds", 120, 1, 3600));
  const std::size_t vectors_count = std::min(number(args, "vectors-count", 50, 0, 100000), sentences.size());
  const std::string vectors_out = args.count("vectors-out") ? args["vectors-out"] : "";

  // Tokens: the tokenizer alone, single-threaded (the embedder tokenizes again inside embed()).
  auto tokenizer = kn::use_lite::Tokenizer::load(model_dir / "vocab.json");
  std::size_t tokens_all = 0, tokens_model = 0, over_limit = 0;
  std::vector<std::vector<std::int32_t>> first_ids;
  auto t0 = Clock::now();
  for (std::size_t i = 0; i < sentences.size(); ++i) {
    auto ids = tokenizer.encode(sentences[i]);
    tokens_all += ids.size();
    tokens_model += std::min(ids.size(), kModelMaxTokens);
    over_limit += ids.size() > kModelMaxTokens;
    if (i < vectors_count) first_ids.push_back(std::move(ids));
  }
  const double tokenize_seconds = seconds_since(t0);

  t0 = Clock::now();
  std::unique_ptr<kn::Embedder> embedder;
  try {
    embedder = kn::make_use_lite_embedder({model_dir, threads});
  } catch (const std::exception& e) {
    die(e.what());
  }
  const double load_seconds = seconds_since(t0);

  // Warm-up: the first `warmup` sentences (wrapping around), not timed.
  t0 = Clock::now();
  if (warmup > 0) {
    std::vector<std::string> w;
    for (std::size_t i = 0; i < warmup; ++i) w.push_back(sentences[i % sentences.size()]);
    (void)embedder->embed(w);
  }
  const double warmup_seconds = seconds_since(t0);

  // Timed passes, in calls of call_size texts, as SyncEngine::embed_missing does.
  std::vector<double> pass_seconds;
  std::vector<std::vector<float>> kept(vectors_count);
  std::size_t done = 0;
  bool stopped = false;
  const auto start = Clock::now();
  double timed = 0;
  for (std::size_t p = 0; p < passes && !stopped; ++p) {
    const auto tp = Clock::now();
    for (std::size_t b = 0; b < sentences.size(); b += call_size) {
      if (seconds_since(start) >= max_seconds && done > 0) {
        stopped = true;
        break;
      }
      const std::size_t e = std::min(sentences.size(), b + call_size);
      std::vector<std::string> texts(sentences.begin() + static_cast<std::ptrdiff_t>(b),
                                     sentences.begin() + static_cast<std::ptrdiff_t>(e));
      auto vectors = embedder->embed(texts);
      if (vectors.size() != texts.size()) die("embed returned " + std::to_string(vectors.size()) + " vectors");
      if (p == 0)
        for (std::size_t i = b; i < std::min(e, vectors_count); ++i) kept[i] = std::move(vectors[i - b]);
      done += e - b;
    }
    const double s = seconds_since(tp);
    timed += s;
    if (!stopped) pass_seconds.push_back(s);
  }

  const double n = static_cast<double>(sentences.size());
  json::object r;
  r["threads"] = threads;
  r["hardware_threads"] = std::thread::hardware_concurrency();
  r["call_size"] = call_size;
  r["batch_size"] = 32;
  r["sentences"] = sentences.size();
  r["tokens"] = tokens_all;
  r["tokens_model"] = tokens_model;
  r["sentences_over_128_tokens"] = over_limit;
  r["avg_tokens"] = round3(static_cast<double>(tokens_all) / n);
  r["avg_tokens_model"] = round3(static_cast<double>(tokens_model) / n);
  r["tokenize_seconds"] = round3(tokenize_seconds);
  r["tokenize_sentences_per_s"] = round3(n / tokenize_seconds);
  r["load_seconds"] = round3(load_seconds);
  r["warmup_sentences"] = warmup;
  r["warmup_seconds"] = round3(warmup_seconds);
  r["passes"] = pass_seconds.size();
  json::array ps;
  for (double s : pass_seconds) ps.push_back(round3(s));
  r["pass_seconds"] = ps;
  r["stopped_at_time_limit"] = stopped;
  r["embedded"] = done;
  r["timed_seconds"] = round3(timed);
  if (!pass_seconds.empty()) {
    const double med = median(pass_seconds);
    const double best = *std::min_element(pass_seconds.begin(), pass_seconds.end());
    r["median_pass_seconds"] = round3(med);
    r["sentences_per_s"] = round3(n / med);
    r["tokens_per_s"] = round3(static_cast<double>(tokens_model) / med);
    r["best_sentences_per_s"] = round3(n / best);
  } else {
    // Cut short before one full pass: the rate over what was done (tokens/s at the sample's mean).
    r["sentences_per_s"] = round3(static_cast<double>(done) / timed);
    r["tokens_per_s"] = round3(static_cast<double>(done) / timed * static_cast<double>(tokens_model) / n);
  }
  r["peak_rss_kb"] = vm_kb("VmHWM");

  if (!vectors_out.empty()) {
    json::array ids_json, vec_json;
    for (std::size_t i = 0; i < vectors_count; ++i) {
      json::array a;
      for (auto id : first_ids[i]) a.push_back(id);
      ids_json.push_back(std::move(a));
      json::array v;
      for (float x : kept[i]) v.push_back(static_cast<double>(x));
      vec_json.push_back(std::move(v));
    }
    std::ofstream out(vectors_out, std::ios::binary);
    out << json::serialize(json::object{{"ids", ids_json}, {"vectors", vec_json}}) << "\n";
    if (!out) die("cannot write " + vectors_out);
  }
  std::cout << json::serialize(r) << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string usage =
      "usage: embed_throughput sample --db INDEX.db --count N --out FILE\n"
      "       embed_throughput run --model DIR --sentences FILE [--threads T] [--call-size 256] [--warmup 256]\n"
      "                            [--passes 3] [--max-seconds 120] [--vectors-out FILE] [--vectors-count 50]\n";
  if (argc < 2) {
    std::cerr << usage;
    return 2;
  }
  const std::string cmd = argv[1];
  try {
    if (cmd == "sample") return cmd_sample(argc, argv);
    if (cmd == "run") return cmd_run(argc, argv);
  } catch (const std::exception& e) {
    die(e.what());
  }
  std::cerr << usage;
  return 2;
}
