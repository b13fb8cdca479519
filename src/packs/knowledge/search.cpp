// Searcher implementation.
#include "packs/knowledge/search.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "core/cursor.hpp"

namespace mcpd::packs::knowledge {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxLimit = 100;
constexpr std::size_t kMaxOffset = 10000;

const json::value* field(const json::object& o, std::initializer_list<std::string_view> names) {
  for (auto n : names)
    if (auto v = o.if_contains(n); v && !v->is_null()) return v;
  return nullptr;
}

// Reads an optional integer argument within [lo, hi]; false with `error` when present but wrong.
bool integer_arg(const json::object& args, std::initializer_list<std::string_view> names, std::int64_t lo, std::int64_t hi,
                 std::int64_t& out, std::string& error) {
  const json::value* v = field(args, names);
  if (!v) return true;
  std::int64_t n = 0;
  if (v->is_int64()) n = v->get_int64();
  else if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) n = static_cast<std::int64_t>(v->get_uint64());
  else if (v->is_double() && v->get_double() == static_cast<double>(static_cast<std::int64_t>(v->get_double()))) n = static_cast<std::int64_t>(v->get_double());
  else {
    error = "'" + std::string(*names.begin()) + "' must be an integer";
    return false;
  }
  if (n < lo || n > hi) {
    error = "'" + std::string(*names.begin()) + "' must be between " + std::to_string(lo) + " and " + std::to_string(hi) +
            ", got " + std::to_string(n);
    return false;
  }
  out = n;
  return true;
}

bool string_arg(const json::object& args, std::string_view name, std::string& out, std::string& error) {
  auto v = args.if_contains(name);
  if (!v || v->is_null()) return true;
  if (!v->is_string()) {
    error = "'" + std::string(name) + "' must be a string";
    return false;
  }
  out = std::string(v->get_string());
  return true;
}

bool filters_arg(const json::object& args, Filters& f, std::string& error) {
  return string_arg(args, "source", f.source, error) && string_arg(args, "path_prefix", f.path_prefix, error) &&
         string_arg(args, "file_type", f.file_type, error) && string_arg(args, "updated_after", f.updated_after, error);
}

// offset, or a cursor this server issued.
bool offset_arg(const json::object& args, std::int64_t& offset, std::string& error) {
  if (!integer_arg(args, {"offset"}, 0, kMaxOffset, offset, error)) return false;
  if (auto c = args.if_contains("cursor"); c && !c->is_null()) {
    auto decoded = c->is_string() ? core::decode_cursor(c->get_string()) : std::nullopt;
    if (!decoded || *decoded > kMaxOffset) {
      error = "'cursor' is not a cursor this server issued";
      return false;
    }
    offset = static_cast<std::int64_t>(*decoded);
  }
  return true;
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
                                          std::size_t wanted, std::size_t per_doc, json::object& match) {
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
  if (hits.size() >= pool || all.terms.size() < 2 || capped_count(hits, per_doc) >= wanted) return hits;
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
    "similarity_threshold":{"type":"number","minimum":0,"maximum":1,"description":"Minimum cosine similarity (semantic and hybrid modes)"},
    "mode":{"type":"string","enum":["lexical","semantic","hybrid"],"description":"Default: the best mode the index supports"},
    "source":{"type":"string"},"path_prefix":{"type":"string"},
    "file_type":{"type":"string","description":"markdown, text, code, html, pdf, man, or an extension such as md"},
    "updated_after":{"type":"string","description":"ISO-8601 time; documents indexed at or after it"},
    "max_per_document":{"type":"integer","minimum":1,"maximum":20,"description":"Hits per document (default 3)"},
    "max_chars":{"type":"integer","minimum":500,"maximum":200000,"description":"Cap on the answer's snippet text (default 20000)"}}})J").as_object();
}

json::object Searcher::list_schema() {
  return json::parse(R"J({"type":"object","properties":{
    "source":{"type":"string"},"path_prefix":{"type":"string"},"file_type":{"type":"string"},"updated_after":{"type":"string"},
    "limit":{"type":"integer","minimum":1,"maximum":500,"description":"Default 50"},
    "offset":{"type":"integer","minimum":0},"cursor":{"type":"string"}}})J").as_object();
}

SearchOutcome Searcher::search(const json::object& args) {
  std::string error;
  const json::value* q = field(args, {"query", "q"});
  if (!q || !q->is_string()) return std::string("'query' is required and must be a string");
  std::string query = trim(std::string(q->get_string()));
  if (query.empty()) return std::string("'query' must not be empty");
  if (query.size() > 2000) return std::string("'query' must be at most 2000 characters");
  std::int64_t limit = 10, offset = 0, per_doc = 3, max_chars = 20000;
  if (!integer_arg(args, {"limit", "top_k"}, 1, kMaxLimit, limit, error) || !offset_arg(args, offset, error) ||
      !integer_arg(args, {"max_per_document"}, 1, 20, per_doc, error) ||
      !integer_arg(args, {"max_chars"}, 500, 200000, max_chars, error))
    return error;
  double threshold = 0;
  bool threshold_given = false;
  if (auto t = args.if_contains("similarity_threshold"); t && !t->is_null()) {
    if (!t->is_number() || t->to_number<double>() < 0 || t->to_number<double>() > 1)
      return std::string("'similarity_threshold' must be a number between 0 and 1");
    threshold = t->to_number<double>();
    threshold_given = true;
  }
  std::string mode;
  if (!string_arg(args, "mode", mode, error)) return error;
  if (mode.empty()) mode = embedder_ ? "hybrid" : "lexical";
  if (mode != "lexical" && mode != "semantic" && mode != "hybrid")
    return "'mode' must be lexical, semantic or hybrid, got '" + mode + "'";
  if (mode != "lexical" && !embedder_)
    return "mode '" + mode + "' needs an embedding provider, and this index has none: use mode 'lexical' "
           "(or configure packs.knowledge.embeddings)";
  Filters filters;
  if (!filters_arg(args, filters, error)) return error;

  LexicalQuery words = parse_lexical_query(query);
  if (words.empty() && mode == "lexical") return std::string("'query' has no searchable words");
  // Fetch enough rows to fill the page after capping hits per document.
  std::size_t wanted = static_cast<std::size_t>(offset + limit);
  std::size_t pool = wanted * 4 + 8;
  std::vector<Hit> lexical, semantic;
  json::object match;  // which words the lexical tiers asked for
  if (mode != "semantic" && !words.empty())
    lexical = lexical_search(words, filters, pool, wanted, static_cast<std::size_t>(per_doc), match);
  std::vector<float> vector;
  if (mode != "lexical") {
    try {
      vector = embedder_->embed({query}).at(0);
    } catch (const std::exception& e) {
      return "the " + mode + " search could not embed the query (" + std::string(e.what()) +
             "); retry, or use mode 'lexical'";
    }
    std::vector<std::int64_t> ids;
    std::map<std::int64_t, float> similarity;
    for (const auto& [id, sim] : vectors_.search(vector, pool * 2))
      if (sim >= threshold) {
        ids.push_back(id);
        similarity[id] = sim;
      }
    semantic = store_.hits_for_chunks(ids, filters);
    for (auto& h : semantic) h.score = similarity[h.chunk_id];
  }
  std::vector<Hit> ranked;
  if (mode == "lexical") ranked = std::move(lexical);
  else if (mode == "semantic") ranked = std::move(semantic);
  else ranked = fuse(std::move(lexical), std::move(semantic), vector);
  std::map<std::int64_t, int> per_document;
  std::vector<Hit> capped;
  for (auto& h : ranked)
    if (++per_document[h.document_id] <= per_doc) capped.push_back(std::move(h));

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
  if (threshold_given && mode == "lexical")
    answer["note"] = "similarity_threshold applies to semantic and hybrid modes; this search was lexical";
  if (!truncated && capped.size() > wanted) answer["next_cursor"] = core::encode_cursor(wanted);
  return answer;
}

SearchOutcome Searcher::list(const json::object& args) {
  std::string error;
  std::int64_t limit = 50, offset = 0;
  if (!integer_arg(args, {"limit"}, 1, 500, limit, error) || !offset_arg(args, offset, error)) return error;
  Filters filters;
  if (!filters_arg(args, filters, error)) return error;
  std::int64_t total = 0;
  auto docs = store_.list(filters, static_cast<std::size_t>(limit), static_cast<std::size_t>(offset), total);
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

SearchOutcome Searcher::get(const json::object& args) {
  std::string error, source, path;
  if (!string_arg(args, "source", source, error) || !string_arg(args, "path", path, error)) return error;
  if (source.empty() || path.empty()) return std::string("'source' and 'path' are required");
  auto doc = store_.find(source, path);
  if (!doc) return "no document '" + path + "' in source '" + source + "'; list_documents shows what is indexed";
  auto text = store_.text(doc->id);
  if (!text) return "document '" + path + "' disappeared while being read; try again";
  std::int64_t first = 1, last = INT32_MAX;
  if (!integer_arg(args, {"line_start"}, 1, INT32_MAX, first, error) || !integer_arg(args, {"line_end"}, 1, INT32_MAX, last, error))
    return error;
  if (last < first) return std::string("'line_end' must not be before 'line_start'");
  std::string out;
  std::int64_t line = 1, total_lines = 0;
  std::size_t pos = 0;
  while (pos <= text->size()) {
    auto nl = text->find('\n', pos);
    std::size_t end = nl == std::string::npos ? text->size() : nl;
    ++total_lines;
    if (line >= first && line <= last) {
      out.append(*text, pos, end - pos);
      out.push_back('\n');
    }
    ++line;
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  if (first > total_lines) return "'line_start' is past the end of the document (" + std::to_string(total_lines) + " lines)";
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
  return os.str();
}

}  // namespace mcpd::packs::knowledge
