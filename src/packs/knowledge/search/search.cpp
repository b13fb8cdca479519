// Searcher implementation.
#include "packs/knowledge/search/search.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "core/arguments.hpp"
#include "core/cursor.hpp"
#include "infra/time.hpp"
#include "packs/knowledge/index/index_errors.hpp"

namespace mcpd::packs::knowledge {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxLimit = 100;
constexpr std::size_t kMaxOffset = 10000;
// The largest candidate list a search widens to when the per-document cap or the filters leave its
// page short (the first list may be larger: it follows the offset).
constexpr std::size_t kMaxPool = 16384;

using core::Error;
using core::Result;

const json::value* field(const json::object& o, std::initializer_list<std::string_view> names) {
  for (auto n : names)
    if (auto v = o.if_contains(n); v && !v->is_null()) return v;
  return nullptr;
}

// An optional integer argument (under the first of `names` present) within [lo, hi]. Worded
// "between lo and hi, got n", with the value, unlike core::Arguments: the REST clients match it.
Result<std::int64_t> integer_arg(const json::object& args, std::initializer_list<std::string_view> names, std::int64_t lo,
                                 std::int64_t hi, std::int64_t fallback) {
  const json::value* v = field(args, names);
  if (!v) return fallback;
  const std::string name(*names.begin());
  std::int64_t n = 0;
  if (v->is_int64()) n = v->get_int64();
  else if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) n = static_cast<std::int64_t>(v->get_uint64());
  // A whole double within the exact range (casting a larger one to an integer is undefined).
  else if (v->is_double() && std::fabs(v->get_double()) < 9e15 && std::floor(v->get_double()) == v->get_double())
    n = static_cast<std::int64_t>(v->get_double());
  else return Error::invalid_argument("'" + name + "' must be an integer");
  if (n < lo || n > hi)
    return Error::invalid_argument("'" + name + "' must be between " + std::to_string(lo) + " and " + std::to_string(hi) +
                                   ", got " + std::to_string(n));
  return n;
}

// The `n` decimal digits of `s` from `at`, as a number; false unless all `n` are there.
bool digits(std::string_view s, std::size_t at, std::size_t n, int& out) {
  if (at + n > s.size()) return false;
  out = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

// An ISO-8601 date ("2026-01-31") or date and time ("2026-01-31T12:00", seconds and a fraction
// optional), in UTC unless it ends in "Z" or an offset ("+02:00", "+0200", "+02"), written the way the
// index writes indexed_at ("2026-01-31T12:00:00Z", whole seconds) so that comparing the two strings
// compares the times. nullopt when `s` is not such a time.
std::optional<std::string> utc_timestamp(std::string_view s) {
  using namespace std::chrono;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' || !digits(s, 8, 2, d))
    return std::nullopt;
  const year_month_day date{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!date.ok()) return std::nullopt;
  std::size_t at = 10;
  seconds offset{0};
  if (at < s.size()) {
    if (s[at] != 'T' && s[at] != 't' && s[at] != ' ') return std::nullopt;
    if (!digits(s, at + 1, 2, h) || at + 3 >= s.size() || s[at + 3] != ':' || !digits(s, at + 4, 2, mi)) return std::nullopt;
    at += 6;
    if (at < s.size() && s[at] == ':') {
      if (!digits(s, at + 1, 2, sec)) return std::nullopt;
      at += 3;
      // A fraction of a second: the index keeps whole seconds, so it is dropped (the bound stays inclusive).
      if (at < s.size() && (s[at] == '.' || s[at] == ',')) {
        std::size_t end = at + 1;
        while (end < s.size() && s[end] >= '0' && s[end] <= '9') ++end;
        if (end == at + 1) return std::nullopt;
        at = end;
      }
    }
    if (h > 23 || mi > 59 || sec > 60) return std::nullopt;  // 60: a leap second
    if (at < s.size() && (s[at] == 'Z' || s[at] == 'z')) {
      ++at;
    } else if (at < s.size() && (s[at] == '+' || s[at] == '-')) {
      int oh = 0, om = 0;
      if (!digits(s, at + 1, 2, oh)) return std::nullopt;
      std::size_t end = at + 3;
      if (end < s.size()) {  // minutes: "+02:00" or "+0200"
        if (s[end] == ':') ++end;
        if (!digits(s, end, 2, om)) return std::nullopt;
        end += 2;
      }
      if (oh > 23 || om > 59) return std::nullopt;
      offset = (s[at] == '-' ? -1 : 1) * (hours{oh} + minutes{om});
      at = end;
    }
  }
  if (at != s.size()) return std::nullopt;
  const sys_seconds t = sys_days{date} + hours{h} + minutes{mi} + seconds{sec} - offset;
  // Outside the years the index can hold: every document, or none.
  const std::int64_t count = std::clamp<std::int64_t>(t.time_since_epoch().count(), 0, 253402300799);  // 9999-12-31T23:59:59Z
  return infra::iso8601_utc_seconds(static_cast<std::time_t>(count));
}

Result<Filters> filters_arg(const core::Arguments& a) {
  Filters f;
  const std::pair<std::string_view, std::string*> fields[] = {
      {"source", &f.source}, {"path_prefix", &f.path_prefix}, {"file_type", &f.file_type}, {"updated_after", &f.updated_after}};
  for (auto [key, out] : fields) {
    auto v = a.optional_string(key);
    if (!v) return std::move(v).failure();
    *out = v->value_or("");
  }
  if (!f.updated_after.empty()) {
    auto when = utc_timestamp(f.updated_after);
    if (!when)
      return Error::invalid_argument("'updated_after' must be an ISO-8601 date or time such as 2026-01-31 or "
                                     "2026-01-31T12:00:00Z" +
                                     (f.updated_after.size() <= 40 ? ", got '" + f.updated_after + "'" : std::string()));
    f.updated_after = std::move(*when);
  }
  return f;
}

// offset, or a cursor this server issued.
Result<std::int64_t> offset_arg(const json::object& args) {
  auto offset = integer_arg(args, {"offset"}, 0, kMaxOffset, 0);
  if (!offset) return offset;
  if (auto c = args.if_contains("cursor"); c && !c->is_null()) {
    auto decoded = c->is_string() ? core::decode_cursor(c->get_string()) : std::nullopt;
    if (!decoded || *decoded > kMaxOffset) return Error::invalid_argument("'cursor' is not a cursor this server issued");
    return static_cast<std::int64_t>(*decoded);
  }
  return offset;
}

std::string trim(std::string s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// Hits left after keeping at most `per_doc` per document.
std::size_t capped_count(const std::vector<Hit>& hits, std::size_t per_doc) {
  std::map<std::int64_t, std::size_t> seen;
  std::size_t n = 0;
  for (const auto& h : hits)
    if (++seen[h.document_id] <= per_doc) ++n;
  return n;
}

json::array to_json(const std::vector<std::string>& terms) {
  json::array out;
  for (const auto& t : terms) out.emplace_back(t);
  return out;
}

}  // namespace

std::vector<Hit> Searcher::lexical_search(const LexicalQuery& words, const Filters& filters, std::size_t pool,
                                          std::size_t needed, std::size_t per_doc, json::object& match, bool& complete) {
  complete = true;
  // Tier 1: every word the index knows (a word found nowhere would make the AND empty).
  auto counts = store_.chunk_counts(words.terms);
  LexicalQuery all;
  std::vector<std::int64_t> all_counts;
  for (std::size_t i = 0; i < words.terms.size(); ++i)
    if (counts[i] > 0) {
      all.terms.push_back(words.terms[i]);
      all_counts.push_back(counts[i]);
    }
  match["all"] = to_json(all.terms);
  if (all.empty()) return {};
  auto hits = store_.search(all, filters, pool);
  if (hits.size() >= pool || (all.terms.size() >= 2 && capped_count(hits, per_doc) >= needed)) {
    complete = false;  // enough for the page; more may match
    return hits;
  }
  if (all.terms.size() < 2) return hits;
  // Tier 2: the rarer words, after tier 1. When nothing has all the words and each one is common,
  // the rarest word alone (the only case whose cost is not bounded by kRareTermBudget).
  LexicalQuery rare = rarer_terms(all, all_counts);
  if (rare.empty() && hits.empty()) {
    auto rarest = std::min_element(all_counts.begin(), all_counts.end()) - all_counts.begin();
    rare.terms = {all.terms[static_cast<std::size_t>(rarest)]};
  }
  if (rare.empty()) return hits;
  match["any"] = to_json(rare.terms);
  std::set<std::int64_t> seen;
  for (const auto& h : hits) seen.insert(h.chunk_id);
  for (auto& h : store_.search(rare, filters, pool + hits.size()))
    if (hits.size() < pool && seen.insert(h.chunk_id).second) hits.push_back(std::move(h));
  if (hits.size() >= pool) complete = false;
  return hits;
}

std::vector<Hit> Searcher::fuse(std::vector<Hit> lexical, std::vector<Hit> semantic, const std::vector<float>& query_vector) {
  std::vector<Hit> ranked;
  if (weights_.fusion == HybridWeights::Fusion::rrf) {
    // A passage found lexically keeps its marked snippet.
    std::map<std::int64_t, std::pair<Hit, double>> fused;
    for (std::size_t i = 0; i < lexical.size(); ++i) {
      auto& slot = fused[lexical[i].chunk_id];
      slot.first = lexical[i];
      slot.second += weights_.lexical / (weights_.k + static_cast<double>(i + 1));
    }
    for (std::size_t i = 0; i < semantic.size(); ++i) {
      auto [it, inserted] = fused.try_emplace(semantic[i].chunk_id, semantic[i], 0.0);
      it->second.second += weights_.semantic / (weights_.k + static_cast<double>(i + 1));
    }
    for (auto& [id, entry] : fused) {
      entry.first.score = entry.second;
      ranked.push_back(std::move(entry.first));
    }
  } else {
    struct Candidate {
      Hit hit;
      double lexical = 0;
      std::optional<double> cosine;
    };
    std::map<std::int64_t, Candidate> candidates;
    double best_lexical = 0;
    std::vector<std::int64_t> need_cosine;
    for (auto& h : lexical) {
      best_lexical = std::max(best_lexical, h.score);
      need_cosine.push_back(h.chunk_id);
      double score = h.score;
      candidates.emplace(h.chunk_id, Candidate{std::move(h), score, std::nullopt});
    }
    for (auto& h : semantic) {
      auto [it, inserted] = candidates.try_emplace(h.chunk_id, Candidate{h, 0.0, std::nullopt});
      it->second.cosine = h.score;
    }
    for (const auto& [id, cosine] : vectors_.similarities(query_vector, need_cosine)) candidates[id].cosine = cosine;
    double best_cosine = 0;
    for (const auto& [id, c] : candidates)
      if (c.cosine) best_cosine = std::max(best_cosine, *c.cosine);
    const double total = weights_.lexical + weights_.semantic;
    for (auto& [id, c] : candidates) {
      double l = best_lexical > 0 ? c.lexical / best_lexical : 0;
      double s = c.cosine && best_cosine > 0 ? std::max(0.0, *c.cosine) / best_cosine : 0;
      c.hit.score = (weights_.lexical * l + weights_.semantic * s) / total;
      ranked.push_back(std::move(c.hit));
    }
  }
  std::stable_sort(ranked.begin(), ranked.end(), [](const Hit& a, const Hit& b) { return a.score > b.score; });
  return ranked;
}

json::object Searcher::input_schema() {
  return json::parse(R"J({"type":"object","properties":{
    "query":{"type":"string","description":"What to look for (alias: q). Lexically, passages with every word come first, then passages with the query's rarer words; common English stop-words are ignored"},
    "q":{"type":"string","description":"Alias of query"},
    "limit":{"type":"integer","minimum":1,"maximum":100,"description":"Hits to return (default 10; alias: top_k)"},
    "top_k":{"type":"integer","minimum":1,"maximum":100,"description":"Alias of limit"},
    "offset":{"type":"integer","minimum":0,"maximum":10000},
    "cursor":{"type":"string","description":"next_cursor of a previous answer"},
    "similarity_threshold":{"type":"number","minimum":0,"maximum":1,"description":"Minimum cosine similarity of every hit, lexical matches included (semantic and hybrid modes); passages not embedded yet are left out"},
    "mode":{"type":"string","enum":["lexical","semantic","hybrid"],"description":"Default: the best mode the index supports"},
    "source":{"type":"string"},"path_prefix":{"type":"string"},
    "file_type":{"type":"string","description":"markdown, text, code, html, pdf, man, or an extension such as md"},
    "updated_after":{"type":"string","description":"Documents indexed at or after this ISO-8601 date or time (2026-01-31, 2026-01-31T12:00:00Z; UTC unless an offset such as +02:00 is given)"},
    "max_per_document":{"type":"integer","minimum":1,"maximum":20,"description":"Hits per document (default 3)"},
    "max_chars":{"type":"integer","minimum":500,"maximum":200000,"description":"Cap on the answer's snippet text (default 20000)"}}})J").as_object();
}

json::object Searcher::list_schema() {
  return json::parse(R"J({"type":"object","properties":{
    "source":{"type":"string"},"path_prefix":{"type":"string"},"file_type":{"type":"string"},
    "updated_after":{"type":"string","description":"Documents indexed at or after this ISO-8601 date or time (2026-01-31, 2026-01-31T12:00:00Z; UTC unless an offset such as +02:00 is given)"},
    "limit":{"type":"integer","minimum":1,"maximum":500,"description":"Default 50"},
    "offset":{"type":"integer","minimum":0},"cursor":{"type":"string"}}})J").as_object();
}

Result<json::object> Searcher::search(const json::object& args) {
  return with_index("searching", [&] { return run_search(args); });
}

Result<json::object> Searcher::list(const json::object& args) {
  return with_index("listing documents", [&] { return run_list(args); });
}

Result<json::object> Searcher::get(const json::object& args) {
  return with_index("reading a document", [&] { return run_get(args); });
}

Result<json::object> Searcher::run_search(const json::object& args) {
  const core::Arguments a(args);
  const json::value* q = field(args, {"query", "q"});
  if (!q || !q->is_string()) return Error::invalid_argument("'query' is required and must be a string");
  std::string query = trim(std::string(q->get_string()));
  if (query.empty()) return Error::invalid_argument("'query' must not be empty");
  if (query.size() > 2000) return Error::invalid_argument("'query' must be at most 2000 characters");
  auto limit_given = integer_arg(args, {"limit", "top_k"}, 1, kMaxLimit, 10);
  if (!limit_given) return std::move(limit_given).failure();
  auto offset_given = offset_arg(args);
  if (!offset_given) return std::move(offset_given).failure();
  auto per_doc_given = integer_arg(args, {"max_per_document"}, 1, 20, 3);
  if (!per_doc_given) return std::move(per_doc_given).failure();
  auto max_chars_given = integer_arg(args, {"max_chars"}, 500, 200000, 20000);
  if (!max_chars_given) return std::move(max_chars_given).failure();
  const std::int64_t limit = *limit_given, offset = *offset_given, per_doc = *per_doc_given, max_chars = *max_chars_given;
  double threshold = 0;
  bool threshold_given = false;
  if (auto t = args.if_contains("similarity_threshold"); t && !t->is_null()) {
    if (!t->is_number() || t->to_number<double>() < 0 || t->to_number<double>() > 1)
      return Error::invalid_argument("'similarity_threshold' must be a number between 0 and 1");
    threshold = t->to_number<double>();
    threshold_given = true;
  }
  auto mode_arg = a.optional_string("mode");
  if (!mode_arg) return std::move(mode_arg).failure();
  std::string mode = mode_arg->value_or("");
  if (mode.empty()) mode = embedder_ ? "hybrid" : "lexical";
  if (mode != "lexical" && mode != "semantic" && mode != "hybrid")
    return Error::invalid_argument("'mode' must be lexical, semantic or hybrid, got '" + mode + "'");
  if (mode != "lexical" && !embedder_)
    return Error::invalid_argument("mode '" + mode + "' needs an embedding provider, and this index has none: use mode "
                                   "'lexical' (or configure packs.knowledge.embeddings)");
  auto filters_given = filters_arg(a);
  if (!filters_given) return std::move(filters_given).failure();
  const Filters& filters = *filters_given;

  LexicalQuery words = parse_lexical_query(query);
  if (words.empty() && mode == "lexical") return Error::invalid_argument("'query' has no searchable words");
  const std::size_t wanted = static_cast<std::size_t>(offset + limit);
  // One hit more than the page: whether it exists is whether there is a next page.
  const std::size_t needed = wanted + 1;
  std::vector<float> vector;
  if (mode != "lexical") {
    auto embedded = embed_texts(*embedder_, {query});
    if (!embedded || embedded->empty()) {
      // Never a silent fallback to lexical: the answer would claim a mode that did not run.
      Error e = embedded ? Error::unavailable("the embedder returned no vector") : std::move(embedded).error();
      e.message = "the " + mode + " search could not embed the query (" + e.message + "); retry, or use mode 'lexical'";
      return e;
    }
    vector = std::move(embedded->front());
  }
  json::object match;  // which words the lexical tiers asked for
  std::vector<Hit> capped;
  // Candidates enough to fill the page after capping hits per document. When the cap or the filters
  // leave fewer than needed and a candidate list was cut short, again with larger lists: otherwise a
  // page would end early, without a cursor, while a later offset finds more. The last try is at
  // kMaxPool whatever the offset, so that every page that gets there sees the same candidates (each
  // list's order does not depend on its length). `enough` grows with the lists: a hybrid threshold
  // may drop the lexical hits that were enough for tier 1 to stop, and then tier 2 is asked too.
  bool looked_at_all = true;  // false when the last try stopped at kMaxPool with more candidates left
  for (std::size_t pool = needed * 4 + 8, enough = needed;; enough *= 4) {
    bool complete = true;
    std::vector<Hit> lexical, semantic;
    match = {};
    if (mode != "semantic" && !words.empty())
      lexical = lexical_search(words, filters, pool, enough, static_cast<std::size_t>(per_doc), match, complete);
    if (mode != "lexical") {
      const std::size_t k = pool * 2;
      auto nearest = vectors_.search(vector, k);  // best first
      if (nearest.size() >= k && nearest.back().second >= threshold) complete = false;
      std::vector<std::int64_t> ids;
      std::map<std::int64_t, float> similarity;
      for (const auto& [id, sim] : nearest)
        if (sim >= threshold) {
          ids.push_back(id);
          similarity[id] = sim;
        }
      semantic = store_.hits_for_chunks(ids, filters);
      for (auto& h : semantic) h.score = similarity[h.chunk_id];
    }
    // The threshold bounds every hybrid candidate, the lexical ones too. A passage without a vector
    // yet has no cosine to compare, so an explicit threshold leaves it out.
    if (mode == "hybrid" && threshold_given && !lexical.empty()) {
      std::vector<std::int64_t> ids;
      for (const auto& h : lexical) ids.push_back(h.chunk_id);
      std::set<std::int64_t> close_enough;
      for (const auto& [id, cosine] : vectors_.similarities(vector, ids))
        if (cosine >= threshold) close_enough.insert(id);
      std::erase_if(lexical, [&](const Hit& h) { return !close_enough.contains(h.chunk_id); });
    }
    std::vector<Hit> ranked;
    if (mode == "lexical") ranked = std::move(lexical);
    else if (mode == "semantic") ranked = std::move(semantic);
    else ranked = fuse(std::move(lexical), std::move(semantic), vector);
    std::map<std::int64_t, int> per_document;
    capped.clear();
    for (auto& h : ranked)
      if (++per_document[h.document_id] <= per_doc) capped.push_back(std::move(h));
    if (capped.size() >= needed || complete) break;
    if (pool >= kMaxPool) {
      looked_at_all = false;
      break;
    }
    pool = std::min(pool * 4, kMaxPool);
  }

  // Snippets only for the page shown: making one costs a pass over the chunk's text.
  std::vector<Hit> page;
  for (std::size_t i = static_cast<std::size_t>(offset); i < std::min(capped.size(), wanted); ++i) page.push_back(std::move(capped[i]));
  store_.add_snippets(words, page);

  json::array results;
  std::size_t chars = 0;
  bool truncated = false;
  for (const Hit& h : page) {
    std::string snippet = h.snippet;
    if (chars + snippet.size() > static_cast<std::size_t>(max_chars)) {
      truncated = true;
      break;
    }
    chars += snippet.size();
    results.push_back(json::object{{"document_id", h.document_id},
                                   {"source", h.source},
                                   {"path", h.path},
                                   {"title", h.title},
                                   {"heading", h.heading},
                                   {"line_start", h.line_start},
                                   {"line_end", h.line_end},
                                   {"snippet", snippet},
                                   {"score", h.score},
                                   {"indexed_at", h.indexed_at},
                                   {"commit", h.revision},
                                   {"uri", "kb://document/" + std::to_string(h.document_id)}});
  }
  json::object answer{{"query", query},
                      {"mode", mode},
                      {"offset", offset},
                      {"count", results.size()},
                      {"truncated", truncated},
                      {"results", std::move(results)}};
  if (!match.empty()) answer["match"] = std::move(match);
  std::string note;
  if (threshold_given && mode == "lexical")
    note = "similarity_threshold applies to semantic and hybrid modes; this search was lexical";
  if (!looked_at_all && capped.size() <= wanted)
    note += std::string(note.empty() ? "" : "; ") + "the search stopped after the best " + std::to_string(kMaxPool) +
            " passages: narrow it (source, path_prefix, file_type) or raise max_per_document to see more";
  if (!note.empty()) answer["note"] = std::move(note);
  if (!truncated && capped.size() > wanted) answer["next_cursor"] = core::encode_cursor(wanted);
  return answer;
}

Result<json::object> Searcher::run_list(const json::object& args) {
  auto limit = integer_arg(args, {"limit"}, 1, 500, 50);
  if (!limit) return std::move(limit).failure();
  auto offset_given = offset_arg(args);
  if (!offset_given) return std::move(offset_given).failure();
  const std::int64_t offset = *offset_given;
  auto filters = filters_arg(core::Arguments(args));
  if (!filters) return std::move(filters).failure();
  std::int64_t total = 0;
  auto docs = store_.list(*filters, static_cast<std::size_t>(*limit), static_cast<std::size_t>(offset), total);
  json::array out;
  for (const auto& d : docs)
    out.push_back(json::object{{"document_id", d.id}, {"source", d.source}, {"path", d.path}, {"title", d.title},
                               {"kind", d.kind}, {"size", d.size}, {"chunks", d.chunks}, {"indexed_at", d.indexed_at},
                               {"commit", d.revision}});
  json::object counts;
  for (const auto& s : store_.sources()) counts[s.name] = json::object{{"documents", s.documents}, {"chunks", s.chunks}, {"skipped", s.skipped}};
  json::object answer{{"documents", std::move(out)}, {"total", total}, {"offset", offset}, {"sources", std::move(counts)}};
  if (offset + static_cast<std::int64_t>(docs.size()) < total)
    answer["next_cursor"] = core::encode_cursor(static_cast<std::size_t>(offset) + docs.size());
  return answer;
}

Result<json::object> Searcher::run_get(const json::object& args) {
  const core::Arguments a(args);
  auto source = a.optional_string("source");
  if (!source) return std::move(source).failure();
  auto path = a.optional_string("path");
  if (!path) return std::move(path).failure();
  if (source->value_or("").empty() || path->value_or("").empty())
    return Error::invalid_argument("'source' and 'path' are required");
  auto doc = store_.find(**source, **path);
  if (!doc)
    return Error::not_found("no document '" + **path + "' in source '" + **source + "'; list_documents shows what is indexed");
  auto text = store_.text(doc->id);
  if (!text) return Error::not_found("document '" + **path + "' disappeared while being read; try again");
  auto first_given = integer_arg(args, {"line_start"}, 1, INT32_MAX, 1);
  if (!first_given) return std::move(first_given).failure();
  auto last_given = integer_arg(args, {"line_end"}, 1, INT32_MAX, INT32_MAX);
  if (!last_given) return std::move(last_given).failure();
  const std::int64_t first = *first_given, last = *last_given;
  if (last < first) return Error::invalid_argument("'line_end' must not be before 'line_start'");
  // The lines as an editor shows them: a line ends after its '\n' (kept in the text) or at the end of
  // the text, so a final '\n' ends the last line rather than starting an empty one. The whole
  // document's text is the stored text, as kb://document/{id} gives it.
  std::string out;
  std::int64_t total_lines = 0;
  std::size_t pos = 0;
  while (pos < text->size()) {
    auto nl = text->find('\n', pos);
    std::size_t next = nl == std::string::npos ? text->size() : nl + 1;
    ++total_lines;
    if (total_lines >= first && total_lines <= last) out.append(*text, pos, next - pos);
    pos = next;
  }
  // line_start 1 of an empty document is its (empty) text.
  if (first > std::max<std::int64_t>(total_lines, 1))
    return Error::invalid_argument("'line_start' is past the end of the document (" + std::to_string(total_lines) + " lines)");
  return json::object{{"document_id", doc->id}, {"source", doc->source}, {"path", doc->path}, {"title", doc->title},
                      {"kind", doc->kind}, {"line_start", first}, {"line_end", std::min(last, total_lines)},
                      {"total_lines", total_lines}, {"commit", doc->revision}, {"text", out}};
}

std::string Searcher::render_text(const json::object& answer) {
  std::ostringstream os;
  const auto& results = answer.at("results").as_array();
  os << results.size() << " result(s) for \"" << answer.at("query").as_string().c_str() << "\" (" << answer.at("mode").as_string().c_str()
     << " search)\n";
  int n = static_cast<int>(answer.at("offset").as_int64());
  for (const auto& r : results) {
    const auto& o = r.as_object();
    os << "\n" << ++n << ". " << o.at("source").as_string().c_str() << ":" << o.at("path").as_string().c_str() << " lines "
       << o.at("line_start").as_int64() << "-" << o.at("line_end").as_int64();
    if (!o.at("heading").as_string().empty()) os << " — " << o.at("heading").as_string().c_str();
    os << "\n   " << o.at("snippet").as_string().c_str() << "\n";
  }
  if (answer.contains("next_cursor")) os << "\nMore results: pass cursor " << answer.at("next_cursor").as_string().c_str() << "\n";
  if (answer.contains("note")) os << "\nNote: " << answer.at("note").as_string().c_str() << "\n";
  return os.str();
}

}  // namespace mcpd::packs::knowledge
